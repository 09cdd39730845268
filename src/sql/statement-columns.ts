import { DuckDBInstance } from '@duckdb/node-api'
import { sqlIdentifier } from '../read/duckdb-connection.js'
import { STORED_COLUMNS } from './flows-columns.js'
import { defineFlows } from './flows-database.js'

/**
 * The stored columns of `flows` one statement reads, before any record is: DuckDB plans it over an
 * empty `flow_records` table and says which columns its scans of it read. `sql` then stages only
 * those of the text records (openFlowsDatabase's `columns`): a sum of bytes per source copies two
 * fields of every line, not fourteen, and at 10 M records writes 200 MB of staging files rather
 * than a gigabyte.
 *
 * Only the optimizers that drop unread columns run: pushed-down filters would hide the columns
 * they test from the scan's list, and on an empty table the statistics would plan no scan at all.
 * Null (stage every column) when the SQL is not one statement, or DuckDB cannot plan it here (the
 * real run then says why).
 */
export async function statementColumns(sql: string): Promise<Set<string> | null> {
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  try {
    const statements = await connection.extractStatements(sql).catch(() => null)
    if (statements === null || statements.count !== 1) return null
    const columns = STORED_COLUMNS.map((c) => `${sqlIdentifier(c.column)} ${c.type}`).join(', ')
    await connection.run(`CREATE TABLE flow_records (${columns})`)
    await defineFlows(connection)
    const optimizers = (await connection.runAndReadAll('SELECT name FROM duckdb_optimizers()'))
      .getRows()
      .map(([name]) => String(name))
      .filter((name) => !COLUMN_OPTIMIZERS.has(name))
    await connection.run(`SET disabled_optimizers = '${optimizers.join(',')}'`)
    const explained = await connection
      .runAndReadAll(`EXPLAIN (FORMAT json) ${sql.trim().replace(/;\s*$/, '')}`)
      .catch(() => null)
    const plan = explained?.getRows()[0]?.[1]
    if (typeof plan !== 'string') return null
    const read = new Set<string>()
    const visit = (node: PlanNode) => {
      const info = node.extra_info
      if (typeof info?.Table === 'string' && /(^|\.)flow_records$/.test(info.Table)) {
        const projected = info.Projections ?? []
        for (const column of typeof projected === 'string' ? [projected] : projected)
          if (column !== '') read.add(column)
      }
      for (const child of node.children ?? []) visit(child)
    }
    for (const node of JSON.parse(plan) as PlanNode[]) visit(node)
    return read
  } finally {
    connection.closeSync()
    instance.closeSync()
  }
}

/** The optimizers that take unread columns out of a plan (duckdb_optimizers()). */
const COLUMN_OPTIMIZERS = new Set(['unused_columns', 'column_lifetime'])

/** A node of DuckDB's `EXPLAIN (FORMAT json)`. */
interface PlanNode {
  extra_info?: { Table?: unknown; Projections?: string | string[] }
  children?: PlanNode[]
}
