import type { DuckDBConnection } from '@duckdb/node-api'

/**
 * One in-memory DuckDB for the reader's own needs (Parquet files), made on first use. The SQL side
 * opens its own database per command (src/sql), which owns a `flows` table the reader must not see.
 */
let shared: Promise<DuckDBConnection> | null = null

/** DuckDB is loaded on first use: reading text files never pays for it. */
export function readerConnection(): Promise<DuckDBConnection> {
  shared ??= import('@duckdb/node-api')
    .then(({ DuckDBInstance }) => DuckDBInstance.create(':memory:'))
    .then((instance) => instance.connect())
    .then(async (connection) => {
      // A Parquet scan reads each file's footer for the schema, the row count and the rows: once.
      await connection.run('SET parquet_metadata_cache = true')
      return connection
    })
  return shared
}

/** A string as a SQL literal. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`
}

/** A name as a SQL identifier (always quoted: `end`, `date` and `type` are keywords). */
export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}
