import type { DuckDBConnection } from '@duckdb/node-api'
import { InputError } from '../../core/errors.js'
import type { FlowRow } from '../../read/flow-row.js'
import { STORED_COLUMNS } from '../../sql/flows-columns.js'
import type { AnalysisScope } from './analysis-scope.js'

/**
 * The console's charts as SQL over `flows` (one aggregate query each, so the work stays in DuckDB
 * however many records there are), and the coverage every answer carries: the range and the number
 * of records the chart stands on.
 */
export type Row = Record<string, string | number | null>

export async function rows(connection: DuckDBConnection, sql: string): Promise<Row[]> {
  const reader = await connection.runAndReadAll(sql)
  return reader.getRowObjectsJS().map((r) => {
    const out: Row = {}
    for (const [k, v] of Object.entries(r)) out[k] = plain(v)
    return out
  })
}

function plain(value: unknown): string | number | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'bigint') return Number(value)
  if (typeof value === 'number' || typeof value === 'string') return value
  return String(value)
}

export interface Coverage {
  /** The range asked for (unix seconds), null when open. */
  since: number | null
  until: number | null
  /** The records' own span: the first start and last end among them. */
  first: number | null
  last: number | null
  /** Records (all of them: traffic, NODATA and SKIPDATA), packets and bytes in scope. */
  records: number
  packets: number
  bytes: number
  filter: string | null
  place: AnalysisScope['place']
  /** Files the records were read from (all files of the sources, before the range). */
  files: number
}

export async function coverage(
  connection: DuckDBConnection,
  scope: AnalysisScope,
  files: number,
): Promise<Coverage> {
  const [r] = await rows(
    connection,
    `SELECT count(*) AS records, coalesce(sum(packets), 0) AS packets, coalesce(sum(bytes), 0) AS bytes,
      min(start) AS first, max("end") AS last FROM flows WHERE ${scope.where}`,
  )
  return {
    since: scope.since,
    until: scope.until,
    first: num(r?.first),
    last: num(r?.last),
    records: num(r?.records) ?? 0,
    packets: num(r?.packets) ?? 0,
    bytes: num(r?.bytes) ?? 0,
    filter: scope.filter,
    place: scope.place,
    files,
  }
}

const num = (v: string | number | null | undefined) => (v === null || v === undefined ? null : Number(v))

/** A step that gives about `points` intervals over the span, rounded to a step people read. */
const STEPS = [1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 10800, 21600, 43200, 86400, 604800]
export function stepFor(first: number, last: number, points = 120): number {
  const want = Math.max(1, (last - first) / points)
  return STEPS.find((s) => s >= want) ?? STEPS[STEPS.length - 1]!
}

/**
 * Accepted and rejected packets, bytes and records per interval (by the record's start); with
 * `split` (a place expression, placeSql), one row per interval and place, the place as `key`.
 */
export async function trafficSeries(
  connection: DuckDBConnection,
  scope: AnalysisScope,
  step: number,
  split: string | null = null,
): Promise<Row[]> {
  const key = split === null ? '' : `, coalesce(${split}, '-') AS key`
  return rows(
    connection,
    `SELECT (start // ${step}) * ${step} AS t${key},
      coalesce(sum(packets) FILTER (WHERE action = 'ACCEPT'), 0) AS accepted_packets,
      coalesce(sum(packets) FILTER (WHERE action = 'REJECT'), 0) AS rejected_packets,
      coalesce(sum(bytes) FILTER (WHERE action = 'ACCEPT'), 0) AS accepted_bytes,
      coalesce(sum(bytes) FILTER (WHERE action = 'REJECT'), 0) AS rejected_bytes,
      count(*) AS records
      FROM flows WHERE ${scope.where} AND start IS NOT NULL GROUP BY ALL ORDER BY ALL`,
  )
}

const PROTOCOL_NAME = `CASE protocol WHEN 6 THEN 'tcp' WHEN 17 THEN 'udp' WHEN 1 THEN 'icmp' WHEN 58 THEN 'icmpv6' ELSE CAST(protocol AS VARCHAR) END`

/** What a top list groups by: a label and the records it needs. */
export const TOP_KEYS: Readonly<Record<string, { label: string; present: string }>> = {
  srcaddr: { label: 'srcaddr', present: 'srcaddr IS NOT NULL' },
  dstaddr: { label: 'dstaddr', present: 'dstaddr IS NOT NULL' },
  pair: { label: `srcaddr || ' → ' || dstaddr`, present: 'srcaddr IS NOT NULL AND dstaddr IS NOT NULL' },
  dstport: { label: `${PROTOCOL_NAME} || '/' || CAST(dstport AS VARCHAR)`, present: 'dstport IS NOT NULL' },
  srcport: { label: `${PROTOCOL_NAME} || '/' || CAST(srcport AS VARCHAR)`, present: 'srcport IS NOT NULL' },
  interface: { label: 'interface_id', present: 'interface_id IS NOT NULL' },
  instance: { label: 'instance_id', present: 'instance_id IS NOT NULL' },
}
export const METRICS: Readonly<Record<string, string>> = {
  bytes: 'sum(bytes)',
  packets: 'sum(packets)',
  records: 'count(*)',
}

export async function top(
  connection: DuckDBConnection,
  scope: AnalysisScope,
  by: string,
  metric: string,
  limit: number,
): Promise<Row[]> {
  const key = TOP_KEYS[by]
  const value = METRICS[metric]
  if (key === undefined) throw new InputError(`by "${by}" is not one of ${Object.keys(TOP_KEYS).join(', ')}`)
  if (value === undefined)
    throw new InputError(`metric "${metric}" is not one of ${Object.keys(METRICS).join(', ')}`)
  return rows(
    connection,
    `SELECT ${key.label} AS key, ${value} AS value, sum(bytes) AS bytes, sum(packets) AS packets, count(*) AS records
      FROM flows WHERE ${scope.where} AND ${key.present} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ${limit}`,
  )
}

/** Who talks to whom: the heaviest source → destination pairs, with their rejected share. */
export async function edges(
  connection: DuckDBConnection,
  scope: AnalysisScope,
  metric: string,
  limit: number,
): Promise<Row[]> {
  const value = METRICS[metric]
  if (value === undefined)
    throw new InputError(`metric "${metric}" is not one of ${Object.keys(METRICS).join(', ')}`)
  return rows(
    connection,
    `SELECT srcaddr AS source, dstaddr AS target, ${value} AS value, sum(bytes) AS bytes, sum(packets) AS packets,
      count(*) AS records, count(*) FILTER (WHERE action = 'REJECT') AS rejected_records
      FROM flows WHERE ${scope.where} AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL
      GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT ${limit}`,
  )
}

/** The flow browser's columns: the default query fields, then why (rule or reason) and the Community ID. */
export const BROWSER_COLUMNS: readonly string[] = [
  'start',
  'end',
  'interface_id',
  'flow_direction',
  'srcaddr',
  'srcport',
  'dstaddr',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'action',
  'log_status',
  'rule_id',
  'reject_reason_detail',
  'community_id',
]

const BROWSER_ORDER = 'start NULLS LAST, interface_id, srcaddr, srcport, dstaddr, dstport, protocol'

export async function flowPage(
  connection: DuckDBConnection,
  scope: AnalysisScope,
  offset: number,
  limit: number,
): Promise<Row[]> {
  return rows(
    connection,
    `SELECT ${BROWSER_COLUMNS.map((c) => `"${c}"`).join(', ')} FROM flows WHERE ${scope.where}
      ORDER BY ${BROWSER_ORDER} LIMIT ${limit} OFFSET ${offset}`,
  )
}

/** Every record in scope in batches, as FlowRows (hyphenated names, only the values present). */
export async function* flowRows(
  connection: DuckDBConnection,
  where: string,
  columns: readonly string[] = BROWSER_COLUMNS,
): AsyncGenerator<FlowRow> {
  const fieldOf = new Map(STORED_COLUMNS.map((c) => [c.column, c.field]))
  const result = await connection.stream(
    `SELECT ${columns.map((c) => `"${c}"`).join(', ')} FROM flows WHERE ${where} ORDER BY ${BROWSER_ORDER}`,
  )
  for await (const batch of result.yieldRowObjectJs()) {
    for (const r of batch) {
      const row: FlowRow = {}
      for (const [column, value] of Object.entries(r)) {
        const v = plain(value)
        if (v !== null) row[fieldOf.get(column) ?? column.replaceAll('_', '-')] = v
      }
      yield row
    }
  }
}

/** Every column the analyses read (detect, audit and what-if look at more than the browser shows). */
export const ANALYSIS_COLUMNS: readonly string[] = [
  ...BROWSER_COLUMNS.filter((c) => c !== 'community_id'),
  'tcp_flags',
  'pkt_srcaddr',
  'pkt_dstaddr',
  'vpc_id',
  'subnet_id',
  'instance_id',
  'start_ms',
  'end_ms',
]
