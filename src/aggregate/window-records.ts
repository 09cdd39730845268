import type { RecordBatch } from '../core/flow-record.js'
import type { PacketView } from '../core/packet-view.js'
import { LOG_STATUS } from '../core/verdict.js'
import { AWS_TCP_FLAGS, NHN_TCP_FLAGS } from './tcp-flags.js'

/** Words of a record key: USED | interface | action | direction | protocol, src ×4, dst ×4, ports. */
export const KEY_WORDS = 10
/** Set in a record's first word: marks the slot used (an empty slot is all zeros). */
export const USED = 0x80000000
/** Interfaces a record key can name (the bits left below USED after protocol, direction, action). */
export const MAX_INTERFACES = 1 << 20

/**
 * Records live in the slots of an open-addressing hash table, 16 32-bit words (64 bytes, a cache
 * line) each, so a lookup that hits touches one record and nothing else (no separate index, no
 * parallel arrays): words 0-9 the key · 10-11 bytes (f64) · 12 packets · 13 cause (i32) ·
 * 14 first | AWS flags << 20 · 15 last | NHN flags << 20. First and last are milliseconds into the
 * window (the finest any format shows; 20 bits hold the longest interval, 900 s). Packets wrap
 * only past 2^32 in one record and window, millions of packets a second for a quarter of an hour.
 */
const STRIDE = 16
const F64_PER_SLOT = STRIDE / 2
const BYTES = 5
const PACKETS = 12
const CAUSE = 13
const FIRST = 14
const LAST = 15
const TIME_BITS = 20
const TIME_MASK = (1 << TIME_BITS) - 1
/** The longest window, in seconds, whose milliseconds fit the time bits. */
export const MAX_INTERVAL = Math.floor(TIME_MASK / 1000)
export const INITIAL_SLOTS = 1 << 13
/** The most a table grows in one step, however many records its window seems headed for. */
const MAX_GROWTH = 16

/** What `add` did with a packet. */
export const ADDED = { TO_RECORD: 0, NEW_RECORD: 1, NO_ROOM: 2 } as const

/**
 * The flow records of one window: an open-addressing table over one buffer, which doubles (or
 * more, see grownSlots) at half load. When the window closes the buffer itself is handed on
 * (FlowTable's ClosedWindow): whoever turns it into a batch (readSlots) empties it on the way, so
 * it can come back for a later window without being cleared.
 */
export class WindowRecords {
  size = 0
  /** The window's start in unix milliseconds: records keep their times relative to it. */
  private readonly startMs: number
  /** The earliest record's time (ms into the window): where the window's filling began. */
  private earliestMs = Number.POSITIVE_INFINITY
  // Three views of one buffer, set by use().
  private words!: Uint32Array
  private numbers!: Float64Array
  private signed!: Int32Array
  private mask!: number

  /**
   * The table of `window` (of `interval` seconds) in `buffer`, whose slots must all be empty (a
   * new buffer, or one readSlots emptied); a new buffer of INITIAL_SLOTS when null.
   */
  constructor(
    readonly interval: number,
    readonly window: number,
    buffer: ArrayBuffer | null = null,
  ) {
    this.startMs = window * interval * 1000
    this.use(buffer ?? newSlots(INITIAL_SLOTS))
  }

  /** The table's buffer, for handing on when its window closes. */
  get buffer(): ArrayBuffer {
    return this.words.buffer as ArrayBuffer
  }

  get memoryBytes(): number {
    return this.words.byteLength
  }

  /**
   * Adds one packet with key `k` (KEY_WORDS words, the first with USED set) to its record,
   * creating the record when `mayCreate` allows (the caller's capacity bound). Allocation-free but
   * for table growth.
   */
  add(k: Uint32Array, view: PacketView, time: number, cause: number, mayCreate: boolean): number {
    const hash = hashKey(k, 0)
    const ms = Math.floor(time * 1000 + 0.0005) - this.startMs
    let slot = this.find(k, hash)
    let result: number = ADDED.TO_RECORD
    if (slot < 0) {
      if (!mayCreate) return ADDED.NO_ROOM
      // The empty slot the search ended on is where the record goes, unless the table grows.
      let free = -slot - 1
      if (this.size * 2 >= this.mask + 1) {
        this.resize(this.grownSlots(ms))
        free = this.freeSlot(hash)
      }
      slot = this.insert(free, k, ms, cause)
      result = ADDED.NEW_RECORD
    }
    const words = this.words
    const base = slot * STRIDE
    words[base + PACKETS]!++
    this.numbers[slot * F64_PER_SLOT + BYTES]! += view.ipLength
    let first = words[base + FIRST]!
    let last = words[base + LAST]!
    if (ms < (first & TIME_MASK)) first = (first & ~TIME_MASK) | ms
    if (ms > (last & TIME_MASK)) last = (last & ~TIME_MASK) | ms
    const flags = view.tcpFlags
    if (flags !== 0) {
      first |= AWS_TCP_FLAGS[flags]! << TIME_BITS
      last |= NHN_TCP_FLAGS[flags]! << TIME_BITS
    }
    words[base + FIRST] = first
    words[base + LAST] = last
    return result
  }

  /**
   * The slots to grow to when the table is half full at `ms` into its window: room for the
   * records the window is heading for at its pace so far (a window that fills steadily, as the
   * first of a capture does, then grows twice or so instead of a dozen times, each a rehash of
   * everything), at least double and at most MAX_GROWTH times the slots now.
   */
  private grownSlots(ms: number): number {
    const slots = this.mask + 1
    const filling = Math.max(1, ms - this.earliestMs)
    const expected = (this.size * (this.interval * 1000 - this.earliestMs)) / filling
    let grown = slots * 2
    while (grown < expected * 2 && grown < slots * MAX_GROWTH) grown *= 2
    return grown
  }

  /** Reads and writes through `buffer` from now on. */
  private use(buffer: ArrayBuffer): void {
    this.words = new Uint32Array(buffer)
    this.numbers = new Float64Array(buffer)
    this.signed = new Int32Array(buffer)
    this.mask = buffer.byteLength / (STRIDE * 4) - 1
  }

  /**
   * The slot holding key `k`, or -(slot + 1) of the empty slot where it would go. Words most likely
   * to differ are compared first.
   */
  private find(k: Uint32Array, hash: number): number {
    const words = this.words
    const mask = this.mask
    let slot = hash & mask
    for (;;) {
      const base = slot * STRIDE
      const meta = words[base]!
      if (meta === 0) return -slot - 1
      if (
        words[base + 9] === k[9] &&
        words[base + 4] === k[4] &&
        words[base + 8] === k[8] &&
        meta === k[0] &&
        words[base + 1] === k[1] &&
        words[base + 2] === k[2] &&
        words[base + 3] === k[3] &&
        words[base + 5] === k[5] &&
        words[base + 6] === k[6] &&
        words[base + 7] === k[7]
      ) {
        return slot
      }
      slot = (slot + 1) & mask
    }
  }

  /** The first empty slot of `hash`'s probe sequence. */
  private freeSlot(hash: number): number {
    const words = this.words
    let slot = hash & this.mask
    while (words[slot * STRIDE] !== 0) slot = (slot + 1) & this.mask
    return slot
  }

  /** A new record with key `k` in the empty `slot`. */
  private insert(slot: number, k: Uint32Array, ms: number, cause: number): number {
    const words = this.words
    const base = slot * STRIDE
    for (let w = 0; w < KEY_WORDS; w++) words[base + w] = k[w]!
    this.numbers[slot * F64_PER_SLOT + BYTES] = 0
    words[base + PACKETS] = 0
    this.signed[base + CAUSE] = cause
    words[base + FIRST] = ms
    words[base + LAST] = ms
    if (ms < this.earliestMs) this.earliestMs = ms
    this.size++
    return slot
  }

  /** Moves every record into a new buffer of `slots` slots (a power of two). */
  private resize(slots: number): void {
    const from = this.words
    this.use(newSlots(slots))
    const words = this.words
    // Word by word, no views: a table of a million records moves a million of them.
    for (let base = 0; base < from.length; base += STRIDE) {
      if (from[base] === 0) continue
      let slot = hashKey(from, base) & this.mask
      while (words[slot * STRIDE] !== 0) slot = (slot + 1) & this.mask
      const to = slot * STRIDE
      for (let w = 0; w < STRIDE; w++) words[to + w] = from[base + w]!
    }
  }
}

/** A new buffer of `slots` empty slots (a power of two). */
export function newSlots(slots: number): ArrayBuffer {
  return new ArrayBuffer(slots * STRIDE * 4)
}

/** How many slots a table buffer has. */
export function slotsOf(buffer: ArrayBuffer): number {
  return buffer.byteLength / (STRIDE * 4)
}

/**
 * Writes every record of a closed window's table buffer into `batch` from row `out` on, and sets
 * `seen[iface]` for the interfaces they belong to (one pass for both); returns the next free row.
 * Each slot's first word is cleared as it is read (insert writes every other word), so the buffer
 * comes out empty, ready for a later window.
 */
export function readSlots(
  buffer: ArrayBuffer,
  windowStart: number,
  interval: number,
  batch: RecordBatch,
  out: number,
  seen: Uint8Array,
): number {
  const words = new Uint32Array(buffer)
  const numbers = new Float64Array(buffer)
  const signed = new Int32Array(buffer)
  // The window's last millisecond: a packet a hair before the window's end may round up to it.
  const lastMs = interval * 1000 - 1
  for (let slot = 0, base = 0; base < words.length; slot++, base += STRIDE) {
    const meta = words[base]!
    if (meta === 0) continue
    words[base] = 0
    const iface = interfaceOf(meta)
    seen[iface] = 1
    batch.iface[out] = iface
    batch.status[out] = LOG_STATUS.OK
    batch.protocol[out] = meta & 0xff
    batch.direction[out] = (meta >>> 8) & 0x3
    batch.action[out] = (meta >>> 10) & 0x1
    for (let w = 0; w < 4; w++) {
      batch.src[out * 4 + w] = words[base + 1 + w]!
      batch.dst[out * 4 + w] = words[base + 5 + w]!
    }
    batch.srcPort[out] = words[base + 9]! >>> 16
    batch.dstPort[out] = words[base + 9]! & 0xffff
    batch.packets[out] = words[base + PACKETS]!
    batch.bytes[out] = numbers[slot * F64_PER_SLOT + BYTES]!
    const first = words[base + FIRST]!
    const last = words[base + LAST]!
    batch.first[out] = windowStart + Math.min(first & TIME_MASK, lastMs) / 1000
    batch.last[out] = windowStart + Math.min(last & TIME_MASK, lastMs) / 1000
    batch.awsTcpFlags[out] = first >>> TIME_BITS
    batch.nhnTcpFlags[out] = last >>> TIME_BITS
    batch.cause[out] = signed[base + CAUSE]!
    out++
  }
  return out
}

/** The interface index in a record's first word (below USED, above protocol, direction and action). */
function interfaceOf(meta: number): number {
  return (meta & ~USED) >>> 11
}

/** A record's first word: USED and what, besides the addresses and ports, tells records apart. */
export function recordMeta(iface: number, protocol: number, direction: number, action: number): number {
  return (USED | (iface << 11) | (action << 10) | (direction << 8) | protocol) >>> 0
}

/**
 * Slots for `records` records: the smallest power of two they fill at most half of. (More room
 * for a busier next window would double the memory whenever a window's records sit just under a
 * power of two; a window that outgrows it rehashes once.)
 */
export function slotsFor(records: number): number {
  let slots = INITIAL_SLOTS
  while (slots < records * 2) slots *= 2
  return slots
}

/** FNV-1a-style mix over the key words at `at`; good enough spread for linear probing. */
function hashKey(words: Uint32Array, at: number): number {
  let h = 0x811c9dc5
  for (let i = 0; i < KEY_WORDS; i++) {
    h = Math.imul(h ^ words[at + i]!, 0x01000193)
    h ^= h >>> 15
  }
  return h | 0
}
