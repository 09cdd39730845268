import type { DuckDBConnection } from '@duckdb/node-api'
import { InputError } from '../core/errors.js'
import { type Cell, type OutputFormat, RowWriter } from '../query/row-writer.js'
import type { ReadOptions, ReadStats } from '../read/read-options.js'
import { openFlowsDatabase } from './flows-database.js'
import { statementColumns } from './statement-columns.js'

export interface SqlResult {
  stats: ReadStats
  rows: number
  /** Columns left out of a table because no record has a value in them (SELECT * on flows). */
  hidden: string[]
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
  // Text records are staged with only the columns the statement reads (when DuckDB can tell).
  const columns = await statementColumns(sql)
  const db = await openFlowsDatabase(sources, options, {
    textRecords: 'staged',
    ...(columns === null ? {} : { columns }),
  })
  try {
    // A table of `SELECT *` would be a hundred columns of "-" for fields the sources do not carry:
    // those are left out of tables (CSV and JSON keep every column, as a program expects).
    const empty = options.format === 'table' ? await db.emptyColumns() : new Set<string>()
    const { rows, hidden } = await streamLast(db.connection, sql, options.format, out, empty)
    return { stats: db.stats, rows, hidden }
  } finally {
    db.close()
  }
}

async function streamLast(
  connection: DuckDBConnection,
  sql: string,
  format: OutputFormat,
  out: NodeJS.WritableStream,
  empty: ReadonlySet<string>,
): Promise<{ rows: number; hidden: string[] }> {
  try {
    const statements = await connection.extractStatements(sql)
    if (statements.count === 0) throw new InputError(`"${sql}" holds no SQL statement`)
    for (let i = 0; i < statements.count - 1; i++) await (await statements.prepare(i)).run()
    const last = await statements.prepare(statements.count - 1)
    const result = await last.stream()
    const names = result.columnNames()
    // Only when other columns remain: a query that selects just empty columns shows them.
    const keep = names.map((n) => !empty.has(n))
    const hiding = keep.some((k) => k) && keep.some((k) => !k)
    const shown = hiding ? names.filter((_, i) => keep[i]) : names
    const writer = new RowWriter(out, format, shown)
    for await (const rows of result.yieldRows()) {
      for (const row of rows) writer.row(hiding ? row.filter((_, i) => keep[i]).map(cell) : row.map(cell))
      await writer.flush()
      if (writer.closed) break
    }
    await writer.end()
    return { rows: writer.rows, hidden: hiding ? names.filter((_, i) => !keep[i]) : [] }
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
