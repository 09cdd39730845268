import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Connection, Database } from '@duckdb/node-bindings'
import { ChunkCursor, castSql, kindOf } from '../read/chunk-cursor.js'
import { type DuckdbBindings, duckdbBindings, sqlIdentifier, sqlString } from '../read/duckdb-connection.js'
import { familyOf, objectSchema } from '../read/file-schema.js'
import type { FlowRow, ParquetFiles } from '../read/index.js'
import { describe, execute, timeRangeSql } from '../read/parquet-scan.js'
import { DUCKDB_MEMORY_LIMIT } from '../sql/flows-database.js'

/**
 * Local Parquet files in time order, sorted by DuckDB inside its own scan of the files: no record
 * passes through JavaScript on its way to the sort (as it must for text files, replay-order.ts).
 * Rows come by start, then in the order the reader reads them (file, then row in the file), within
 * --since/--until (the reader's test, as SQL), with only the columns of the fields the caller
 * reads. DuckDB keeps to DUCKDB_MEMORY_LIMIT and spills beyond it into a temporary directory.
 *
 * Null, and nothing counted, when the files cannot be sorted so: a start column that is not a
 * number (the sort would not be the order of the values JavaScript reads), start-ms (a finer start
 * than the column), a field in `refuse`, or files DuckDB cannot open (the reader then reports them).
 */
export interface InStartOrder {
  /** Rows the files hold (before since/until): at least as many as `batches` yields. */
  readonly total: number
  /** The sorted rows, a chunk at a time; each chunk's rows are counted in the read's stats. */
  batches(): AsyncGenerator<FlowRow[]>
  close(): void
}

/** How often DuckDB's progress in the sort is passed to the read's progress bar (ms). */
const PROGRESS_EVERY = 200

export async function parquetInStartOrder(
  parquet: ParquetFiles,
  fields: ReadonlySet<string>,
  refuse: readonly string[],
): Promise<InStartOrder | null> {
  const duckdb = duckdbBindings()
  const spill = mkdtempSync(join(tmpdir(), 'flowlog-order-'))
  let database: Database | null = null
  let connection: Connection | null = null
  const close = () => {
    if (connection !== null) duckdb.disconnect_sync(connection)
    if (database !== null) duckdb.close_sync(database)
    connection = null
    database = null
    rmSync(spill, { recursive: true, force: true })
  }
  try {
    database = await duckdb.open(':memory:')
    const db = await duckdb.connect(database)
    connection = db
    for (const setting of [
      `SET memory_limit = '${DUCKDB_MEMORY_LIMIT}'`,
      `SET temp_directory = ${sqlString(join(spill, 'spill'))}`,
      // Progress is asked for (query_progress) while the sort runs, never printed.
      'SET enable_progress_bar = true',
      'SET enable_progress_bar_print = false',
    ])
      await duckdb.query(db, setting)
    const list = `[${parquet.paths.map(sqlString).join(', ')}]`
    const source = `read_parquet(${list}, union_by_name = true)`
    const columns = await describe(duckdb, db, `SELECT * FROM ${source}`).catch(() => null)
    if (columns === null) {
      close()
      return null
    }
    const names = columns.map((c) => c.name)
    const kinds = columns.map((c) => kindOf(c.type))
    const { schema: full } = objectSchema(names)
    const own = (field: string) => {
      const c = full.index.get(field)
      return c !== undefined && c < names.length
    }
    const start = full.start
    if (
      start < 0 ||
      start >= names.length ||
      kinds[start] === 'text' ||
      own('start-ms') ||
      refuse.some(own)
    ) {
      close()
      return null
    }
    const kept = columns.filter((_, c) => c === start || full.rowNames[c]!.some((n) => fields.has(n)))
    const { schema } = objectSchema(
      kept.map((c) => c.name),
      familyOf(names),
    )
    const since = parquet.options.since ?? Number.NEGATIVE_INFINITY
    const until = parquet.options.until ?? Number.POSITIVE_INFINITY
    const timed = Number.isFinite(since) || Number.isFinite(until)
    const sql = `SELECT ${kept.map((c) => castSql(c.name, c.type)).join(', ')} FROM ${source}
      ${timed ? `WHERE ${timeRangeSql(names, full, since, until)}` : ''}
      ORDER BY ${sqlIdentifier(names[start]!)}, file_index, file_row_number`
    const total = await rowCount(duckdb, db, list)
    // The sort reads every file before its first row comes out; a file DuckDB cannot read fails it
    // here, before anything is counted, and the caller reads the files as the reader would.
    const sorted = await sorting(duckdb, db, parquet, async () => {
      const result = await execute(duckdb, db, sql, true)
      return { result, first: await duckdb.fetch_chunk(result) }
    }).catch(() => null)
    if (sorted === null) {
      close()
      return null
    }
    const stats = parquet.begin()
    const cursor = new ChunkCursor(
      duckdb,
      schema,
      kept.map((c) => kindOf(c.type)),
    )
    async function* batches(): AsyncGenerator<FlowRow[]> {
      if (sorted === null) return
      let chunk = sorted.first
      while (chunk !== null) {
        const size = cursor.load(chunk)
        if (size === 0) return
        // The next chunk is copied out of the result while this one is read.
        const next = duckdb.fetch_chunk(sorted.result)
        try {
          const rows: FlowRow[] = new Array(size)
          for (let row = 0; row < size; row++) {
            cursor.row = row
            rows[row] = cursor.toRow()
          }
          stats.rows += size
          yield rows
        } finally {
          // A caller that stops early leaves the fetch running; its outcome no longer matters.
          next.catch(() => {})
        }
        chunk = await next
      }
    }
    return { total, batches, close }
  } catch (error) {
    close()
    throw error
  }
}

/** The rows of the files, from their footers. */
async function rowCount(duckdb: DuckdbBindings, connection: Connection, list: string): Promise<number> {
  const chunk = await duckdb.fetch_chunk(
    await duckdb.query(
      connection,
      `SELECT CAST(coalesce(sum(num_rows), 0) AS DOUBLE) FROM parquet_file_metadata(${list})`,
    ),
  )
  if (chunk === null || duckdb.data_chunk_get_size(chunk) === 0) return 0
  const data = duckdb.vector_get_data(duckdb.data_chunk_get_vector(chunk, 0), 8)
  return new DataView(data.buffer, data.byteOffset, 8).getFloat64(0, true)
}

/**
 * Runs the sorting query, passing DuckDB's progress on to the read's progress bar meanwhile (the
 * sort reads every file before the first row comes out: that is the read, as the bar sees it).
 */
async function sorting<T>(
  duckdb: DuckdbBindings,
  connection: Connection,
  parquet: ParquetFiles,
  run: () => Promise<T>,
): Promise<T> {
  const onProgress = parquet.options.onProgress
  if (onProgress === undefined) return run()
  const files = parquet.files.length
  const bytes = parquet.files.reduce((sum, f) => sum + f.size, 0)
  const report = (share: number, rows: number) =>
    onProgress({
      files,
      filesDone: Math.floor(files * share),
      bytes,
      bytesDone: Math.floor(bytes * share),
      rows,
    })
  let rows = 0
  const timer = setInterval(() => {
    const p = duckdb.query_progress(connection)
    if (p.percentage < 0) return
    rows = Number(p.rows_processed)
    report(Math.min(p.percentage, 100) / 100, rows)
  }, PROGRESS_EVERY)
  try {
    return await run()
  } finally {
    clearInterval(timer)
    report(1, rows)
  }
}
