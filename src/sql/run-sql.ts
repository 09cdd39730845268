import type { DuckDBConnection } from '@duckdb/node-api'
import { InputError } from '../core/errors.js'
import { type Cell, type OutputFormat, RowWriter } from '../query/row-writer.js'
import type { ReadOptions, ReadStats } from '../read/read-options.js'
import { openFlowsDatabase } from './flows-database.js'

export interface SqlResult {
  stats: ReadStats
  rows: number
}

/**
 * Runs SQL over the sources' records (the `flows` table, see openFlowsDatabase) and writes the last
 * statement's result to `out` as it streams from DuckDB. Earlier statements (CREATE VIEW, SET, ...)
 * run first; their results are not shown. SQL that DuckDB cannot parse or bind (a typo, an unknown
 * column) is bad input; DuckDB's message names the problem.
 */
export async function runSql(
  sql: string,
  sources: readonly string[],
  options: ReadOptions & { format: OutputFormat },
  out: NodeJS.WritableStream,
): Promise<SqlResult> {
  if (sql.trim() === '')
    throw new InputError('the SQL is empty: give a query such as "SELECT count(*) FROM flows"')
  const db = await openFlowsDatabase(sources, options)
  try {
    const rows = await streamLast(db.connection, sql, options.format, out)
    return { stats: db.stats, rows }
  } finally {
    db.close()
  }
}

async function streamLast(
  connection: DuckDBConnection,
  sql: string,
  format: OutputFormat,
  out: NodeJS.WritableStream,
): Promise<number> {
  try {
    const statements = await connection.extractStatements(sql)
    if (statements.count === 0) throw new InputError(`"${sql}" holds no SQL statement`)
    for (let i = 0; i < statements.count - 1; i++) await (await statements.prepare(i)).run()
    const last = await statements.prepare(statements.count - 1)
    const result = await last.stream()
    const writer = new RowWriter(out, format, result.columnNames())
    for await (const rows of result.yieldRows()) {
      for (const row of rows) writer.row(row.map(cell))
      await writer.flush()
      if (writer.closed) break
    }
    await writer.end()
    return writer.rows
  } catch (error) {
    throw asInputError(error)
  }
}

/** DuckDB values: numbers, bigints, strings and booleans as they are; dates, times, lists, ... as text. */
function cell(value: unknown): Cell {
  if (value === null || value === undefined) return null
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return value
    case 'bigint':
      return Number.isSafeInteger(Number(value)) ? Number(value) : value
    default:
      return String(value)
  }
}

/** Errors in the user's SQL are bad input (exit 1); DuckDB says which kind in the message's first words. */
function asInputError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof InputError) return error
  if (/\b(Parser|Binder|Catalog|Syntax|Conversion|Invalid Input) Error\b/i.test(error.message)) {
    return new InputError(`SQL: ${error.message}`, [`SQL: ${error.message}`], { cause: error })
  }
  return error
}
