import { createRequire } from 'node:module'
import type * as Duckdb from '@duckdb/node-bindings'

/** DuckDB's C API, as its native module exposes it. */
export type DuckdbBindings = typeof Duckdb

export interface ReaderConnection {
  readonly duckdb: DuckdbBindings
  readonly database: Duckdb.Database
  readonly connection: Duckdb.Connection
}

/**
 * One in-memory DuckDB for the reader's own needs (Parquet files), made on first use. The SQL side
 * opens its own database per command (src/sql), which owns a `flows` table the reader must not see.
 */
let shared: Promise<ReaderConnection> | null = null

/**
 * DuckDB is loaded on first use: reading text files never pays for it. The reader talks to the
 * native bindings directly, loaded with require: @duckdb/node-api's friendlier wrapper is some 80
 * JavaScript modules that take longer to load (about 0.1 s through import) than a selective query
 * over a hundred Parquet files takes to run.
 */
export function readerConnection(): Promise<ReaderConnection> {
  shared ??= (async () => {
    const duckdb = duckdbBindings()
    const database = await duckdb.open(':memory:')
    const connection = await duckdb.connect(database)
    // A Parquet scan reads each file's footer for the schema, the row count and the rows: once.
    await duckdb.query(connection, 'SET parquet_metadata_cache = true')
    return { duckdb, database, connection }
  })()
  return shared
}

/** DuckDB's native bindings (see readerConnection for why not @duckdb/node-api). */
export function duckdbBindings(): DuckdbBindings {
  return createRequire(import.meta.url)('@duckdb/node-bindings') as DuckdbBindings
}

/** A string as a SQL literal. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`
}

/** A name as a SQL identifier (always quoted: `end`, `date` and `type` are keywords). */
export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}
