import type { Action, Direction, LogStatus } from './verdict.js'

/**
 * One aggregation window as the aggregator closes it: its flow records still in the hash table's
 * buffer (turned into a RecordBatch by aggregate/closed-window.ts `windowBatch`, on whichever thread
 * formats them), the interfaces' SKIPDATA counts, and who gets NODATA. Plain data: the buffer
 * transfers to the writer thread without a copy, and may come back for a later window.
 */
export interface ClosedWindow {
  /** Window bounds in unix seconds: [windowStart, windowEnd). */
  windowStart: number
  windowEnd: number
  /** The flow-record table (see aggregate/window-records.ts), or null when no packet was recorded. */
  slots: ArrayBuffer | null
  /** Flow records in `slots`. */
  records: number
  /** Packets and bytes that found no room, per interface (SKIPDATA records). */
  skips: { iface: number; packets: number; bytes: number; first: number; last: number }[]
  /** Interfaces the window covers: those with no record get NODATA. */
  covered: readonly number[]
}

/**
 * Records of one aggregation window, column by column, as formats read them.
 * Columnar typed arrays transfer to the formatting worker without copying or per-record objects.
 */
export interface RecordBatch {
  /** Window bounds in unix seconds: [windowStart, windowEnd). */
  windowStart: number
  windowEnd: number
  count: number
  /** Interface index into NetworkConfig.interfaces. */
  iface: Int32Array
  status: Uint8Array
  direction: Uint8Array
  action: Uint8Array
  protocol: Uint8Array
  /** Four words per record, IPv4-mapped for IPv4. */
  src: Uint32Array
  dst: Uint32Array
  srcPort: Uint16Array
  dstPort: Uint16Array
  packets: Float64Array
  bytes: Float64Array
  /** First and last packet time (unix seconds, fractional). */
  first: Float64Array
  last: Float64Array
  awsTcpFlags: Uint8Array
  nhnTcpFlags: Uint8Array
  /** ≥ 0: index of the accepting rule in the compiled policy's rule list; < 0: -(reject reason + 1). */
  cause: Int32Array
}

/** One output record, as formats see it. Built off the packet path, one window at a time. */
export interface FlowRecord {
  status: LogStatus
  /** Interface index into NetworkConfig.interfaces. */
  iface: number
  windowStart: number
  windowEnd: number
  /** The remaining fields are meaningless (shown as `-`) for NODATA; SKIPDATA carries packets/bytes. */
  direction: Direction
  action: Action
  protocol: number
  ipVersion: 4 | 6
  /** Interface-view addresses (AWS srcaddr/dstaddr) and packet addresses (pkt-srcaddr/pkt-dstaddr). */
  srcAddr: string
  dstAddr: string
  pktSrcAddr: string
  pktDstAddr: string
  srcPort: number
  dstPort: number
  packets: number
  bytes: number
  /** First and last packet time, unix seconds (fractional). For NODATA/SKIPDATA, the window bounds. */
  start: number
  end: number
  awsTcpFlags: number
  nhnTcpFlags: number
  /** Id of the rule that accepted the connection, or null. */
  ruleId: string | null
  /** Why it was rejected, or null. */
  rejectReason: string | null
}
