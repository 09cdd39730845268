import type { FlowValue } from '../read/flow-row.js'
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

/**
 * How toFlow reads a field of a record by name (undefined: the record has no such field): from a
 * row object, or in place from a cursor over DuckDB's chunk (parquet-own-scan.ts), which then
 * makes no row object for a record.
 */
export type FieldReader<T> = (source: T, name: string) => FlowValue | undefined

const rowField: FieldReader<FlowRow> = (row, name) => row[name]

// Three names at most (AWS's, then NHN's): fixed arguments, as a rest array would be one more
// allocation for each field of each record.
function text<T>(
  source: T,
  field: FieldReader<T>,
  name: string,
  other: string | null = null,
  third: string | null = null,
): string | null {
  return (
    textOf(field(source, name)) ??
    (other === null
      ? null
      : (textOf(field(source, other)) ?? (third === null ? null : textOf(field(source, third)))))
  )
}

function textOf(v: FlowValue | undefined): string | null {
  if (v === null || v === undefined) return null
  const s = typeof v === 'string' ? v : String(v)
  return s !== '' && s !== '-' ? s : null
}

function number<T>(
  source: T,
  field: FieldReader<T>,
  name: string,
  other: string | null = null,
): number | null {
  return numberOf(field(source, name)) ?? (other === null ? null : numberOf(field(source, other)))
}

function numberOf(v: FlowValue | undefined): number | null {
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
  return flowOf(row, rowField)
}

/** Normalises one record whose fields `field` reads (toFlow's rules, whatever holds the record). */
export function flowOf<T>(row: T, field: FieldReader<T>): Flow {
  const action = text(row, field, 'action', 'filter')?.toUpperCase() ?? null
  const direction = text(row, field, 'flow-direction', 'direction')?.toLowerCase() ?? null
  const startMs = number(row, field, 'start-ms')
  const endMs = number(row, field, 'end-ms')
  const ifSrcaddr = text(row, field, 'srcaddr', 'src_addr')
  const ifDstaddr = text(row, field, 'dstaddr', 'dst_addr')
  return {
    interfaceId: text(row, field, 'interface-id', 'interface_id'),
    instanceId: text(row, field, 'instance-id', 'owner_id', 'vm_id'),
    subnetId: text(row, field, 'subnet-id', 'subnet_id'),
    vpcId: text(row, field, 'vpc-id', 'vpc_id'),
    srcaddr: text(row, field, 'pkt-srcaddr') ?? ifSrcaddr,
    dstaddr: text(row, field, 'pkt-dstaddr') ?? ifDstaddr,
    ifSrcaddr,
    ifDstaddr,
    srcport: number(row, field, 'srcport', 'src_port'),
    dstport: number(row, field, 'dstport', 'dst_port'),
    protocol: number(row, field, 'protocol'),
    packets: number(row, field, 'packets') ?? 0,
    bytes: number(row, field, 'bytes') ?? 0,
    start: startMs !== null ? startMs / 1000 : number(row, field, 'start', 'timestamp_start'),
    end: endMs !== null ? endMs / 1000 : number(row, field, 'end', 'timestamp_end'),
    action: action === 'ACCEPT' ? 'ACCEPT' : action === 'REJECT' || action === 'DROP' ? 'REJECT' : null,
    logStatus: text(row, field, 'log-status', 'status'),
    direction: direction !== null && DIRECTIONS.has(direction) ? (direction as Flow['direction']) : null,
    tcpFlags: number(row, field, 'tcp-flags', 'tcp_flag'),
    ruleId: text(row, field, 'rule-id'),
    rejectReason: text(row, field, 'reject-reason-detail'),
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
