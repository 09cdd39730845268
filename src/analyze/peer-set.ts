/**
 * The set of peers a rule carried (least-privilege.ts): a busy rule sees millions of addresses, and
 * a JavaScript Set of them costs a heap number for most IPv4 values (above 2^30) and a rehash of
 * everything as it grows. IPv4 peers (PeerKeys that are numbers) live in an open-addressing table
 * of doubles, NaN for empty, one probe a lookup; the rest in a Set. Iterates IPv4 peers in the
 * order they were added, then the others.
 */
export class PeerSet implements Iterable<number | string> {
  #table = new Float64Array(16).fill(Number.NaN)
  /** The IPv4 peers in the order they were added (iteration). */
  #values = new Int32Array(16)
  #count = 0
  readonly #other = new Set<string>()

  get size(): number {
    return this.#count + this.#other.size
  }

  add(key: number | string): this {
    if (typeof key === 'string') {
      this.#other.add(key)
      return this
    }
    const slot = this.#slotOf(key)
    if (this.#table[slot] === key) return this
    this.#table[slot] = key
    if (this.#count === this.#values.length) {
      const values = new Int32Array(this.#count * 2)
      values.set(this.#values)
      this.#values = values
    }
    this.#values[this.#count++] = key
    if (this.#count * 4 > this.#table.length * 3) this.#grow()
    return this
  }

  has(key: number | string): boolean {
    if (typeof key === 'string') return this.#other.has(key)
    return this.#table[this.#slotOf(key)] === key
  }

  *[Symbol.iterator](): IterableIterator<number | string> {
    for (let i = 0; i < this.#count; i++) yield this.#values[i] ?? 0
    yield* this.#other
  }

  /** The slot of `key`, or the empty one where it belongs (linear probing). */
  #slotOf(key: number): number {
    const table = this.#table
    const mask = table.length - 1
    let slot = mix(key) & mask
    for (;;) {
      const at = table[slot] ?? Number.NaN
      if (at === key || Number.isNaN(at)) return slot
      slot = (slot + 1) & mask
    }
  }

  #grow(): void {
    this.#table = new Float64Array(this.#table.length * 2).fill(Number.NaN)
    for (let i = 0; i < this.#count; i++) {
      const key = this.#values[i] ?? 0
      this.#table[this.#slotOf(key)] = key
    }
  }
}

/** Murmur3's finaliser: IPv4 peers of one network differ in their low bits only. */
function mix(key: number): number {
  let h = key | 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}
