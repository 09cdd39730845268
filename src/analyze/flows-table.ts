import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import type { FlowRow } from './flow-row.js'

/**
 * The DuckDB table `flows` that reports query: AWS's Athena columns (field names with
 * underscores, DESIGN 6), plus flowlog's rule_id and reject_reason_detail.
 *
 * INTERIM: loads rows through an appender. When src/sql lands, `openFlowsTable` opens its
 * database over the sources instead (same table name and columns, so the report SQL is unchanged).
 */

type ColumnType = 'VARCHAR' | 'INTEGER' | 'BIGINT'

/** Athena's DDL for flow logs v2-v5 (reference 8.1), in its order, then flowlog's extras. */
export const FLOWS_COLUMNS: readonly (readonly [string, ColumnType])[] = [
  ['version', 'INTEGER'],
  ['account_id', 'VARCHAR'],
  ['interface_id', 'VARCHAR'],
  ['srcaddr', 'VARCHAR'],
  ['dstaddr', 'VARCHAR'],
  ['srcport', 'INTEGER'],
  ['dstport', 'INTEGER'],
  ['protocol', 'BIGINT'],
  ['packets', 'BIGINT'],
  ['bytes', 'BIGINT'],
  ['start', 'BIGINT'],
  ['end', 'BIGINT'],
  ['action', 'VARCHAR'],
  ['log_status', 'VARCHAR'],
  ['vpc_id', 'VARCHAR'],
  ['subnet_id', 'VARCHAR'],
  ['instance_id', 'VARCHAR'],
  ['tcp_flags', 'INTEGER'],
  ['type', 'VARCHAR'],
  ['pkt_srcaddr', 'VARCHAR'],
  ['pkt_dstaddr', 'VARCHAR'],
  ['region', 'VARCHAR'],
  ['az_id', 'VARCHAR'],
  ['sublocation_type', 'VARCHAR'],
  ['sublocation_id', 'VARCHAR'],
  ['pkt_src_aws_service', 'VARCHAR'],
  ['pkt_dst_aws_service', 'VARCHAR'],
  ['flow_direction', 'VARCHAR'],
  ['traffic_path', 'INTEGER'],
  ['rule_id', 'VARCHAR'],
  ['reject_reason_detail', 'VARCHAR'],
]

export interface FlowsTable {
  connection: DuckDBConnection
  close(): void
}

function cell(row: FlowRow, column: string): unknown {
  const v = row[column.replaceAll('_', '-')]
  if (v === null || v === undefined || v === '-' || v === '') return null
  // NHN's verdict name; the table speaks AWS.
  if (column === 'action' && v === 'DROP') return 'REJECT'
  return v
}

export async function openFlowsTable(rows: AsyncIterable<FlowRow> | Iterable<FlowRow>): Promise<FlowsTable> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' })
  const connection = await instance.connect()
  const close = () => {
    connection.closeSync()
    instance.closeSync()
  }
  try {
    const ddl = FLOWS_COLUMNS.map(([name, type]) => `"${name}" ${type}`).join(', ')
    await connection.run(`CREATE TABLE flows (${ddl})`)
    const appender = await connection.createAppender('flows')
    for await (const row of rows) {
      for (const [name, type] of FLOWS_COLUMNS) {
        const v = cell(row, name)
        const n = typeof v === 'number' || typeof v === 'bigint' ? v : Number(v)
        if (v === null) appender.appendNull()
        else if (type === 'VARCHAR') appender.appendVarchar(String(v))
        else if (typeof n === 'bigint' || Number.isFinite(n)) {
          if (type === 'BIGINT') appender.appendBigInt(BigInt(typeof n === 'bigint' ? n : Math.trunc(n)))
          else appender.appendInteger(Number(n))
        } else appender.appendNull()
      }
      appender.endRow()
    }
    appender.closeSync()
    return { connection, close }
  } catch (error) {
    close()
    throw error
  }
}
