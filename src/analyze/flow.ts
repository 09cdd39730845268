import type { FlowRow } from './flow-row.js'

/**
 * A flow-log record reduced to what the analyses use, with one spelling for every source: numbers
 * are numbers, `-`/missing is null, NHN's DROP is REJECT. Built once per record by `toFlow`, so
 * each analysis reads plain fields and never guesses at formats.
 */
export interface Flow {
  interfaceId: string | null
  instanceId: string | null
  subnetId: string | null
  vpcId: string | null
  /** The packet's addresses (pkt-srcaddr/pkt-dstaddr when the format has them, else srcaddr/dstaddr). */
  srcaddr: string | null
  dstaddr: string | null
  /** The interface-view addresses as recorded (srcaddr/dstaddr): the interface's primary address for its side. */
  ifSrcaddr: string | null
  ifDstaddr: string | null
  srcport: number | null
  dstport: number | null
  protocol: number | null
  packets: number
  bytes: number
  /** Unix seconds; fractional when the record carries start-ms/end-ms. */
  start: number | null
  end: number | null
  action: 'ACCEPT' | 'REJECT' | null
  logStatus: string | null
  direction: 'ingress' | 'egress' | 'unknown' | null
  /** AWS tcp-flags (or NHN tcp_flag: the SYN, SYN-ACK, FIN and RST bits mean the same). */
  tcpFlags: number | null
  /** flowlog's extras: the rule that accepted the connection, or why it was rejected. */
  ruleId: string | null
  rejectReason: string | null
}

// Two names at most (AWS's, then NHN's): fixed arguments, as a rest array would be one more
// allocation for each field of each record.
function text(
  row: FlowRow,
  name: string,
  other: string | null = null,
  third: string | null = null,
): string | null {
  return (
    textOf(row[name]) ??
    (other === null ? null : (textOf(row[other]) ?? (third === null ? null : textOf(row[third]))))
  )
}

function textOf(v: FlowRow[string] | undefined): string | null {
  if (v === null || v === undefined) return null
  const s = typeof v === 'string' ? v : String(v)
  return s !== '' && s !== '-' ? s : null
}

function number(row: FlowRow, name: string, other: string | null = null): number | null {
  return numberOf(row[name]) ?? (other === null ? null : numberOf(row[other]))
}

function numberOf(v: FlowRow[string] | undefined): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null
  if (typeof v === 'bigint') return Number(v)
  if (typeof v === 'string' && v !== '' && v !== '-') {
    const n = Number(v)
    if (Number.isFinite(n)) return n
  }
  return null
}

const DIRECTIONS = new Set(['ingress', 'egress', 'unknown'])

/** Normalises one row. NHN names are accepted too, for rows that were not mapped. */
export function toFlow(row: FlowRow): Flow {
  const action = text(row, 'action', 'filter')?.toUpperCase() ?? null
  const direction = text(row, 'flow-direction', 'direction')?.toLowerCase() ?? null
  const startMs = number(row, 'start-ms')
  const endMs = number(row, 'end-ms')
  const ifSrcaddr = text(row, 'srcaddr', 'src_addr')
  const ifDstaddr = text(row, 'dstaddr', 'dst_addr')
  return {
    interfaceId: text(row, 'interface-id', 'interface_id'),
    instanceId: text(row, 'instance-id', 'owner_id', 'vm_id'),
    subnetId: text(row, 'subnet-id', 'subnet_id'),
    vpcId: text(row, 'vpc-id', 'vpc_id'),
    srcaddr: text(row, 'pkt-srcaddr') ?? ifSrcaddr,
    dstaddr: text(row, 'pkt-dstaddr') ?? ifDstaddr,
    ifSrcaddr,
    ifDstaddr,
    srcport: number(row, 'srcport', 'src_port'),
    dstport: number(row, 'dstport', 'dst_port'),
    protocol: number(row, 'protocol'),
    packets: number(row, 'packets') ?? 0,
    bytes: number(row, 'bytes') ?? 0,
    start: startMs !== null ? startMs / 1000 : number(row, 'start', 'timestamp_start'),
    end: endMs !== null ? endMs / 1000 : number(row, 'end', 'timestamp_end'),
    action: action === 'ACCEPT' ? 'ACCEPT' : action === 'REJECT' || action === 'DROP' ? 'REJECT' : null,
    logStatus: text(row, 'log-status', 'status'),
    direction: direction !== null && DIRECTIONS.has(direction) ? (direction as Flow['direction']) : null,
    tcpFlags: number(row, 'tcp-flags', 'tcp_flag'),
    ruleId: text(row, 'rule-id'),
    rejectReason: text(row, 'reject-reason-detail'),
  }
}

/**
 * What detect, audit and what-if read of a record, as toFlow's row names: all but the instance,
 * subnet, VPC and reject reason, which none of them shows. An analysis's own scan of Parquet files
 * (parquet-own-scan.ts) reads only these columns.
 */
export const ANALYSIS_FIELDS: ReadonlySet<string> = new Set([
  'interface-id',
  'srcaddr',
  'dstaddr',
  'pkt-srcaddr',
  'pkt-dstaddr',
  'action',
  'flow-direction',
  'rule-id',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'start-ms',
  'end-ms',
  'tcp-flags',
  'log-status',
])

/** A record that describes traffic (not a NODATA/SKIPDATA status line). */
export function isTraffic(flow: Flow): boolean {
  return (
    (flow.logStatus === null || flow.logStatus === 'OK') && flow.srcaddr !== null && flow.dstaddr !== null
  )
}
