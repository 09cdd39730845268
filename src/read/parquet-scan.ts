import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Connection, DataChunk, PreparedStatement, Result } from '@duckdb/node-bindings'
import { makeScratchDir, removeScratchDir } from '../ops/scratch-dirs.js'
import { ChunkCursor, castSql, kindOf } from './chunk-cursor.js'
import { type DuckdbBindings, readerConnection, sqlIdentifier, sqlString } from './duckdb-connection.js'
import { type FileSchema, objectSchema } from './file-schema.js'
import { inTimeRange } from './record-cursor.js'
import type { ScanContext } from './scan-files.js'
import type { SourceFile } from './source-file.js'

/**
 * Parquet through DuckDB, several files in one scan (columns matched by name, as Athena does); rows
 * come in chunks of about 2048, and after each chunk it yields whether to go on. Files in object
 * storage are copied to a temporary folder first (DuckDB reads local files here).
 *
 * When the sink can say its test in SQL, the test runs inside DuckDB: a filtered scan runs to the
 * end on every core, skips what the files' statistics rule out, and hands over only the rows that
 * match. Rows are read in place from DuckDB's column vectors (ChunkCursor), never as row objects.
 */
export async function* scanParquet(
  files: readonly SourceFile[],
  context: ScanContext,
): AsyncGenerator<boolean> {
  const { duckdb, database, connection } = await readerConnection()
  let temporary: string | null = null
  let counting: Promise<number> | null = null
  const paths: string[] = []
  try {
    for (const [n, file] of files.entries()) {
      if (file.localPath !== null) {
        paths.push(file.localPath)
        continue
      }
      temporary ??= makeScratchDir('flowlog-parquet-')
      const path = join(temporary, `${n}.parquet`)
      await writeFile(path, await file.read())
      paths.push(path)
    }
    const list = `[${paths.map(sqlString).join(', ')}]`
    const source = `read_parquet(${list}, union_by_name = true)`
    // Preparing the plain scan binds it without running it: DuckDB reads every footer (and keeps
    // them for the scan) to tell the columns of all the files, in their order, and their types.
    const columns = await describe(duckdb, connection, `SELECT * FROM ${source}`)
    const names = columns.map((c) => c.name)
    const kinds = columns.map((c) => kindOf(c.type))
    const { schema } = objectSchema(names)
    const first = files[0]!
    const test = context.sink.bind(schema, first)
    const where = context.sink.sqlFor?.(schema, (field) => {
      // Column c of the schema is the files' column c; later ones are known fields they lack.
      const column = schema.index.get(field)
      return column !== undefined && column < names.length
        ? { name: names[column]!, numeric: kinds[column] !== 'text' }
        : null
    })
    const timed = context.options.since !== undefined || context.options.until !== undefined
    const since = context.options.since ?? Number.NEGATIVE_INFINITY
    const until = context.options.until ?? Number.POSITIVE_INFINITY
    // The filter runs on the columns cast to the kinds the cursor reads, so it sees the values
    // JavaScript would; comparisons on columns needing no cast (the usual case) still go into the
    // Parquet scan. (Nothing else is computed per row: an expression costs DuckDB a little for
    // every vector it reads, kept rows or not, which adds up over ten million rows.)
    const cast = columns.map((c) => castSql(c.name, c.type)).join(', ')
    const sql = `SELECT * FROM (SELECT ${cast} FROM ${source})${where ? ` WHERE ${where}` : ''}`
    // A filtered scan runs to the end on every core and hands over its (few) rows; a streamed
    // result would run it on one. Unfiltered scans stream, to keep every row out of memory at once.
    // DuckDB filters rows away unseen: they are counted from the files' metadata instead, on a
    // second connection while the first scans.
    // Within --since/--until only the rows of that time count, as in text files: then the count
    // reads the time columns rather than the footers.
    const countSql = timed
      ? `SELECT CAST(count(*) AS DOUBLE) FROM (SELECT ${cast} FROM ${source}) WHERE ${timeRangeSql(names, schema, since, until)}`
      : `SELECT CAST(coalesce(sum(num_rows), 0) AS DOUBLE) FROM parquet_file_metadata(${list})`
    counting = where ? duckdb.connect(database).then((second) => countRows(duckdb, second, countSql)) : null
    const result = await execute(duckdb, connection, sql, !where)
    const cursor = new ChunkCursor(duckdb, schema, kinds)
    for await (const chunk of chunksOf(duckdb, result)) {
      const size = cursor.load(chunk)
      for (let row = 0; row < size; row++) {
        cursor.row = row
        if (timed && !inTimeRange(cursor, since, until)) continue
        if (!where) {
          context.stats.rows++
          if (test !== null && !test(cursor)) continue
        }
        if (context.sink.take(cursor, first) === false) {
          yield false
          return
        }
      }
      yield true
    }
  } finally {
    try {
      if (counting !== null) context.stats.rows += await counting
    } finally {
      // Only once the count has read them.
      if (temporary !== null) removeScratchDir(temporary)
    }
  }
}

/**
 * A prepared query. DuckDB's message for a query it cannot bind (a file that is not Parquet) goes
 * on to quote the query, here a list of every file: that part is left out.
 */
export async function prepare(
  duckdb: DuckdbBindings,
  connection: Connection,
  sql: string,
): Promise<PreparedStatement> {
  try {
    return await duckdb.prepare(connection, sql)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    throw new Error(message.replace(/\n+LINE \d+:[\s\S]*$/, ''))
  }
}

/** The result columns of a query, by preparing it (nothing runs). */
export async function describe(
  duckdb: DuckdbBindings,
  connection: Connection,
  sql: string,
): Promise<{ name: string; type: number }[]> {
  const prepared = await prepare(duckdb, connection, sql)
  try {
    const count = duckdb.prepared_statement_column_count(prepared)
    return Array.from({ length: count }, (_, c) => ({
      name: duckdb.prepared_statement_column_name(prepared, c),
      type: duckdb.prepared_statement_column_type(prepared, c),
    }))
  } finally {
    duckdb.destroy_prepare_sync(prepared)
  }
}

export async function execute(
  duckdb: DuckdbBindings,
  connection: Connection,
  sql: string,
  streaming: boolean,
): Promise<Result> {
  const prepared = await prepare(duckdb, connection, sql)
  try {
    return streaming
      ? await duckdb.execute_prepared_streaming(prepared)
      : await duckdb.execute_prepared(prepared)
  } finally {
    duckdb.destroy_prepare_sync(prepared)
  }
}

/**
 * The chunks of a result, each fetched (copied out of the result, on the thread pool) while the
 * caller reads the one before.
 */
export async function* chunksOf(duckdb: DuckdbBindings, result: Result): AsyncGenerator<DataChunk> {
  let next = duckdb.fetch_chunk(result)
  try {
    for (;;) {
      const chunk = await next
      if (chunk === null || duckdb.data_chunk_get_size(chunk) === 0) return
      next = duckdb.fetch_chunk(result)
      yield chunk
    }
  } finally {
    // A caller that stops early leaves a fetch running; its outcome no longer matters.
    next.catch(() => {})
  }
}

/** The one number a counting query answers. */
async function countRows(duckdb: DuckdbBindings, connection: Connection, sql: string): Promise<number> {
  const chunk = await duckdb.fetch_chunk(await duckdb.query(connection, sql))
  if (chunk === null || duckdb.data_chunk_get_size(chunk) === 0) return 0
  const data = duckdb.vector_get_data(duckdb.data_chunk_get_vector(chunk, 0), 8)
  return new DataView(data.buffer, data.byteOffset, 8).getFloat64(0, true)
}

/**
 * inTimeRange (record-cursor.ts) as SQL over the files' columns: a row is out only when its last
 * time is before `since` or its first time at or after `until`; a missing time keeps it.
 */
export function timeRangeSql(
  names: readonly string[],
  schema: FileSchema,
  since: number,
  until: number,
): string {
  const column = (c: number) =>
    c >= 0 && c < names.length ? `TRY_CAST(${sqlIdentifier(names[c]!)} AS DOUBLE)` : 'NULL'
  const start = column(schema.start)
  const end = column(schema.end)
  const last = `coalesce(${end}, ${start})`
  const first = `coalesce(${start}, ${end})`
  const kept = ['TRUE']
  if (Number.isFinite(since)) kept.push(`(${last} IS NULL OR ${last} >= ${since})`)
  if (Number.isFinite(until)) kept.push(`(${first} IS NULL OR ${first} < ${until})`)
  return kept.join(' AND ')
}
