import type { ClosedWindow, RecordBatch } from '../core/flow-record.js'
import { LOG_STATUS } from '../core/verdict.js'
import { readSlots } from './window-records.js'

/**
 * The records of a closed window as a batch: its flow records, then a SKIPDATA record per interface
 * that lost packets, then NODATA for each covered interface with neither. Empties `slots` on the
 * way (readSlots), so the buffer can be given back for a later window. Runs on the thread that
 * formats, off the packet path.
 */
export function windowBatch(window: ClosedWindow): RecordBatch {
  const { windowStart, windowEnd, slots, skips, covered } = window
  const interval = windowEnd - windowStart
  // Rows for the records, the SKIPDATA records and, at most, a NODATA record per interface; which
  // interfaces were idle is known only once the records are out, so the batch may end short.
  const rows = window.records + skips.length + covered.length
  const batch = newBatch(rows, windowStart, windowEnd)
  // A flag per interface index the window can name (no spread: there may be very many).
  let highest = 0
  for (const i of covered) if (i > highest) highest = i
  for (const s of skips) if (s.iface > highest) highest = s.iface
  const seen = new Uint8Array(highest + 1)
  let out = slots === null ? 0 : readSlots(slots, windowStart, interval, batch, 0, seen)
  for (const s of skips) {
    seen[s.iface] = 1
    batch.iface[out] = s.iface
    batch.status[out] = LOG_STATUS.SKIPDATA
    batch.packets[out] = s.packets
    batch.bytes[out] = s.bytes
    batch.first[out] = s.first
    batch.last[out] = s.last
    out++
  }
  for (const iface of covered) {
    if (seen[iface] === 1) continue
    batch.iface[out] = iface
    batch.status[out] = LOG_STATUS.NODATA
    batch.first[out] = windowStart
    batch.last[out] = windowEnd
    out++
  }
  return out === rows ? batch : shortened(batch, out)
}

export function newBatch(count: number, windowStart: number, windowEnd: number): RecordBatch {
  return {
    windowStart,
    windowEnd,
    count,
    iface: new Int32Array(count),
    status: new Uint8Array(count),
    direction: new Uint8Array(count),
    action: new Uint8Array(count),
    protocol: new Uint8Array(count),
    src: new Uint32Array(count * 4),
    dst: new Uint32Array(count * 4),
    srcPort: new Uint16Array(count),
    dstPort: new Uint16Array(count),
    packets: new Float64Array(count),
    bytes: new Float64Array(count),
    first: new Float64Array(count),
    last: new Float64Array(count),
    awsTcpFlags: new Uint8Array(count),
    nhnTcpFlags: new Uint8Array(count),
    cause: new Int32Array(count),
  }
}

/** The first `count` rows of `batch`: views of the same buffers (which still transfer whole). */
function shortened(batch: RecordBatch, count: number): RecordBatch {
  return {
    windowStart: batch.windowStart,
    windowEnd: batch.windowEnd,
    count,
    iface: batch.iface.subarray(0, count),
    status: batch.status.subarray(0, count),
    direction: batch.direction.subarray(0, count),
    action: batch.action.subarray(0, count),
    protocol: batch.protocol.subarray(0, count),
    src: batch.src.subarray(0, count * 4),
    dst: batch.dst.subarray(0, count * 4),
    srcPort: batch.srcPort.subarray(0, count),
    dstPort: batch.dstPort.subarray(0, count),
    packets: batch.packets.subarray(0, count),
    bytes: batch.bytes.subarray(0, count),
    first: batch.first.subarray(0, count),
    last: batch.last.subarray(0, count),
    awsTcpFlags: batch.awsTcpFlags.subarray(0, count),
    nhnTcpFlags: batch.nhnTcpFlags.subarray(0, count),
    cause: batch.cause.subarray(0, count),
  }
}

/** The typed arrays of a batch, for transferring it to a worker without a copy. */
export function batchBuffers(batch: RecordBatch): ArrayBuffer[] {
  return [
    batch.iface,
    batch.status,
    batch.direction,
    batch.action,
    batch.protocol,
    batch.src,
    batch.dst,
    batch.srcPort,
    batch.dstPort,
    batch.packets,
    batch.bytes,
    batch.first,
    batch.last,
    batch.awsTcpFlags,
    batch.nhnTcpFlags,
    batch.cause,
  ].map((a) => a.buffer as ArrayBuffer)
}
