import type { DuckDBConnection } from '@duckdb/node-api'
import { parseAddress } from '../core/address.js'
import { InputError } from '../core/errors.js'
import type { NetworkConfig } from '../core/network.js'
import { STORED_COLUMNS } from '../sql/flows-columns.js'
import { type HashedRanking, rankByHashedKeys } from './hashed-ranking.js'
import type { CellValue, Column, Table } from './output.js'

/**
 * `flowlog report`: the analyses AWS ships as predefined Athena queries (the VPC console's
 * "Generate Athena integration", reference 8.1), plus traffic over time. Each report is one SQL
 * statement over the `flows` table (Athena's columns), so it runs unchanged on any amount of data
 * DuckDB can scan, and reads like the Athena query a user already knows.
 */

export interface ReportOptions {
  /** Rows of ranked reports (AWS's predefined queries show 50). */
  limit: number
  /** Bucket width of `over-time`, seconds. */
  interval: number
  /** The address of `address` (traffic from and to it). */
  address: string | null
  /** Destination ports counted as administrative by `admin-ports`. */
  adminPorts: readonly number[]
}

export interface ReportDefinition {
  kind: string
  title: string
  /** The AWS predefined query it corresponds to, when there is one. */
  aws: string | null
  columns: readonly Column[]
  sql(options: ReportOptions): string
  /**
   * For a ranking by keys that may have about as many values as there are records (address
   * pairs): the same statement with a condition `only` on the records too, and how to find which
   * records can make its rows (rankByHashedKeys).
   */
  hashed?: {
    ranking: HashedRanking
    sql(options: ReportOptions, only: string | null): string
  }
}

/** SSH, Telnet, RDP, VNC, WinRM (HTTP and HTTPS): ports that give a shell or a desktop. */
export const DEFAULT_ADMIN_PORTS: readonly number[] = [22, 23, 3389, 5900, 5985, 5986]

export const DEFAULT_REPORT_OPTIONS: ReportOptions = {
  limit: 50,
  interval: 60,
  address: null,
  adminPorts: DEFAULT_ADMIN_PORTS,
}

const text = (name: string): Column => ({ name, kind: 'text' })
const num = (name: string): Column => ({ name, kind: 'number' })
const time = (name: string): Column => ({ name, kind: 'time' })

/** Records that describe traffic: NODATA and SKIPDATA status lines carry no addresses. */
const TRAFFIC = `(SELECT * FROM flows WHERE coalesce(log_status, 'OK') = 'OK' AND srcaddr IS NOT NULL)`
const TOTALS = `count(*) AS records, sum(packets) AS packets, sum(bytes) AS bytes, min(start) AS first, max("end") AS last`
const TOTAL_COLUMNS = [num('records'), num('packets'), num('bytes'), time('first'), time('last')]
const PROTOCOL_NAME = `CASE protocol WHEN 6 THEN 'tcp' WHEN 17 THEN 'udp' WHEN 1 THEN 'icmp' WHEN 58 THEN 'icmpv6' ELSE CAST(protocol AS VARCHAR) END`
const PORT_LIST = (ports: readonly number[]) => ports.map((p) => String(Math.trunc(p))).join(', ')
/** Instance (or interface when it has none) and subnet, from the record or else from --config. */
const WITH_MAP = `(SELECT t.*, coalesce(t.instance_id, m.instance_id, t.interface_id) AS instance,
  coalesce(t.subnet_id, m.subnet_id) AS subnet
  FROM ${TRAFFIC} t LEFT JOIN interface_map m ON m.interface_id = t.interface_id)`

/** A ranking key: its column and the SQL of its value. */
type Key = readonly [Column, string]

/**
 * A report ranking keys by bytes or packets (then the other, then the keys). With `hashed`, its
 * keys may have about as many values as there are records, and it is ranked by hashed keys first.
 */
function ranked(
  kind: string,
  title: string,
  aws: string | null,
  keys: readonly Key[],
  where: string,
  order: 'bytes' | 'packets',
  hashed: 'hashed' | null = null,
): ReportDefinition {
  const other = order === 'bytes' ? 'packets' : 'bytes'
  const keySql = keys.map(([c, value]) => (value === c.name ? value : `${value} AS ${c.name}`)).join(', ')
  const sql = (o: ReportOptions, only: string | null) => `SELECT ${keySql}, ${TOTALS} FROM ${TRAFFIC}
      WHERE ${where}${only === null ? '' : ` AND ${only}`}
      GROUP BY ALL ORDER BY ${order} DESC, ${other} DESC, ${keys.map((_, i) => i + 1).join(', ')} LIMIT ${o.limit}`
  return {
    kind,
    title,
    aws,
    columns: [...keys.map(([c]) => c), ...TOTAL_COLUMNS],
    sql: (o) => sql(o, null),
    ...(hashed === null
      ? {}
      : {
          hashed: {
            ranking: {
              keys: keys.map(([, value]) => value),
              records: `${TRAFFIC} WHERE ${where}`,
              measures: [
                { column: order, bound: `sum(abs(${order}))` },
                { column: other, bound: `sum(abs(${other}))` },
              ],
            },
            sql,
          },
        }),
  }
}

const SRCADDR: Key = [text('srcaddr'), 'srcaddr']
const DSTADDR: Key = [text('dstaddr'), 'dstaddr']
const DSTPORT: Key = [num('dstport'), 'dstport']
const PROTOCOL: Key = [text('protocol'), PROTOCOL_NAME]

export const REPORTS: readonly ReportDefinition[] = [
  ranked(
    'accepted',
    'Accepted traffic',
    'VpcFlowLogsAcceptedTraffic',
    [SRCADDR, DSTADDR, DSTPORT, PROTOCOL],
    `action = 'ACCEPT'`,
    'bytes',
    'hashed',
  ),
  ranked(
    'rejected',
    'Rejected traffic',
    'VpcFlowLogsRejectedTraffic',
    [SRCADDR, DSTADDR, DSTPORT, PROTOCOL],
    `action = 'REJECT'`,
    'packets',
  ),
  ranked(
    'rejected-tcp',
    'Rejected TCP traffic',
    'VpcFlowLogsRejectedTCPTraffic',
    [SRCADDR, DSTADDR, DSTPORT],
    `action = 'REJECT' AND protocol = 6`,
    'packets',
  ),
  {
    kind: 'admin-ports',
    title: 'Traffic to administrative ports',
    aws: 'VpcFlowLogsAdminPortTraffic',
    columns: [text('srcaddr'), num('dstport'), text('action'), num('hosts'), ...TOTAL_COLUMNS],
    sql: (o) => `SELECT srcaddr, dstport, action, count(DISTINCT dstaddr) AS hosts, ${TOTALS} FROM ${TRAFFIC}
      WHERE protocol IN (6, 17) AND dstport IN (${PORT_LIST(o.adminPorts)})
      GROUP BY ALL ORDER BY bytes DESC, packets DESC, 1, 2, 3 LIMIT ${o.limit}`,
  },
  {
    kind: 'ssh-rdp',
    title: 'SSH and RDP traffic',
    aws: 'VpcFlowLogsSshRdpTraffic',
    columns: [text('srcaddr'), text('dstaddr'), text('service'), text('action'), ...TOTAL_COLUMNS],
    sql: (
      o,
    ) => `SELECT srcaddr, dstaddr, CASE dstport WHEN 22 THEN 'ssh' ELSE 'rdp' END AS service, action, ${TOTALS}
      FROM ${TRAFFIC} WHERE protocol = 6 AND dstport IN (22, 3389)
      GROUP BY ALL ORDER BY records DESC, packets DESC, 1, 2, 3, 4 LIMIT ${o.limit}`,
  },
  ranked('top-talkers', 'Top talkers by bytes', 'VpcFlowLogsTopTalkers', [SRCADDR], 'true', 'bytes'),
  ranked(
    'top-talkers-packets',
    'Top talkers by packets',
    'VpcFlowLogsTopTalkersPacketLevel',
    [SRCADDR],
    'true',
    'packets',
  ),
  {
    kind: 'top-instances',
    title: 'Top talking instances (interface id when no instance is known)',
    aws: 'VpcFlowLogsTopTalkingInstances',
    columns: [text('instance'), ...TOTAL_COLUMNS],
    sql: (o) => `SELECT instance, ${TOTALS} FROM ${WITH_MAP} WHERE instance IS NOT NULL
      GROUP BY ALL ORDER BY bytes DESC, packets DESC, 1 LIMIT ${o.limit}`,
  },
  {
    kind: 'top-subnets',
    title: 'Top talking subnets',
    aws: 'VpcFlowLogsTopTalkingSubnets',
    columns: [text('subnet'), ...TOTAL_COLUMNS],
    sql: (o) => `SELECT coalesce(subnet, '(unknown)') AS subnet, ${TOTALS} FROM ${WITH_MAP}
      GROUP BY ALL ORDER BY bytes DESC, packets DESC, 1 LIMIT ${o.limit}`,
  },
  ranked(
    'bytes-transferred',
    'Bytes transferred between address pairs',
    'VpcFlowLogsTotalBytesTransferred',
    [SRCADDR, DSTADDR],
    'true',
    'bytes',
    'hashed',
  ),
  {
    kind: 'ip-versions',
    title: 'Traffic by IP version',
    aws: 'VpcFlowLogsIPv4Traffic / VpcFlowLogsIPv6Traffic',
    columns: [text('type'), ...TOTAL_COLUMNS],
    sql: () => `SELECT CASE WHEN contains(srcaddr, ':') THEN 'IPv6' ELSE 'IPv4' END AS type, ${TOTALS}
      FROM ${TRAFFIC} GROUP BY ALL ORDER BY 1`,
  },
  {
    kind: 'address',
    title: 'Traffic from and to an address',
    aws: 'VpcFlowLogsTrafficFrmSrcAddr / VpcFlowLogsTrafficToDstAddr',
    columns: [
      text('direction'),
      text('peer'),
      num('srcport'),
      num('dstport'),
      text('protocol'),
      text('action'),
      ...TOTAL_COLUMNS,
    ],
    sql: (
      o,
    ) => `SELECT CASE WHEN coalesce(pkt_srcaddr, srcaddr) = $address THEN 'from' ELSE 'to' END AS direction,
      CASE WHEN coalesce(pkt_srcaddr, srcaddr) = $address THEN coalesce(pkt_dstaddr, dstaddr) ELSE coalesce(pkt_srcaddr, srcaddr) END AS peer,
      srcport, dstport, ${PROTOCOL_NAME} AS protocol, action, ${TOTALS}
      FROM ${TRAFFIC} WHERE $address IN (srcaddr, dstaddr, pkt_srcaddr, pkt_dstaddr)
      GROUP BY ALL ORDER BY first, 1, 2, 3, 4, 5, 6 LIMIT ${o.limit}`,
  },
  {
    kind: 'over-time',
    title: 'Traffic over time',
    aws: null,
    columns: [
      time('bucket'),
      num('records'),
      num('packets'),
      num('bytes'),
      num('accepted_packets'),
      num('rejected_packets'),
      num('sources'),
    ],
    sql: (o) => `SELECT (start // ${o.interval}) * ${o.interval} AS bucket, count(*) AS records,
      sum(packets) AS packets, sum(bytes) AS bytes,
      coalesce(sum(packets) FILTER (WHERE action = 'ACCEPT'), 0) AS accepted_packets,
      coalesce(sum(packets) FILTER (WHERE action = 'REJECT'), 0) AS rejected_packets,
      count(DISTINCT srcaddr) AS sources
      FROM ${TRAFFIC} WHERE start IS NOT NULL GROUP BY ALL ORDER BY 1`,
  },
]

/** What `flowlog report` shows when no --kind is given. */
export const DEFAULT_REPORT_KINDS: readonly string[] = [
  'top-talkers',
  'bytes-transferred',
  'rejected',
  'ssh-rdp',
  'top-instances',
  'over-time',
]

export function reportDefinition(kind: string): ReportDefinition {
  const found = REPORTS.find((r) => r.kind === kind)
  if (found === undefined) {
    throw new InputError(
      `--kind: "${kind}" is not a report (reports: ${REPORTS.map((r) => r.kind).join(', ')})`,
    )
  }
  return found
}

/**
 * The stored columns the reports read: those their statements name (each names every column it
 * reads), so that text records stage only these (openFlowsDatabase). Null, every column, for a
 * statement naming a column the `flows` view computes from others (community_id, date).
 */
export function reportColumns(kinds: readonly string[], options: ReportOptions): Set<string> | null {
  const sql = kinds.map((kind) => reportDefinition(kind).sql(options)).join('\n')
  if (/\b(community_id\w*|date)\b/.test(sql)) return null
  return new Set(STORED_COLUMNS.map((c) => c.column).filter((c) => new RegExp(`\\b${c}\\b`).test(sql)))
}

/** Checks the options a report needs before any file is read. */
export function checkReportOptions(kinds: readonly string[], options: ReportOptions): void {
  for (const kind of kinds) reportDefinition(kind)
  if (kinds.includes('address')) {
    if (options.address === null) throw new InputError('--kind address needs --address ADDRESS')
    if (!parseAddress(options.address, new Uint32Array(4))) {
      throw new InputError(`--address: "${options.address}" is not an IPv4 or IPv6 address`)
    }
  }
}

/** The instance and subnet of every configured interface, for the instance and subnet reports. */
export async function loadInterfaceMap(
  connection: DuckDBConnection,
  network: NetworkConfig | null,
): Promise<void> {
  await connection.run(
    'CREATE OR REPLACE TABLE interface_map (interface_id VARCHAR, instance_id VARCHAR, subnet_id VARCHAR)',
  )
  if (network === null || network.interfaces.length === 0) return
  const appender = await connection.createAppender('interface_map')
  for (const nic of network.interfaces) {
    appender.appendVarchar(nic.id)
    if (nic.instance === null) appender.appendNull()
    else appender.appendVarchar(nic.instance)
    appender.appendVarchar(nic.subnet)
    appender.endRow()
  }
  appender.closeSync()
}

function plain(value: unknown): CellValue {
  if (value === null || value === undefined) return null
  if (typeof value === 'bigint') return Number(value)
  if (typeof value === 'number' || typeof value === 'string') return value
  return String(value)
}

/** Runs one report over the `flows` table (and `interface_map`). */
export async function runReport(
  connection: DuckDBConnection,
  definition: ReportDefinition,
  options: ReportOptions,
): Promise<Table> {
  const rows = (await reportRows(connection, definition, options)).map((row) => {
    const out: Record<string, CellValue> = {}
    for (const c of definition.columns) out[c.name] = plain(row[c.name])
    return out
  })
  return { columns: definition.columns, rows }
}

async function reportRows(
  connection: DuckDBConnection,
  definition: ReportDefinition,
  options: ReportOptions,
): Promise<Record<string, unknown>[]> {
  const { hashed } = definition
  if (hashed !== undefined) {
    return rankByHashedKeys(connection, hashed.ranking, options.limit, (only) => hashed.sql(options, only))
  }
  const sql = definition.sql(options)
  const values = sql.includes('$address') ? { address: options.address ?? '' } : undefined
  return (await connection.runAndReadAll(sql, values)).getRowObjectsJS()
}
