import type { RecordBatch } from '../core/flow-record.js'
import type { PacketView } from '../core/packet-view.js'
import { LOG_STATUS } from '../core/verdict.js'
import { AWS_TCP_FLAGS, NHN_TCP_FLAGS } from './tcp-flags.js'

/** Words of one record key: window, interface, protocol|direction|action, src ×4, dst ×4, ports. */
const KEY_WORDS = 12
/**
 * Records live in the slots of an open-addressing hash table, 24 32-bit words (96 bytes) each,
 * so a lookup that hits touches one record's cache lines and nothing else (no separate index,
 * no parallel arrays): words 0-11 key · 12-13 packets (f64) · 14-15 bytes (f64) · 16-17 first
 * (f64) · 18-19 last (f64) · 20 AWS flags | NHN flags << 8 · 21 cause (i32) · 22 hash · 23 used.
 */
const STRIDE = 24
const F64_PER_RECORD = STRIDE / 2
const PACKETS = 6
const BYTES = 7
const FIRST = 8
const LAST = 9
const FLAGS = 20
const CAUSE = 21
const HASH = 22
const USED = 23
const INITIAL_SLOTS = 1 << 13

/**
 * Per-window flow records of one aggregation interval (DESIGN 2): one record per
 * (window, interface, 5-tuple, direction, action), with first/last time, packets, bytes and the
 * TCP flags of both clouds.
 *
 * Adding a packet allocates nothing. The table doubles (at half load) while it holds fewer than
 * `capacity` records; a packet that would need a record beyond it is counted into its
 * interface's SKIPDATA record for the window.
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
  /** The slots: three views of one buffer. */
  private words = new Uint32Array(0)
  private numbers = new Float64Array(0)
  private signed = new Int32Array(0)
  private mask = 0
  private readonly probe = new Uint32Array(KEY_WORDS)

  /** Skipped packets/bytes per (window, interface), keyed window * 2^16 + interface (exact in a double). */
  private readonly skipped = new Map<
    number,
    { packets: number; bytes: number; first: number; last: number }
  >()

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
    this.resize(INITIAL_SLOTS)
  }

  /** Records now held (across open windows). */
  get records(): number {
    return this.size
  }

  /** Bytes of the table's slots, for the memory-per-flow figure. */
  get memoryBytes(): number {
    return this.words.byteLength
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

    const hash = hashKey(k)
    let record = this.find(k, hash)
    if (record < 0) {
      if (this.size >= this.capacity) {
        this.skip(window, iface, view.ipLength, time)
        return
      }
      if (this.size * 2 >= this.mask + 1) this.resize((this.mask + 1) * 2)
      record = this.insert(k, hash, time, cause)
    }
    const n = this.numbers
    const at = record * F64_PER_RECORD
    n[at + PACKETS]! += 1
    n[at + BYTES]! += view.ipLength
    if (time < n[at + FIRST]!) n[at + FIRST] = time
    if (time > n[at + LAST]!) n[at + LAST] = time
    const flags = view.tcpFlags
    if (flags !== 0)
      this.words[record * STRIDE + FLAGS]! |= AWS_TCP_FLAGS[flags]! | (NHN_TCP_FLAGS[flags]! << 8)
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

  /** The slot holding key `k`, or -1. */
  private find(k: Uint32Array, hash: number): number {
    const words = this.words
    const mask = this.mask
    let slot = hash & mask
    for (;;) {
      const base = slot * STRIDE
      if (words[base + USED] === 0) return -1
      if (
        (words[base + HASH]! | 0) === hash &&
        words[base + 11] === k[11] &&
        words[base + 6] === k[6] &&
        words[base + 10] === k[10] &&
        words[base + 2] === k[2] &&
        words[base + 1] === k[1] &&
        words[base] === k[0] &&
        words[base + 3] === k[3] &&
        words[base + 4] === k[4] &&
        words[base + 5] === k[5] &&
        words[base + 7] === k[7] &&
        words[base + 8] === k[8] &&
        words[base + 9] === k[9]
      ) {
        return slot
      }
      slot = (slot + 1) & mask
    }
  }

  private insert(k: Uint32Array, hash: number, time: number, cause: number): number {
    const words = this.words
    let slot = hash & this.mask
    while (words[slot * STRIDE + USED] !== 0) slot = (slot + 1) & this.mask
    const base = slot * STRIDE
    words.set(k, base)
    words[base + FLAGS] = 0
    words[base + HASH] = hash
    words[base + USED] = 1
    this.signed[base + CAUSE] = cause
    const at = slot * F64_PER_RECORD
    this.numbers[at + PACKETS] = 0
    this.numbers[at + BYTES] = 0
    this.numbers[at + FIRST] = time
    this.numbers[at + LAST] = time
    this.size++
    if (this.size > this.peakRecords) this.peakRecords = this.size
    return slot
  }

  /** Moves every record into a table of `slots` slots (a power of two). */
  private resize(slots: number): void {
    const old = this.words
    const buffer = new ArrayBuffer(slots * STRIDE * 4)
    this.words = new Uint32Array(buffer)
    this.numbers = new Float64Array(buffer)
    this.signed = new Int32Array(buffer)
    this.mask = slots - 1
    this.rehash(old)
  }

  /** Re-inserts the used slots of `from` into the (empty) current table. */
  private rehash(from: Uint32Array): void {
    const words = this.words
    for (let base = 0; base < from.length; base += STRIDE) {
      if (from[base + USED] === 0) continue
      let slot = (from[base + HASH]! | 0) & this.mask
      while (words[slot * STRIDE + USED] !== 0) slot = (slot + 1) & this.mask
      const to = slot * STRIDE
      for (let w = 0; w < STRIDE; w++) words[to + w] = from[base + w]!
    }
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
    const words = this.words
    for (let base = 0; base < words.length; base += STRIDE) {
      if (words[base + USED] !== 0 && words[base]! < closeBelow) windows.add(words[base]!)
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
    const words = this.words
    const numbers = this.numbers
    let count = 0
    const seen = new Set<number>()
    for (let base = 0; base < words.length; base += STRIDE) {
      if (words[base + USED] !== 0 && words[base] === window) {
        count++
        seen.add(words[base + 1]!)
      }
    }
    const skips: { iface: number; packets: number; bytes: number; first: number; last: number }[] = []
    for (const [key, s] of this.skipped) {
      if (Math.floor(key / 65536) === window) {
        skips.push({ iface: key % 65536, ...s })
        this.skipped.delete(key)
      }
    }
    for (const s of skips) seen.add(s.iface)
    const idle = this.coveredInterfaces.filter((i) => !seen.has(i))

    const batch = newBatch(
      count + skips.length + idle.length,
      window * this.interval,
      (window + 1) * this.interval,
    )
    let out = 0
    for (let slot = 0, base = 0; base < words.length; slot++, base += STRIDE) {
      if (words[base + USED] === 0 || words[base] !== window) continue
      const meta = words[base + 2]!
      batch.iface[out] = words[base + 1]!
      batch.status[out] = LOG_STATUS.OK
      batch.protocol[out] = meta & 0xff
      batch.direction[out] = (meta >>> 8) & 0x3
      batch.action[out] = (meta >>> 10) & 0x1
      for (let w = 0; w < 4; w++) {
        batch.src[out * 4 + w] = words[base + 3 + w]!
        batch.dst[out * 4 + w] = words[base + 7 + w]!
      }
      batch.srcPort[out] = words[base + 11]! >>> 16
      batch.dstPort[out] = words[base + 11]! & 0xffff
      const at = slot * F64_PER_RECORD
      batch.packets[out] = numbers[at + PACKETS]!
      batch.bytes[out] = numbers[at + BYTES]!
      batch.first[out] = numbers[at + FIRST]!
      batch.last[out] = numbers[at + LAST]!
      batch.awsTcpFlags[out] = words[base + FLAGS]! & 0xff
      batch.nhnTcpFlags[out] = words[base + FLAGS]! >>> 8
      batch.cause[out] = this.signed[base + CAUSE]!
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
    if (count > 0) this.removeWindow(window, count)
    return batch
  }

  /**
   * Drops the records of a closed window. Open addressing cannot just blank slots (probe chains
   * would break), so the table is rebuilt from the survivors, which are usually few: only the
   * next window's first seconds, within the lateness.
   */
  private removeWindow(window: number, count: number): void {
    const old = this.words
    this.size -= count
    // Shrink back towards the working set when a burst has passed, never below the start size.
    let slots = this.mask + 1
    while (slots > INITIAL_SLOTS && this.size * 8 < slots) slots /= 2
    for (let base = 0; base < old.length; base += STRIDE) if (old[base] === window) old[base + USED] = 0
    if (this.size === 0 && slots === this.mask + 1) {
      old.fill(0)
      return
    }
    this.resize(slots)
  }
}

/** FNV-1a-style mix over the key words; good enough spread for linear probing. */
function hashKey(words: Uint32Array): number {
  let h = 0x811c9dc5
  for (let i = 0; i < KEY_WORDS; i++) {
    h = Math.imul(h ^ words[i]!, 0x01000193)
    h ^= h >>> 15
  }
  return h | 0
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
