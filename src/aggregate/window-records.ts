import type { RecordBatch } from '../core/flow-record.js'
import type { PacketView } from '../core/packet-view.js'
import { LOG_STATUS } from '../core/verdict.js'
import { AWS_TCP_FLAGS, NHN_TCP_FLAGS } from './tcp-flags.js'

/** Words of a record key: interface, protocol|direction|action, src ×4, dst ×4, ports. */
export const KEY_WORDS = 11
/**
 * Records live in the slots of an open-addressing hash table, 24 32-bit words (96 bytes) each,
 * so a lookup that hits touches one record's cache lines and nothing else (no separate index,
 * no parallel arrays): words 0-10 key · 11 hash · 12-13 packets (f64) · 14-15 bytes (f64) ·
 * 16-17 first (f64) · 18-19 last (f64) · 20 AWS flags | NHN flags << 8 · 21 cause (i32) · 22 used.
 */
const STRIDE = 24
const F64_PER_SLOT = STRIDE / 2
const HASH = 11
const PACKETS = 6
const BYTES = 7
const FIRST = 8
const LAST = 9
const FLAGS = 20
const CAUSE = 21
const USED = 22
export const INITIAL_SLOTS = 1 << 13

/** What `add` did with a packet. */
export const ADDED = { TO_RECORD: 0, NEW_RECORD: 1, NO_ROOM: 2 } as const

/**
 * The flow records of one window. The table doubles at half load; when its window closes it is
 * emptied and reused for a later window, so closing a window costs one pass and no rehash.
 */
export class WindowRecords {
  window = -1
  size = 0
  private words: Uint32Array
  private numbers: Float64Array
  private signed: Int32Array
  private mask: number

  /** A table with room for about `records` records before it must grow. */
  static forRecords(records: number): WindowRecords {
    let slots = INITIAL_SLOTS
    while (slots < records * 2) slots *= 2
    return new WindowRecords(slots)
  }

  constructor(slots = INITIAL_SLOTS) {
    const buffer = new ArrayBuffer(slots * STRIDE * 4)
    this.words = new Uint32Array(buffer)
    this.numbers = new Float64Array(buffer)
    this.signed = new Int32Array(buffer)
    this.mask = slots - 1
  }

  get memoryBytes(): number {
    return this.words.byteLength
  }

  /**
   * Adds one packet with key `k` (KEY_WORDS words) to its record, creating the record when
   * `mayCreate` allows (the caller's capacity bound). Allocation-free but for table growth.
   */
  add(k: Uint32Array, view: PacketView, time: number, cause: number, mayCreate: boolean): number {
    const hash = hashKey(k)
    let slot = this.find(k, hash)
    let result: number = ADDED.TO_RECORD
    if (slot < 0) {
      if (!mayCreate) return ADDED.NO_ROOM
      if (this.size * 2 >= this.mask + 1) this.resize((this.mask + 1) * 2)
      slot = this.insert(k, hash, time, cause)
      result = ADDED.NEW_RECORD
    }
    const n = this.numbers
    const at = slot * F64_PER_SLOT
    n[at + PACKETS]! += 1
    n[at + BYTES]! += view.ipLength
    if (time < n[at + FIRST]!) n[at + FIRST] = time
    if (time > n[at + LAST]!) n[at + LAST] = time
    const flags = view.tcpFlags
    if (flags !== 0)
      this.words[slot * STRIDE + FLAGS]! |= AWS_TCP_FLAGS[flags]! | (NHN_TCP_FLAGS[flags]! << 8)
    return result
  }

  /** Adds the interfaces that have records here to `seen`. */
  collectInterfaces(seen: Set<number>): void {
    const words = this.words
    for (let base = 0; base < words.length; base += STRIDE)
      if (words[base + USED] !== 0) seen.add(words[base]!)
  }

  /** Writes every record into `batch` from row `out` on; returns the next free row. */
  emit(batch: RecordBatch, out: number): number {
    const words = this.words
    const numbers = this.numbers
    for (let slot = 0, base = 0; base < words.length; slot++, base += STRIDE) {
      if (words[base + USED] === 0) continue
      const meta = words[base + 1]!
      batch.iface[out] = words[base]!
      batch.status[out] = LOG_STATUS.OK
      batch.protocol[out] = meta & 0xff
      batch.direction[out] = (meta >>> 8) & 0x3
      batch.action[out] = (meta >>> 10) & 0x1
      for (let w = 0; w < 4; w++) {
        batch.src[out * 4 + w] = words[base + 2 + w]!
        batch.dst[out * 4 + w] = words[base + 6 + w]!
      }
      batch.srcPort[out] = words[base + 10]! >>> 16
      batch.dstPort[out] = words[base + 10]! & 0xffff
      const at = slot * F64_PER_SLOT
      batch.packets[out] = numbers[at + PACKETS]!
      batch.bytes[out] = numbers[at + BYTES]!
      batch.first[out] = numbers[at + FIRST]!
      batch.last[out] = numbers[at + LAST]!
      batch.awsTcpFlags[out] = words[base + FLAGS]! & 0xff
      batch.nhnTcpFlags[out] = words[base + FLAGS]! >>> 8
      batch.cause[out] = this.signed[base + CAUSE]!
      out++
    }
    return out
  }

  /**
   * Empties the table for reuse by `window`. A table far larger than what it held shrinks, so a
   * burst does not pin its memory for ever.
   */
  reset(window: number): void {
    const slots = this.mask + 1
    if (slots > INITIAL_SLOTS && this.size * 8 < slots) {
      const smaller = Math.max(INITIAL_SLOTS, slots / 2)
      const buffer = new ArrayBuffer(smaller * STRIDE * 4)
      this.words = new Uint32Array(buffer)
      this.numbers = new Float64Array(buffer)
      this.signed = new Int32Array(buffer)
      this.mask = smaller - 1
    } else {
      this.words.fill(0)
    }
    this.size = 0
    this.window = window
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
        words[base + 10] === k[10] &&
        words[base + 5] === k[5] &&
        words[base + 9] === k[9] &&
        words[base + 1] === k[1] &&
        words[base] === k[0] &&
        words[base + 2] === k[2] &&
        words[base + 3] === k[3] &&
        words[base + 4] === k[4] &&
        words[base + 6] === k[6] &&
        words[base + 7] === k[7] &&
        words[base + 8] === k[8]
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
    for (let w = 0; w < KEY_WORDS; w++) words[base + w] = k[w]!
    words[base + HASH] = hash
    words[base + FLAGS] = 0
    words[base + USED] = 1
    this.signed[base + CAUSE] = cause
    const at = slot * F64_PER_SLOT
    this.numbers[at + PACKETS] = 0
    this.numbers[at + BYTES] = 0
    this.numbers[at + FIRST] = time
    this.numbers[at + LAST] = time
    this.size++
    return slot
  }

  /** Moves every record into a table of `slots` slots (a power of two). */
  private resize(slots: number): void {
    const from = this.words
    const buffer = new ArrayBuffer(slots * STRIDE * 4)
    const words = new Uint32Array(buffer)
    this.words = words
    this.numbers = new Float64Array(buffer)
    this.signed = new Int32Array(buffer)
    this.mask = slots - 1
    for (let base = 0; base < from.length; base += STRIDE) {
      if (from[base + USED] === 0) continue
      let slot = (from[base + HASH]! | 0) & this.mask
      while (words[slot * STRIDE + USED] !== 0) slot = (slot + 1) & this.mask
      const to = slot * STRIDE
      for (let w = 0; w < STRIDE; w++) words[to + w] = from[base + w]!
    }
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
