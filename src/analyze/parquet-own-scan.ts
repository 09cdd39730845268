import { join } from 'node:path'
import type { Connection, Database } from '@duckdb/node-bindings'
import { makeScratchDir, removeScratchDir } from '../ops/scratch-dirs.js'
import { ChunkCursor, castSql, kindOf } from '../read/chunk-cursor.js'
import { type DuckdbBindings, duckdbBindings, sqlIdentifier, sqlString } from '../read/duckdb-connection.js'
import { type FileSchema, familyOf, objectSchema } from '../read/file-schema.js'
import type { FlowRow, ParquetFiles } from '../read/index.js'
import { describe, execute, timeRangeSql } from '../read/parquet-scan.js'
import { inTimeRange } from '../read/record-cursor.js'
import { ANALYSIS_DUCKDB_MEMORY_LIMIT } from '../sql/flows-database.js'
import { type Flow, flowMaker } from './flow.js'

/**
 * Local Parquet files read by an analysis's own DuckDB query, with only the columns of the fields
 * it reads (the reader's scan takes them all), in one of two orders:
 * - `conversation`: sorted by DuckDB inside its scan of the files, so no record passes through
 *   JavaScript on its way to the sort (as it must for text files, replay-order.ts). Rows come a
 *   conversation group at a time (conversationGroup in rejudge.ts, worked out in SQL: every record
 *   of a connection has the group of the others), each group by start, then in the order the
 *   reader reads them (file, then row in the file), within --since/--until (the reader's test, as
 *   SQL). DuckDB keeps to ANALYSIS_DUCKDB_MEMORY_LIMIT and spills beyond it.
 * - `read`: the reader's own order (file, then row), within --since/--until tested as the reader
 *   tests it.
 * Rows are counted in the read's stats as the reader counts them.
 *
 * Null, and nothing counted, when the files cannot be read so: for `conversation`, a start or end
 * column that is not a number (the sort would not be the order of the values JavaScript reads),
 * a protocol or port column that is not an integer (SQL could group differently spelled equal
 * values apart), start-ms (a finer start than the column) or a field in `refuse`; for both, files
 * DuckDB cannot open (the reader then reads and reports them).
 */
export interface OwnScan {
  /** Rows the files hold (before since/until): at least as many as `batches` yields. */
  readonly total: number
  /** The rows, a chunk at a time; each chunk's rows are counted in the read's stats. */
  batches(): AsyncGenerator<FlowRow[]>
  /** The same, each row made a Flow (toFlow's) straight from DuckDB's chunk, no row object between. */
  flows(): AsyncGenerator<Flow[]>
  /**
   * In conversation order: the Flows of a chunk, with each one's conversation group and its place
   * in the reader's order (file index · 2^32 + row in the file).
   */
  conversations(): AsyncGenerator<{ flows: Flow[]; groups: number[]; seqs: number[] }>
  close(): void
}

/** How often DuckDB's progress is passed to the read's progress bar (ms). */
const PROGRESS_EVERY = 200

export function parquetInConversationOrder(
  parquet: ParquetFiles,
  fields: ReadonlySet<string>,
  refuse: readonly string[],
): Promise<OwnScan | null> {
  return ownScan(parquet, fields, 'conversation', refuse)
}

export function parquetInReadOrder(
  parquet: ParquetFiles,
  fields: ReadonlySet<string>,
): Promise<OwnScan | null> {
  return ownScan(parquet, fields, 'read', [])
}

async function ownScan(
  parquet: ParquetFiles,
  fields: ReadonlySet<string>,
  order: 'conversation' | 'read',
  refuse: readonly string[],
): Promise<OwnScan | null> {
  const duckdb = duckdbBindings()
  const spill = makeScratchDir('flowlog-order-')
  let database: Database | null = null
  let connection: Connection | null = null
  const close = () => {
    if (connection !== null) duckdb.disconnect_sync(connection)
    if (database !== null) duckdb.close_sync(database)
    connection = null
    database = null
    removeScratchDir(spill)
  }
  try {
    database = await duckdb.open(':memory:')
    const db = await duckdb.connect(database)
    connection = db
    for (const setting of [
      `SET memory_limit = '${ANALYSIS_DUCKDB_MEMORY_LIMIT}'`,
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
    const { start, end } = full
    const number = (c: number) => c >= 0 && c < names.length && kinds[c] !== 'text'
    const absent = (c: number) => c < 0 || c >= names.length
    const group = order === 'conversation' ? groupSql(names, kinds, full) : null
    if (
      order === 'conversation' &&
      (group === null ||
        !number(start) ||
        !(number(end) || absent(end)) ||
        own('start-ms') ||
        refuse.some(own))
    ) {
      close()
      return null
    }
    // The time columns stay for the time range.
    const kept = columns.filter(
      (_, c) => c === start || c === end || full.rowNames[c]!.some((n) => fields.has(n)),
    )
    const { schema } = objectSchema(
      kept.map((c) => c.name),
      familyOf(names),
    )
    const since = parquet.options.since ?? Number.NEGATIVE_INFINITY
    const until = parquet.options.until ?? Number.POSITIVE_INFINITY
    const timed = Number.isFinite(since) || Number.isFinite(until)
    const cast = kept.map((c) => castSql(c.name, c.type)).join(', ')
    // The group and read position follow the kept columns (the cursor reads them by number).
    const groupColumn = kept.length
    const seqColumn = kept.length + 1
    const sql =
      order === 'conversation'
        ? `SELECT ${cast}, ${group} AS flowlog_group,
            CAST(file_index AS DOUBLE) * 4294967296 + file_row_number AS flowlog_seq
          FROM ${source}
          ${timed ? `WHERE ${timeRangeSql(names, full, since, until)}` : ''}
          ORDER BY flowlog_group, ${sqlIdentifier(names[start]!)}, file_index, file_row_number`
        : `SELECT ${cast} FROM ${source}`
    // In read order the time range is tested on each row, as the reader tests it.
    const test = order === 'read' && timed
    const total = await rowCount(duckdb, db, list)
    // A sort reads every file before its first row comes out; a file DuckDB cannot read fails it
    // here, before anything is counted, and the caller reads the files as the reader would.
    const run = async () => {
      const result = await execute(duckdb, db, sql, true)
      return { result, first: await duckdb.fetch_chunk(result) }
    }
    const opened = await (order === 'conversation' ? sorting(duckdb, db, parquet, run) : run()).catch(
      () => null,
    )
    if (opened === null) {
      close()
      return null
    }
    const stats = parquet.begin()
    const cursor = new ChunkCursor(duckdb, schema, [
      ...kept.map((c) => kindOf(c.type)),
      ...(order === 'conversation' ? (['double', 'double'] as const) : []),
    ])
    const progress = streamProgress(duckdb, db, parquet)
    // Field name → the column a row takes it from (toRow: the last column that carries it).
    const fieldColumns = new Map<string, number>()
    const width = Math.min(schema.rowNames.length, kept.length)
    for (let c = 0; c < width; c++) for (const name of schema.rowNames[c]!) fieldColumns.set(name, c)
    const makeFlow = flowMaker<ChunkCursor>((name) => {
      const c = fieldColumns.get(name)
      if (c === undefined) return undefined
      return schema.numeric[c] ? (at) => at.number(c) : (at) => at.text(c)
    })
    async function* records<R>(make: () => R): AsyncGenerator<R[]> {
      if (opened === null) return
      let chunk = opened.first
      while (chunk !== null) {
        const size = cursor.load(chunk)
        if (size === 0) break
        // The next chunk is copied out of the result while this one is read.
        const next = duckdb.fetch_chunk(opened.result)
        try {
          const rows: R[] = []
          for (let row = 0; row < size; row++) {
            cursor.row = row
            if (test && !inTimeRange(cursor, since, until)) continue
            rows.push(make())
          }
          stats.rows += rows.length
          if (order === 'read') progress?.(stats.rows)
          yield rows
        } finally {
          // A caller that stops early leaves the fetch running; its outcome no longer matters.
          next.catch(() => {})
        }
        try {
          chunk = await next
        } catch (error) {
          // A file that fails half way (its footer was readable) ends the scan as it ends the
          // reader's: one bad line, on the first file, and the records read so far stand.
          stats.badLines++
          const message = error instanceof Error ? error.message : String(error)
          parquet.options.onBadLine?.(parquet.files[0]?.name ?? '', 0, `cannot read the file: ${message}`)
          break
        }
      }
      progress?.(stats.rows, true)
    }
    async function* conversations(): AsyncGenerator<{ flows: Flow[]; groups: number[]; seqs: number[] }> {
      let groups: number[] = []
      let seqs: number[] = []
      const make = () => {
        groups.push(cursor.number(groupColumn) ?? 0)
        seqs.push(cursor.number(seqColumn) ?? 0)
        return makeFlow(cursor)
      }
      for await (const flows of records(make)) {
        yield { flows, groups, seqs }
        groups = []
        seqs = []
      }
    }
    return {
      total,
      batches: () => records(() => cursor.toRow()),
      flows: () => records(() => makeFlow(cursor)),
      conversations,
      close,
    }
  } catch (error) {
    close()
    throw error
  }
}

/**
 * conversationGroup (rejudge.ts) as SQL over the files' columns, each field taken as flowMaker
 * takes it (the first of its names with a value); null when the protocol is missing or it or a
 * port column is not an integer column (a text '080' and 80 are one port to JavaScript).
 */
function groupSql(names: readonly string[], kinds: readonly string[], full: FileSchema): string | null {
  // Field name → the column a row takes it from (toRow: the last column that carries it).
  const columnOf = new Map<string, number>()
  for (let c = 0; c < names.length; c++) for (const name of full.rowNames[c] ?? []) columnOf.set(name, c)
  const field = (...fieldNames: string[]): string | null => {
    const columns = fieldNames.flatMap((n) => {
      const c = columnOf.get(n)
      return c === undefined ? [] : [c]
    })
    if (columns.some((c) => kinds[c] !== 'integer' && kinds[c] !== 'bigint')) return null
    return `CAST(coalesce(${[...columns.map((c) => sqlIdentifier(names[c]!)), '0'].join(', ')}) AS DOUBLE)`
  }
  if (!columnOf.has('protocol')) return null
  const protocol = field('protocol')
  const src = field('srcport', 'src_port')
  const dst = field('dstport', 'dst_port')
  if (protocol === null || src === null || dst === null) return null
  return `CASE WHEN ${protocol} IN (6, 17)
      THEN (${protocol} * 65536 + least(${src}, ${dst})) * 65536 + greatest(${src}, ${dst})
      ELSE ${protocol} * 4294967296 END`
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

/** Passes DuckDB's progress in a streamed scan to the read's progress bar, now and then. */
function streamProgress(
  duckdb: DuckdbBindings,
  connection: Connection,
  parquet: ParquetFiles,
): ((rows: number, done?: boolean) => void) | null {
  const onProgress = parquet.options.onProgress
  if (onProgress === undefined) return null
  const files = parquet.files.length
  const bytes = parquet.files.reduce((sum, f) => sum + f.size, 0)
  let last = 0
  return (rows, done = false) => {
    const now = Date.now()
    if (!done && now - last < PROGRESS_EVERY) return
    last = now
    const p = done ? 100 : duckdb.query_progress(connection).percentage
    if (p < 0) return
    const share = Math.min(p, 100) / 100
    onProgress({
      files,
      filesDone: Math.floor(files * share),
      bytes,
      bytesDone: Math.floor(bytes * share),
      rows,
    })
  }
}
