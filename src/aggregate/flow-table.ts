import type { RecordBatch } from '../core/flow-record.js'
import type { PacketView } from '../core/packet-view.js'
import { LOG_STATUS } from '../core/verdict.js'
import { AWS_TCP_FLAGS, NHN_TCP_FLAGS } from './tcp-flags.js'

/** Words of one record key: window, interface, protocol|direction|action, src ×4, dst ×4, ports. */
const KEY_WORDS = 12
const INITIAL_CAPACITY = 1 << 12

/**
 * Per-window flow records of one aggregation interval (DESIGN 2): one record per
 * (window, interface, 5-tuple, direction, action), with first/last time, packets, bytes and the
 * TCP flags of both clouds.
 *
 * Storage is dense typed arrays indexed by record number plus an open-addressing hash index;
 * adding a packet allocates nothing. The arrays grow by doubling up to `capacity`; a packet that
 * would need a record beyond it is counted into its interface's SKIPDATA record for the window.
 *
 * Windows are epoch-aligned: window = floor(time / interval). A window closes once packet time
 * has passed its end by `lateness` seconds (a little disorder between capture interfaces is
 * normal); `closeAll` closes the rest at the end of a capture. Packets for a window that has
 * already closed are counted as `latePackets`, never added to a later window.
 */
export class FlowTable {
  readonly interval: number
  readonly capacity: number
  /** Interfaces this table records (the union over its flow logs), for NODATA at window close. */
  readonly coveredInterfaces: readonly number[]

  private size = 0
  private allocated = 0
  private keys = new Uint32Array(0)
  private packets = new Float64Array(0)
  private bytes = new Float64Array(0)
  private first = new Float64Array(0)
  private last = new Float64Array(0)
  private awsFlags = new Uint8Array(0)
  private nhnFlags = new Uint8Array(0)
  private cause = new Int32Array(0)
  /** Hash slot → record number + 1 (0 = empty). Twice the allocated records, a power of two. */
  private index = new Int32Array(0)
  private mask = 0
  private readonly probe = new Uint32Array(KEY_WORDS)

  /** Skipped packets/bytes per (window, interface), keyed window * 2^16 + interface (exact in a double). */
  private readonly skipped = new Map<number, { packets: number; bytes: number; first: number; last: number }>()

  private started = false
  /** Windows below this are closed (emitted or skipped); -Infinity before the first packet. */
  private closedBelow = Number.NEGATIVE_INFINITY
  /** The last window emitted, -1 before the first; idle windows after it get NODATA. */
  private lastEmitted = -1
  /** The highest window holding records. */
  private maxWindow = Number.NEGATIVE_INFINITY
  /** Packet time at which the oldest open window may close (fast path for `add`). */
  private closeTime = Number.POSITIVE_INFINITY
  private readonly lateness: number
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
    this.interval = options.interval
    this.capacity = Math.max(1, options.capacity)
    this.coveredInterfaces = options.coveredInterfaces
    this.lateness = options.lateness
    this.maxIdleWindows = options.maxIdleWindows ?? 3600
    this.onWindow = options.onWindow
    this.grow(Math.min(INITIAL_CAPACITY, this.capacity))
  }

  /** Records now held (across open windows). */
  get records(): number {
    return this.size
  }

  /** Bytes of typed arrays held per record slot, for the memory-per-flow figure. */
  static readonly BYTES_PER_RECORD = KEY_WORDS * 4 + 4 * 8 + 2 + 4 + 2 * 4

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
    if (window > this.maxWindow) this.maxWindow = window

    const k = this.probe
    k[0] = window
    k[1] = iface
    k[2] = view.protocol | (direction << 8) | (action << 10)
    k[3] = view.src[0]!
    k[4] = view.src[1]!
    k[5] = view.src[2]!
    k[6] = view.src[3]!
    k[7] = view.dst[0]!
    k[8] = view.dst[1]!
    k[9] = view.dst[2]!
    k[10] = view.dst[3]!
    k[11] = ((view.srcPort << 16) | view.dstPort) >>> 0

    let record = this.find(k)
    if (record < 0) {
      if (this.size === this.allocated && !this.grow(this.allocated * 2)) {
        this.skip(window, iface, view.ipLength, time)
        return
      }
      record = this.insert(k, time, cause)
    }
    this.packets[record]! += 1
    this.bytes[record]! += view.ipLength
    if (time < this.first[record]!) this.first[record] = time
    if (time > this.last[record]!) this.last[record] = time
    const flags = view.tcpFlags
    this.awsFlags[record]! |= AWS_TCP_FLAGS[flags]!
    this.nhnFlags[record]! |= NHN_TCP_FLAGS[flags]!
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

  /** Closes every open window up to the one holding `time` and the newest with records (end of a capture). */
  closeAll(time: number): void {
    if (!this.started) return
    this.closeWindowsBelow(Math.max(this.maxWindow, Math.floor(time / this.interval)) + 1)
  }

  private hash(words: Uint32Array, base: number): number {
    let h = 0x811c9dc5
    for (let i = base; i < base + KEY_WORDS; i++) {
      h = Math.imul(h ^ words[i]!, 0x01000193)
      h ^= h >>> 15
    }
    return h & this.mask
  }

  private find(k: Uint32Array): number {
    const keys = this.keys
    const index = this.index
    let slot = this.hash(k, 0)
    for (;;) {
      const entry = index[slot]!
      if (entry === 0) return -1
      const base = (entry - 1) * KEY_WORDS
      if (
        keys[base + 11] === k[11] &&
        keys[base + 6] === k[6] &&
        keys[base + 10] === k[10] &&
        keys[base + 2] === k[2] &&
        keys[base + 1] === k[1] &&
        keys[base] === k[0] &&
        keys[base + 3] === k[3] &&
        keys[base + 4] === k[4] &&
        keys[base + 5] === k[5] &&
        keys[base + 7] === k[7] &&
        keys[base + 8] === k[8] &&
        keys[base + 9] === k[9]
      ) {
        return entry - 1
      }
      slot = (slot + 1) & this.mask
    }
  }

  private insert(k: Uint32Array, time: number, cause: number): number {
    const record = this.size++
    if (this.size > this.peakRecords) this.peakRecords = this.size
    this.keys.set(k, record * KEY_WORDS)
    this.packets[record] = 0
    this.bytes[record] = 0
    this.first[record] = time
    this.last[record] = time
    this.awsFlags[record] = 0
    this.nhnFlags[record] = 0
    this.cause[record] = cause
    this.indexRecord(record)
    return record
  }

  private indexRecord(record: number): void {
    let slot = this.hash(this.keys, record * KEY_WORDS)
    while (this.index[slot] !== 0) slot = (slot + 1) & this.mask
    this.index[slot] = record + 1
  }

  /** Grows the record arrays to `target` (bounded by capacity). False when already at capacity. */
  private grow(target: number): boolean {
    const next = Math.min(target, this.capacity)
    if (next <= this.allocated) return false
    const copy = <T extends Float64Array | Uint32Array | Uint8Array | Int32Array>(old: T, make: (n: number) => T, n: number) => {
      const fresh = make(n)
      fresh.set(old.subarray(0, Math.min(old.length, n)) as never)
      return fresh
    }
    this.keys = copy(this.keys, (n) => new Uint32Array(n), next * KEY_WORDS)
    this.packets = copy(this.packets, (n) => new Float64Array(n), next)
    this.bytes = copy(this.bytes, (n) => new Float64Array(n), next)
    this.first = copy(this.first, (n) => new Float64Array(n), next)
    this.last = copy(this.last, (n) => new Float64Array(n), next)
    this.awsFlags = copy(this.awsFlags, (n) => new Uint8Array(n), next)
    this.nhnFlags = copy(this.nhnFlags, (n) => new Uint8Array(n), next)
    this.cause = copy(this.cause, (n) => new Int32Array(n), next)
    this.allocated = next
    this.rebuildIndex()
    return true
  }

  private rebuildIndex(): void {
    let slots = 16
    while (slots < this.allocated * 2) slots *= 2
    if (this.index.length !== slots) this.index = new Int32Array(slots)
    else this.index.fill(0)
    this.mask = slots - 1
    for (let r = 0; r < this.size; r++) this.indexRecord(r)
  }

  private skip(window: number, iface: number, bytes: number, time: number): void {
    this.skippedPackets++
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
    for (let r = 0; r < this.size; r++) {
      const w = this.keys[r * KEY_WORDS]!
      if (w < closeBelow) windows.add(w)
    }
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

  /** Removes the records of `window` (and its skip counters) and returns them with NODATA rows. */
  private takeWindow(window: number): RecordBatch {
    const keys = this.keys
    let count = 0
    for (let r = 0; r < this.size; r++) if (keys[r * KEY_WORDS] === window) count++

    const seen = new Set<number>()
    const skips: { iface: number; packets: number; bytes: number; first: number; last: number }[] = []
    for (const [key, s] of this.skipped) {
      if (Math.floor(key / 65536) === window) {
        skips.push({ iface: key % 65536, ...s })
        this.skipped.delete(key)
      }
    }

    for (let r = 0; r < this.size; r++) if (keys[r * KEY_WORDS] === window) seen.add(keys[r * KEY_WORDS + 1]!)
    for (const s of skips) seen.add(s.iface)
    const idle = this.coveredInterfaces.filter((i) => !seen.has(i))

    const total = count + skips.length + idle.length
    const batch = newBatch(total, window * this.interval, (window + 1) * this.interval)
    let out = 0
    let kept = 0
    for (let r = 0; r < this.size; r++) {
      const base = r * KEY_WORDS
      if (keys[base] !== window) {
        if (kept !== r) this.moveRecord(r, kept)
        kept++
        continue
      }
      const meta = keys[base + 2]!
      batch.iface[out] = keys[base + 1]!
      batch.status[out] = LOG_STATUS.OK
      batch.protocol[out] = meta & 0xff
      batch.direction[out] = (meta >>> 8) & 0x3
      batch.action[out] = (meta >>> 10) & 0x1
      for (let w = 0; w < 4; w++) {
        batch.src[out * 4 + w] = keys[base + 3 + w]!
        batch.dst[out * 4 + w] = keys[base + 7 + w]!
      }
      batch.srcPort[out] = keys[base + 11]! >>> 16
      batch.dstPort[out] = keys[base + 11]! & 0xffff
      batch.packets[out] = this.packets[r]!
      batch.bytes[out] = this.bytes[r]!
      batch.first[out] = this.first[r]!
      batch.last[out] = this.last[r]!
      batch.awsTcpFlags[out] = this.awsFlags[r]!
      batch.nhnTcpFlags[out] = this.nhnFlags[r]!
      batch.cause[out] = this.cause[r]!
      out++
    }
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
    if (kept !== this.size) {
      this.size = kept
      if (kept === 0) this.index.fill(0)
      else this.rebuildIndex()
    }
    return batch
  }

  private moveRecord(from: number, to: number): void {
    this.keys.copyWithin(to * KEY_WORDS, from * KEY_WORDS, from * KEY_WORDS + KEY_WORDS)
    this.packets[to] = this.packets[from]!
    this.bytes[to] = this.bytes[from]!
    this.first[to] = this.first[from]!
    this.last[to] = this.last[from]!
    this.awsFlags[to] = this.awsFlags[from]!
    this.nhnFlags[to] = this.nhnFlags[from]!
    this.cause[to] = this.cause[from]!
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
