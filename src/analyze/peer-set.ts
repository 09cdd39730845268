import { IntegerSet } from './integer-set.js'

/**
 * The set of peers a rule carried (least-privilege.ts), as PeerKeys: IPv4 peers (numbers, signed
 * 32-bit) in an IntegerSet, the rest in a Set. Iterates IPv4 peers in the order they were added,
 * then the others.
 */
export class PeerSet implements Iterable<number | string> {
  readonly #v4 = new IntegerSet()
  readonly #other = new Set<string>()

  get size(): number {
    return this.#v4.size + this.#other.size
  }

  add(key: number | string): this {
    if (typeof key === 'string') this.#other.add(key)
    else this.#v4.add(key >>> 0)
    return this
  }

  has(key: number | string): boolean {
    return typeof key === 'string' ? this.#other.has(key) : this.#v4.has(key >>> 0)
  }

  *[Symbol.iterator](): IterableIterator<number | string> {
    for (const v of this.#v4) yield v | 0
    yield* this.#other
  }
}
