/**
 * A set of integers from 0 to 2^53 - 1 in typed arrays: the sets an audit fills per rule (peers,
 * (port, peer) pairs) hold millions of members, and a JavaScript Set of them costs a heap number
 * for most values, a rehash of everything as it grows, and marking work for the garbage collector
 * every time it runs. Open addressing over doubles (NaN for empty), one probe a lookup; members
 * iterate in the order they were first added.
 *
 *   const set = new IntegerSet()
 *   set.add(2 ** 40 + 7)   // true: it was not there
 *   set.has(7)             // false
 */
export class IntegerSet implements Iterable<number> {
  #table = new Float64Array(16).fill(Number.NaN)
  /** The members in the order they were added (iteration). */
  #values = new Float64Array(16)
  #count = 0

  get size(): number {
    return this.#count
  }

  /** Adds `key` (an integer, 0 ≤ key < 2^53); whether it was new. */
  add(key: number): boolean {
    const slot = this.#slotOf(key)
    if (this.#table[slot] === key) return false
    this.#table[slot] = key
    if (this.#count === this.#values.length) {
      const values = new Float64Array(this.#count * 2)
      values.set(this.#values)
      this.#values = values
    }
    this.#values[this.#count++] = key
    if (this.#count * 4 > this.#table.length * 3) this.#grow()
    return true
  }

  has(key: number): boolean {
    return this.#table[this.#slotOf(key)] === key
  }

  /** The i-th member added (0 ≤ i < size). */
  at(i: number): number {
    return this.#values[i] ?? 0
  }

  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = 0; i < this.#count; i++) yield this.#values[i] ?? 0
  }

  /** The slot of `key`, or the empty one where it belongs (linear probing). */
  #slotOf(key: number): number {
    const table = this.#table
    const mask = table.length - 1
    let slot = hashOf(key) & mask
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

/**
 * Both 32-bit halves mixed by Murmur3's finaliser: IPv4 peers of one network differ in their low
 * bits only, and pairs of one peer in their high bits only.
 */
function hashOf(key: number): number {
  const low = key >>> 0
  const high = ((key - low) / 4294967296) | 0
  let h = low ^ Math.imul(high, 0x9e3779b1)
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}
