import type { RecordBatch } from '../core/flow-record.js'
import type { PacketView } from '../core/packet-view.js'
import { LOG_STATUS } from '../core/verdict.js'
import {
  ADDED,
  KEY_WORDS,
  MAX_INTERFACES,
  MAX_INTERVAL,
  recordMeta,
  WindowRecords,
} from './window-records.js'

/**
 * Per-window flow records of one aggregation interval (DESIGN 2): one record per
 * (window, interface, 5-tuple, direction, action), with first/last time, packets, bytes and the
 * TCP flags of both clouds.
 *
 * Each open window has its own table of records (WindowRecords); adding a packet allocates
 * nothing. The tables together hold at most `capacity` records; a packet that would need a record
 * beyond it is counted into its interface's SKIPDATA record for the window.
 *
 * Windows are epoch-aligned: window = floor(time / interval). A window closes once packet time
 * has passed its end by `lateness` seconds (a little disorder between capture interfaces is
 * normal); `closeAll` closes the rest at the end of a capture. Packets for a window that has
 * already closed are counted as `latePackets`, never added to a later window. A closed window's
 * table is emptied and reused, so closing costs one pass over it.
 */
export class FlowTable {
  readonly interval: number
  readonly capacity: number
  /** Interfaces this table records (the union over its flow logs), for NODATA at window close. */
  readonly coveredInterfaces: readonly number[]

  /** Tables of the open windows (few: the lateness keeps at most two or three open). */
  private readonly open: WindowRecords[] = []
  /** An emptied table waiting for the next window. */
  private spare: WindowRecords | null = null
  /** The table the last packet went to (the fast path). */
  private current: WindowRecords | null = null
  private size = 0
  /** Records of the last window emitted. */
  private lastWindowRecords = 0
  private readonly probe = new Uint32Array(KEY_WORDS)

  /** Skipped packets/bytes per (window, interface), keyed window * 2^16 + interface (exact in a double). */
  private readonly skipped = new Map<
    number,
    { packets: number; bytes: number; first: number; last: number }
  >()

  private started = false
  /** Windows below this are closed (emitted or skipped). */
  private closedBelow = Number.NEGATIVE_INFINITY
  /** The last window emitted, -1 before the first; idle windows after it get NODATA. */
  private lastEmitted = -1
  /** The highest window holding records. */
  private maxWindow = Number.NEGATIVE_INFINITY
  /** Packet time at which the oldest open window may close (fast path for `add`). */
  private closeTime = Number.POSITIVE_INFINITY
  private readonly lateness: number
  /** Room for a flag per covered interface index. */
  private readonly interfaceSlots: number
  private readonly maxIdleWindows: number
  private readonly onWindow: (batch: RecordBatch) => void

  latePackets = 0
  skippedPackets = 0
  peakRecords = 0

  constructor(options: {
    interval: number
    capacity: number
    coveredInterfaces: readonly number[]
    lateness: number
    /** Longest run of idle windows filled with NODATA; a longer gap (a clock jump) is skipped. */
    maxIdleWindows?: number
    onWindow: (batch: RecordBatch) => void
  }) {
    // Record keys and times are packed (window-records.ts); the config's bounds keep within them.
    if (!(options.interval > 0 && options.interval <= MAX_INTERVAL))
      throw new RangeError(`aggregation interval ${options.interval} s is not in 1..${MAX_INTERVAL}`)
    if (options.coveredInterfaces.some((i) => i >= MAX_INTERFACES))
      throw new RangeError(`more than ${MAX_INTERFACES} interfaces`)
    this.interval = options.interval
    this.interfaceSlots = Math.max(0, ...options.coveredInterfaces) + 1
    this.capacity = Math.max(1, options.capacity)
    this.coveredInterfaces = options.coveredInterfaces
    this.lateness = options.lateness
    this.maxIdleWindows = options.maxIdleWindows ?? 3600
    this.onWindow = options.onWindow
  }

  /** Records now held (across open windows). */
  get records(): number {
    return this.size
  }

  /** Bytes of the tables, for the memory-per-flow figure. */
  get memoryBytes(): number {
    let bytes = this.spare?.memoryBytes ?? 0
    for (const t of this.open) bytes += t.memoryBytes
    return bytes
  }

  /**
   * Adds one packet. `cause` is the verdict's cause (rule index ≥ 0, or -(reason + 1)).
   * Must be called in (roughly) time order; `advance` is implied.
   */
  add(iface: number, direction: number, action: number, cause: number, view: PacketView, time: number): void {
    const window = Math.floor(time / this.interval)
    if (!this.started) this.begin(time)
    else if (time >= this.closeTime) this.advance(time)
    if (window < this.closedBelow) {
      this.latePackets++
      return
    }
    let table = this.current
    if (table === null || table.window !== window) table = this.tableFor(window)

    const k = this.probe
    k[0] = recordMeta(iface, view.protocol, direction, action)
    k[1] = view.src[0]!
    k[2] = view.src[1]!
    k[3] = view.src[2]!
    k[4] = view.src[3]!
    k[5] = view.dst[0]!
    k[6] = view.dst[1]!
    k[7] = view.dst[2]!
    k[8] = view.dst[3]!
    k[9] = ((view.srcPort << 16) | view.dstPort) >>> 0

    const added = table.add(k, view, time, cause, this.size < this.capacity)
    if (added === ADDED.NEW_RECORD) {
      if (++this.size > this.peakRecords) this.peakRecords = this.size
    } else if (added === ADDED.NO_ROOM) {
      this.skip(window, iface, view.ipLength, time)
    }
  }

  /**
   * Starts the window clock at `time` without a packet (a live daemon at start-up), so idle
   * windows from then on get NODATA records. Replay starts at its first packet instead.
   */
  begin(time: number): void {
    if (this.started) return
    this.started = true
    this.closedBelow = Math.floor((time - this.lateness) / this.interval)
    this.lastEmitted = Math.floor(time / this.interval) - 1
    this.closeTime = (this.closedBelow + 1) * this.interval + this.lateness
  }

  /** Closes every window whose end + lateness is at or before `time`. Call on clock ticks when idle. */
  advance(time: number): void {
    if (!this.started) return
    const closeBelow = Math.floor((time - this.lateness) / this.interval)
    if (closeBelow > this.closedBelow) this.closeWindowsBelow(closeBelow)
  }

  /**
   * Counts `packets` that were lost before they could be recorded (a live capture's kernel drops)
   * into the SKIPDATA record of `iface` for the window of `time`, so the loss shows in the files.
   */
  skipPackets(iface: number, packets: number, bytes: number, time: number): void {
    if (packets <= 0) return
    if (!this.started) this.begin(time)
    const window = Math.max(Math.floor(time / this.interval), this.closedBelow)
    this.skippedPackets += packets - 1
    this.skip(window, iface, bytes, time)
    const s = this.skipped.get(window * 65536 + iface)
    if (s !== undefined) s.packets += packets - 1
  }

  /** Closes every open window up to the one holding `time` and the newest with records (end of a capture). */
  closeAll(time: number): void {
    if (!this.started) return
    this.closeWindowsBelow(Math.max(this.maxWindow, Math.floor(time / this.interval)) + 1)
  }

  private tableFor(window: number): WindowRecords {
    for (const t of this.open) {
      if (t.window === window) {
        this.current = t
        return t
      }
    }
    // The last (or still open) window's size predicts this one's: start there, not through rehashes.
    let expected = this.lastWindowRecords
    for (const t of this.open) if (t.size > expected) expected = t.size
    const table = this.spare ?? WindowRecords.forRecords(this.interval, expected)
    this.spare = null
    table.reset(window, expected)
    this.open.push(table)
    if (window > this.maxWindow) this.maxWindow = window
    this.current = table
    return table
  }

  private skip(window: number, iface: number, bytes: number, time: number): void {
    this.skippedPackets++
    if (window > this.maxWindow) this.maxWindow = window
    const key = window * 65536 + iface
    const s = this.skipped.get(key)
    if (s === undefined) this.skipped.set(key, { packets: 1, bytes, first: time, last: time })
    else {
      s.packets++
      s.bytes += bytes
      if (time > s.last) s.last = time
    }
  }

  /**
   * Emits, in order, every window below `closeBelow` that holds records, and NODATA batches for the
   * idle windows between them (and after the last emitted one), skipping idle runs longer than
   * maxIdleWindows (a clock jump in a capture must not write millions of empty files).
   */
  private closeWindowsBelow(closeBelow: number): void {
    const windows = new Set<number>()
    for (const t of this.open) if (t.window < closeBelow) windows.add(t.window)
    for (const key of this.skipped.keys()) {
      const w = Math.floor(key / 65536)
      if (w < closeBelow) windows.add(w)
    }
    for (const window of [...windows].sort((a, b) => a - b)) {
      this.emitIdle(window)
      this.onWindow(this.takeWindow(window))
      this.lastEmitted = window
    }
    this.emitIdle(closeBelow)
    if (closeBelow > this.closedBelow) this.closedBelow = closeBelow
    this.closeTime = (this.closedBelow + 1) * this.interval + this.lateness
  }

  /** NODATA batches for the idle windows after the last emitted one and before `window`. */
  private emitIdle(window: number): void {
    if (this.lastEmitted < 0 || this.coveredInterfaces.length === 0) return
    if (window - this.lastEmitted - 1 > this.maxIdleWindows) {
      this.lastEmitted = window - 1
      return
    }
    for (let w = this.lastEmitted + 1; w < window; w++) {
      this.onWindow(this.takeWindow(w))
      this.lastEmitted = w
    }
  }

  /** Removes the records of `window` (and its skip counters) and returns them with status rows. */
  private takeWindow(window: number): RecordBatch {
    const at = this.open.findIndex((t) => t.window === window)
    const table = at >= 0 ? this.open[at]! : null
    const skips: { iface: number; packets: number; bytes: number; first: number; last: number }[] = []
    for (const [key, s] of this.skipped) {
      if (Math.floor(key / 65536) === window) {
        skips.push({ iface: key % 65536, ...s })
        this.skipped.delete(key)
      }
    }
    // Rows for the records, the SKIPDATA records and, at most, a NODATA record per interface; which
    // interfaces were idle is known only once the records are out, so the batch may end short.
    const rows = (table?.size ?? 0) + skips.length + this.coveredInterfaces.length
    const batch = newBatch(rows, window * this.interval, (window + 1) * this.interval)
    const seen = new Uint8Array(this.interfaceSlots)
    let out = table === null ? 0 : table.emit(batch, 0, seen)
    for (const s of skips) seen[s.iface] = 1
    const idle = this.coveredInterfaces.filter((i) => seen[i] !== 1)
    for (const s of skips) {
      batch.iface[out] = s.iface
      batch.status[out] = LOG_STATUS.SKIPDATA
      batch.packets[out] = s.packets
      batch.bytes[out] = s.bytes
      batch.first[out] = s.first
      batch.last[out] = s.last
      out++
    }
    for (const iface of idle) {
      batch.iface[out] = iface
      batch.status[out] = LOG_STATUS.NODATA
      batch.first[out] = batch.windowStart
      batch.last[out] = batch.windowEnd
      out++
    }
    if (table !== null) {
      this.lastWindowRecords = table.size
      this.size -= table.size
      this.open.splice(at, 1)
      if (this.current === table) this.current = null
      // Keep one emptied table for the next window; it is cleared when taken.
      if (this.spare === null || this.spare.memoryBytes < table.memoryBytes) this.spare = table
    }
    return out === rows ? batch : shortened(batch, out)
  }
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
