import type { FileSchema } from '../read/file-schema.js'
import type { FlowValue } from '../read/flow-row.js'
import type { RecordCursor } from '../read/record-cursor.js'
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
 * How a record's field is read, found once by name for all records (undefined: the records have
 * no such field): from a row object, or in place from a cursor over DuckDB's chunk
 * (parquet-own-scan.ts), which then makes no row object for a record.
 */
export type FieldGetter<T> = ((source: T) => FlowValue | undefined) | undefined

function textOf(v: FlowValue | undefined): string | null {
  if (v === null || v === undefined) return null
  const s = typeof v === 'string' ? v : String(v)
  return s !== '' && s !== '-' ? s : null
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

type Read<T, V> = (source: T) => V | null

/** The first of the named fields (AWS's name, then NHN's) with a value, as `of` reads it. */
function firstOf<T, V>(
  getterOf: (name: string) => FieldGetter<T>,
  of: (v: FlowValue | undefined) => V | null,
  names: readonly string[],
): Read<T, V> {
  const getters = names.flatMap((name) => {
    const g = getterOf(name)
    return g === undefined ? [] : [g]
  })
  const [a, b, c] = getters
  if (a === undefined) return () => null
  if (b === undefined) return (s) => of(a(s))
  if (c === undefined) return (s) => of(a(s)) ?? of(b(s))
  return (s) => of(a(s)) ?? of(b(s)) ?? of(c(s))
}

const DIRECTIONS = new Set(['ingress', 'egress', 'unknown'])

/**
 * The normaliser of records whose fields `getterOf` finds (toFlow's rules, whatever holds the
 * record): each field's reader is found once, so a record costs no lookup by name.
 */
export function flowMaker<T>(getterOf: (name: string) => FieldGetter<T>): (source: T) => Flow {
  const text = (...names: string[]) => firstOf(getterOf, textOf, names)
  const number = (...names: string[]) => firstOf(getterOf, numberOf, names)
  const action = text('action', 'filter')
  const direction = text('flow-direction', 'direction')
  const startMs = number('start-ms')
  const endMs = number('end-ms')
  const ifSrc = text('srcaddr', 'src_addr')
  const ifDst = text('dstaddr', 'dst_addr')
  const interfaceId = text('interface-id', 'interface_id')
  const instanceId = text('instance-id', 'owner_id', 'vm_id')
  const subnetId = text('subnet-id', 'subnet_id')
  const vpcId = text('vpc-id', 'vpc_id')
  const pktSrc = text('pkt-srcaddr')
  const pktDst = text('pkt-dstaddr')
  const srcport = number('srcport', 'src_port')
  const dstport = number('dstport', 'dst_port')
  const protocol = number('protocol')
  const packets = number('packets')
  const bytes = number('bytes')
  const start = number('start', 'timestamp_start')
  const end = number('end', 'timestamp_end')
  const logStatus = text('log-status', 'status')
  const tcpFlags = number('tcp-flags', 'tcp_flag')
  const ruleId = text('rule-id')
  const rejectReason = text('reject-reason-detail')
  return (row) => {
    const a = action(row)?.toUpperCase() ?? null
    const d = direction(row)?.toLowerCase() ?? null
    const sMs = startMs(row)
    const eMs = endMs(row)
    const ifSrcaddr = ifSrc(row)
    const ifDstaddr = ifDst(row)
    return {
      interfaceId: interfaceId(row),
      instanceId: instanceId(row),
      subnetId: subnetId(row),
      vpcId: vpcId(row),
      srcaddr: pktSrc(row) ?? ifSrcaddr,
      dstaddr: pktDst(row) ?? ifDstaddr,
      ifSrcaddr,
      ifDstaddr,
      srcport: srcport(row),
      dstport: dstport(row),
      protocol: protocol(row),
      packets: packets(row) ?? 0,
      bytes: bytes(row) ?? 0,
      start: sMs !== null ? sMs / 1000 : start(row),
      end: eMs !== null ? eMs / 1000 : end(row),
      action: a === 'ACCEPT' ? 'ACCEPT' : a === 'REJECT' || a === 'DROP' ? 'REJECT' : null,
      logStatus: logStatus(row),
      direction: d !== null && DIRECTIONS.has(d) ? (d as Flow['direction']) : null,
      tcpFlags: tcpFlags(row),
      ruleId: ruleId(row),
      rejectReason: rejectReason(row),
    }
  }
}

/**
 * The normaliser of a text file's records read in place from the reader's cursor (FlowReader.scan),
 * as toFlow would normalise the row the cursor makes: a field from the last column that carries
 * it, numbers of number columns, text of the others.
 */
export function cursorFlowMaker(schema: FileSchema): (cursor: RecordCursor) => Flow {
  const columnOf = new Map<string, number>()
  schema.rowNames.forEach((names, c) => {
    for (const name of names) columnOf.set(name, c)
  })
  return flowMaker<RecordCursor>((name) => {
    const c = columnOf.get(name)
    if (c === undefined) return undefined
    return schema.numeric[c] ? (cursor) => cursor.number(c) : (cursor) => cursor.text(c)
  })
}

/** Normalises one row. NHN names are accepted too, for rows that were not mapped. */
export const toFlow: (row: FlowRow) => Flow = flowMaker((name) => (row: FlowRow) => row[name])

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
