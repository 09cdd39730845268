import {
  BIGINT,
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBType,
  INTEGER,
  VARCHAR,
} from '@duckdb/node-api'
import { sqlIdentifier } from '../read/duckdb-connection.js'
import type { FlowRow } from '../read/flow-row.js'
import { readFlows } from '../read/read-flows.js'
import type { ReadOptions, ReadStats } from '../read/read-options.js'
import { defineAthenaFunctions } from './athena-functions.js'
import { registerCommunityId } from './community-id-function.js'
import { type FlowsColumn, STORED_COLUMNS } from './flows-columns.js'

/**
 * An in-memory DuckDB holding flow-log records as `flows`, the table AWS's Athena DDL defines
 * (reference 8.1): columns named with underscores (`srcaddr`, `log_status`, `interface_id`, ...),
 * every field flowlog knows (NULL where the sources lack it), plus
 *
 * - `community_id`: Community ID v1 of the record (computed when read);
 * - `date`: the UTC date of `start`, standing in for Athena's `date` partition column.
 *
 * Athena/Presto functions that DuckDB lacks (from_unixtime, to_iso8601, day_of_week, ...) are
 * defined as macros, and the session time zone is UTC, so Athena's sample queries run unchanged.
 *
 *   const db = await openFlowsDatabase(['logs/'], { since })
 *   const rows = (await db.connection.runAndReadAll('SELECT srcaddr, sum(bytes) FROM flows GROUP BY 1')).getRowObjectsJS()
 *   db.close()
 *
 * The records are read by the same reader as `flowlog query` (readFlows), so SQL and query see the
 * same records; `stats` is complete when the promise resolves.
 */
export interface FlowsDatabase {
  readonly connection: DuckDBConnection
  readonly stats: ReadStats
  close(): void
}

const SQL_TYPES: Record<FlowsColumn['type'], DuckDBType> = { INTEGER, BIGINT, VARCHAR }
/** DuckDB's vector size: appending chunks of this many rows is cheapest. */
const CHUNK_ROWS = 2048

export async function openFlowsDatabase(
  sources: readonly string[],
  options: ReadOptions = {},
): Promise<FlowsDatabase> {
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  try {
    await connection.run(`SET TimeZone = 'UTC'`)
    await createFlowsTable(connection)
    const reader = readFlows(sources, { ...options, communityId: false })
    await appendRows(connection, reader.batches())
    registerCommunityId(connection)
    await defineAthenaFunctions(connection)
    await createFlowsView(connection)
    return {
      connection,
      stats: reader.stats,
      close: () => {
        connection.closeSync()
        instance.closeSync()
      },
    }
  } catch (error) {
    connection.closeSync()
    instance.closeSync()
    throw error
  }
}

async function createFlowsTable(connection: DuckDBConnection): Promise<void> {
  const columns = STORED_COLUMNS.map((c) => `${sqlIdentifier(c.column)} ${c.type}`).join(', ')
  await connection.run(`CREATE TABLE flow_records (${columns})`)
}

/** `flows`: the stored records plus the computed columns. */
async function createFlowsView(connection: DuckDBConnection): Promise<void> {
  await connection.run(`CREATE VIEW flows AS SELECT *,
    community_id(CAST(protocol AS INTEGER), coalesce(pkt_srcaddr, srcaddr), coalesce(pkt_dstaddr, dstaddr), srcport, dstport) AS community_id,
    CAST(to_timestamp(start) AS DATE) AS "date"
    FROM flow_records`)
}

/** Rows go in column by column, a data chunk at a time (a value-by-value appender is 3x slower). */
async function appendRows(connection: DuckDBConnection, batches: AsyncIterable<FlowRow[]>): Promise<void> {
  const appender = await connection.createAppender('flow_records')
  const types = STORED_COLUMNS.map((c) => SQL_TYPES[c.type])
  const columns: unknown[][] = STORED_COLUMNS.map(() => new Array<unknown>(CHUNK_ROWS))
  let used = 0
  const flush = () => {
    if (used === 0) return
    const chunk = DuckDBDataChunk.create(types, used)
    chunk.setColumns(columns.map((values) => (used === CHUNK_ROWS ? values : values.slice(0, used))) as never)
    appender.appendDataChunk(chunk)
    used = 0
  }
  for await (const batch of batches) {
    for (const row of batch) {
      for (let c = 0; c < STORED_COLUMNS.length; c++) {
        const { field, type } = STORED_COLUMNS[c]!
        const value = row[field]
        columns[c]![used] =
          value === undefined || value === null
            ? null
            : type === 'BIGINT'
              ? typeof value === 'number'
                ? BigInt(Math.trunc(value))
                : null
              : type === 'INTEGER'
                ? typeof value === 'number'
                  ? Math.trunc(value)
                  : null
                : String(value)
      }
      if (++used === CHUNK_ROWS) flush()
    }
  }
  flush()
  appender.flushSync()
  appender.closeSync()
}
