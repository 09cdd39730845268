import { isV4Mapped } from '../core/address.js'

/**
 * One flag per conversation (both directions of an address and port pair, one protocol, on one
 * interface), for what-if: whether the proposal stops the conversation at its opening record.
 * A replay meets millions of conversations and must remember every one it has seen, so IPv4
 * conversations, nearly all of them, are kept exactly in typed arrays: 16 bytes of key and one
 * byte of flag a slot, no string built and no object allocated a record. Other conversations
 * (IPv6, mixed families) go to a Map under a text key.
 *
 *   const flags = new ConversationFlags()
 *   const seen = flags.get(iface, protocol, words, srcport, dstport)   // undefined: not seen yet
 *   flags.set(iface, protocol, words, srcport, dstport, true)
 *   flags.setLast(true)   // the conversation of the last get: its key is not worked out again
 */

const EMPTY = 0
const FALSE = 1
const TRUE = 2
/** Grow when the table is this full (linear probing keeps short runs below it). */
const MAX_LOAD = 0.75

/**
 * Slots a table starts with, and the most `clear` keeps (a larger one goes back to the start): a
 * replay clears it once per conversation group, so neither the clear nor a regrowth may cost more
 * than the group's own conversations.
 */
const SMALL = 64
const KEEP = 4096

export class ConversationFlags {
  #capacity = SMALL
  #keys = new Uint32Array(this.#capacity * 4)
  #states = new Uint8Array(this.#capacity)
  #size = 0
  /** The slots in use (the first #size), which `clear` empties. */
  #taken = new Int32Array(this.#capacity)
  readonly #other = new Map<string, boolean>()
  /** The key of the last get, so a set that follows it does not work it out again. */
  readonly #key = new Uint32Array(4)
  /** Where the last get found its conversation or would put it (-1: in #other, under #lastOther). */
  #lastSlot = -1
  #lastOther = ''

  /** Conversations seen. */
  get size(): number {
    return this.#size + this.#other.size
  }

  /** Forgets every conversation (a replay's next group of them). */
  clear(): void {
    if (this.#capacity > KEEP) {
      this.#capacity = SMALL
      this.#keys = new Uint32Array(this.#capacity * 4)
      this.#states = new Uint8Array(this.#capacity)
      this.#taken = new Int32Array(this.#capacity)
    } else for (let i = 0; i < this.#size; i++) this.#states[this.#taken[i] ?? 0] = EMPTY
    this.#size = 0
    if (this.#other.size > 0) this.#other.clear()
    this.#lastSlot = -1
  }

  /**
   * The flag of a conversation, undefined when it has not been seen. `words`: the record's source
   * and destination addresses, 4 words each (parseWords).
   */
  get(
    iface: number,
    protocol: number,
    words: Uint32Array,
    srcport: number,
    dstport: number,
  ): boolean | undefined {
    if (!this.#exactKey(iface, protocol, words, srcport, dstport)) {
      this.#lastSlot = -1
      this.#lastOther = otherKey(iface, protocol, words, srcport, dstport)
      return this.#other.get(this.#lastOther)
    }
    const slot = this.#find()
    this.#lastSlot = slot
    const state = this.#states[slot]
    return state === EMPTY ? undefined : state === TRUE
  }

  /** Sets the flag of the conversation of the last get, right after it (one probe for both). */
  setLast(flag: boolean): void {
    if (this.#lastSlot < 0) {
      this.#other.set(this.#lastOther, flag)
      return
    }
    this.#put(this.#lastSlot, flag)
  }

  set(
    iface: number,
    protocol: number,
    words: Uint32Array,
    srcport: number,
    dstport: number,
    flag: boolean,
  ): void {
    if (!this.#exactKey(iface, protocol, words, srcport, dstport)) {
      this.#other.set(otherKey(iface, protocol, words, srcport, dstport), flag)
      return
    }
    this.#put(this.#find(), flag)
  }

  /** Sets the flag of #key, whose slot (found by #find) is `slot`. */
  #put(slot: number, flag: boolean): void {
    if (this.#states[slot] === EMPTY) {
      if (this.#size + 1 > this.#capacity * MAX_LOAD) {
        this.#grow()
        slot = this.#find()
      }
      this.#keys.set(this.#key, slot * 4)
      this.#taken[this.#size++] = slot
    }
    this.#states[slot] = flag ? TRUE : FALSE
    this.#lastSlot = slot
  }

  /**
   * Puts the exact key of an IPv4 conversation in #key: interface and protocol, then the two
   * endpoints in a fixed order (lower address, then lower port, first), so both directions meet.
   * False when the conversation is not IPv4 on both sides or the interface number does not fit.
   */
  #exactKey(iface: number, protocol: number, words: Uint32Array, srcport: number, dstport: number): boolean {
    if (!isV4Mapped(words, 0) || !isV4Mapped(words, 4) || iface >= 1 << 24) return false
    const src = words[3] ?? 0
    const dst = words[7] ?? 0
    const srcFirst = src < dst || (src === dst && srcport <= dstport)
    const key = this.#key
    key[0] = iface * 256 + protocol
    key[1] = srcFirst ? src : dst
    key[2] = srcFirst ? dst : src
    key[3] = srcFirst ? srcport * 65536 + dstport : dstport * 65536 + srcport
    return true
  }

  /** The slot holding #key, or the empty slot where it belongs. */
  #find(): number {
    const key = this.#key
    const k0 = key[0] ?? 0
    const k1 = key[1] ?? 0
    const k2 = key[2] ?? 0
    const k3 = key[3] ?? 0
    const mask = this.#capacity - 1
    let slot = hash(k0, k1, k2, k3) & mask
    const keys = this.#keys
    const states = this.#states
    while (states[slot] !== EMPTY) {
      const at = slot * 4
      if (keys[at] === k0 && keys[at + 1] === k1 && keys[at + 2] === k2 && keys[at + 3] === k3) return slot
      slot = (slot + 1) & mask
    }
    return slot
  }

  #grow(): void {
    const keys = this.#keys
    const states = this.#states
    const old = this.#capacity
    this.#capacity = old * 2
    this.#keys = new Uint32Array(this.#capacity * 4)
    this.#states = new Uint8Array(this.#capacity)
    this.#taken = new Int32Array(this.#capacity)
    let moved = 0
    const saved = Uint32Array.from(this.#key)
    for (let slot = 0; slot < old; slot++) {
      const state = states[slot] ?? EMPTY
      if (state === EMPTY) continue
      this.#key.set(keys.subarray(slot * 4, slot * 4 + 4))
      const to = this.#find()
      this.#keys.set(this.#key, to * 4)
      this.#states[to] = state
      this.#taken[moved++] = to
    }
    this.#key.set(saved)
  }
}

/** Murmur3's 32-bit hash of the four key words. */
function hash(a: number, b: number, c: number, d: number): number {
  let h = mix(0x9747b28c, a)
  h = mix(h, b)
  h = mix(h, c)
  h = mix(h, d)
  h ^= 16
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

function mix(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51)
  k = Math.imul((k << 15) | (k >>> 17), 0x1b873593)
  const x = h ^ k
  return (Math.imul((x << 13) | (x >>> 19), 5) + 0xe6546b64) | 0
}

/** The text key of a conversation that is not IPv4 on both sides: both endpoints in a fixed order. */
function otherKey(
  iface: number,
  protocol: number,
  words: Uint32Array,
  srcport: number,
  dstport: number,
): string {
  const a = `${Array.from(words.subarray(0, 4)).join(':')} ${srcport}`
  const b = `${Array.from(words.subarray(4, 8)).join(':')} ${dstport}`
  return `${iface} ${protocol} ${a < b ? `${a} ${b}` : `${b} ${a}`}`
}
