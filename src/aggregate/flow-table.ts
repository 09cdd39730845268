import type { ClosedWindow } from '../core/flow-record.js'
import type { PacketView } from '../core/packet-view.js'
import {
  ADDED,
  KEY_WORDS,
  MAX_INTERFACES,
  MAX_INTERVAL,
  newSlots,
  recordMeta,
  slotsFor,
  slotsOf,
  WindowRecords,
} from './window-records.js'

type SkipCount = { packets: number; bytes: number; first: number; last: number }

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
 * already closed are counted as `latePackets`, never added to a later window. A closed window goes
 * out as it is, its table's buffer included (ClosedWindow): whoever formats it turns it into a
 * batch (windowBatch), so closing costs the packet thread nothing, and may give the emptied buffer
 * back (`recycle`) for a later window.
 */
export class FlowTable {
  readonly interval: number
  readonly capacity: number
  /** Interfaces this table records (the union over its flow logs), for NODATA at window close. */
  coveredInterfaces: readonly number[]

  /** Tables of the open windows (few: the lateness keeps at most two or three open). */
  private readonly open: WindowRecords[] = []
  /** Emptied table buffers given back (recycle), for the next windows. */
  private readonly spares: ArrayBuffer[] = []
  /** The table the last packet went to (the fast path). */
  private current: WindowRecords | null = null
  private size = 0
  /** Records of the last window emitted. */
  private lastWindowRecords = 0
  private readonly probe = new Uint32Array(KEY_WORDS)

  /**
   * Skipped packets/bytes per window, then per interface. Two levels rather than one packed number:
   * window * 2^16 + interface would be inexact past 2^53 (1-s windows after year 6300) and would
   * mix up interfaces beyond 65535.
   */
  private readonly skipped = new Map<number, Map<number, SkipCount>>()

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
  private readonly maxIdleWindows: number
  private readonly onWindow: (window: ClosedWindow) => void

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
    onWindow: (window: ClosedWindow) => void
  }) {
    // Record keys and times are packed (window-records.ts); the config's bounds keep within them.
    if (!(options.interval > 0 && options.interval <= MAX_INTERVAL))
      throw new RangeError(`aggregation interval ${options.interval} s is not in 1..${MAX_INTERVAL}`)
    this.interval = options.interval
    this.capacity = Math.max(1, options.capacity)
    this.coveredInterfaces = []
    this.setCoverage(options.coveredInterfaces)
    this.lateness = options.lateness
    this.maxIdleWindows = options.maxIdleWindows ?? 3600
    this.onWindow = options.onWindow
  }

  /**
   * The interfaces to give NODATA records from now on (a flow log added or removed live): windows
   * still open take the new set at their close; whoever writes them filters by each flow log's
   * own coverage, so a wider set only adds rows nobody keeps.
   */
  setCoverage(interfaces: readonly number[]): void {
    if (interfaces.some((i) => i >= MAX_INTERFACES))
      throw new RangeError(`more than ${MAX_INTERFACES} interfaces`)
    this.coveredInterfaces = interfaces
  }

  /**
   * Copies of the windows not closed yet at `time`, as they stand (the open window of a flow log
   * removed live is written from them at once, partial). The table itself is left as it is: its
   * windows still close as usual for the other flow logs of the interval.
   */
  openWindows(time: number): ClosedWindow[] {
    if (!this.started) return []
    const last = Math.max(this.maxWindow, Math.floor(time / this.interval))
    const windows: ClosedWindow[] = []
    for (let window = this.closedBelow; window <= last; window++) {
      const table = this.open.find((t) => t.window === window) ?? null
      const skips: ClosedWindow['skips'] = []
      for (const [iface, s] of this.skipped.get(window) ?? []) skips.push({ iface, ...s })
      // A window before the clock started (or already given NODATA) goes out only with records.
      if (window <= this.lastEmitted && table === null && skips.length === 0) continue
      windows.push({
        windowStart: window * this.interval,
        windowEnd: (window + 1) * this.interval,
        slots: table === null ? null : table.buffer.slice(0),
        records: table?.size ?? 0,
        skips,
        covered: this.coveredInterfaces,
      })
    }
    return windows
  }

  /** Records now held (across open windows). */
  get records(): number {
    return this.size
  }

  /** Bytes of the tables, for the memory-per-flow figure. */
  get memoryBytes(): number {
    let bytes = 0
    for (const b of this.spares) bytes += b.byteLength
    for (const t of this.open) bytes += t.memoryBytes
    return bytes
  }

  /**
   * Takes back the emptied buffer of a closed window (windowBatch emptied it) for a later window:
   * memory already mapped and clear. Only the largest two are kept.
   */
  recycle(buffer: ArrayBuffer): void {
    if (buffer.byteLength === 0) return
    this.spares.push(buffer)
    this.spares.sort((a, b) => b.byteLength - a.byteLength)
    if (this.spares.length > 2) this.spares.length = 2
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
    const s = this.skipped.get(window)?.get(iface)
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
    const table = new WindowRecords(this.interval, window, this.bufferFor(slotsFor(expected)))
    this.open.push(table)
    if (window > this.maxWindow) this.maxWindow = window
    this.current = table
    return table
  }

  /**
   * An empty buffer of about `wanted` slots: a recycled one if one is large enough, else a new one.
   * Spares four times too large are let go: a burst must not pin its memory for ever.
   */
  private bufferFor(wanted: number): ArrayBuffer {
    for (let i = this.spares.length - 1; i >= 0; i--) {
      if (slotsOf(this.spares[i]!) >= wanted * 4) this.spares.splice(i, 1)
    }
    const at = this.spares.findIndex((b) => slotsOf(b) >= wanted)
    return at >= 0 ? this.spares.splice(at, 1)[0]! : newSlots(wanted)
  }

  private skip(window: number, iface: number, bytes: number, time: number): void {
    this.skippedPackets++
    if (window > this.maxWindow) this.maxWindow = window
    let ofWindow = this.skipped.get(window)
    if (ofWindow === undefined) {
      ofWindow = new Map()
      this.skipped.set(window, ofWindow)
    }
    const s = ofWindow.get(iface)
    if (s === undefined) ofWindow.set(iface, { packets: 1, bytes, first: time, last: time })
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
    for (const w of this.skipped.keys()) if (w < closeBelow) windows.add(w)
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

  /** Removes the records of `window` (and its skip counters) and hands them over as they are. */
  private takeWindow(window: number): ClosedWindow {
    const at = this.open.findIndex((t) => t.window === window)
    const table = at >= 0 ? this.open[at]! : null
    const skips: ClosedWindow['skips'] = []
    for (const [iface, s] of this.skipped.get(window) ?? []) skips.push({ iface, ...s })
    this.skipped.delete(window)
    if (table !== null) {
      this.lastWindowRecords = table.size
      this.size -= table.size
      this.open.splice(at, 1)
      if (this.current === table) this.current = null
    }
    return {
      windowStart: window * this.interval,
      windowEnd: (window + 1) * this.interval,
      slots: table?.buffer ?? null,
      records: table?.size ?? 0,
      skips,
      covered: this.coveredInterfaces,
    }
  }
}
