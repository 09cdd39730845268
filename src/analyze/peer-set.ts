import { IntegerSet } from './integer-set.js'
import { peerText } from './least-privilege.js'

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

  /**
   * The peers as text, sorted as strings sort (what `[...set].map(peerText).sort()` gives): an
   * audit lists every peer of a rule, hundreds of thousands, and comparing their text costs a
   * second. Dotted quads sort as strings do when each octet is replaced by its text's rank among
   * the 256 octets' texts ('.' sorts before every digit, so a shorter octet that is a prefix of a
   * longer one comes first either way): all-IPv4 sets sort as those numbers.
   */
  sortedTexts(): string[] {
    if (this.#other.size > 0) return [...this].map(peerText).sort()
    const keys = new Uint32Array(this.#v4.size)
    for (let i = 0; i < keys.length; i++) {
      const v = this.#v4.at(i)
      keys[i] =
        (((OCTET_RANK[v >>> 24] ?? 0) << 24) |
          ((OCTET_RANK[(v >>> 16) & 255] ?? 0) << 16) |
          ((OCTET_RANK[(v >>> 8) & 255] ?? 0) << 8) |
          (OCTET_RANK[v & 255] ?? 0)) >>>
        0
    }
    keys.sort()
    const texts = new Array<string>(keys.length)
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] ?? 0
      texts[i] =
        `${OCTET_BY_RANK[k >>> 24]}.${OCTET_BY_RANK[(k >>> 16) & 255]}.${OCTET_BY_RANK[(k >>> 8) & 255]}.${OCTET_BY_RANK[k & 255]}`
    }
    return texts
  }
}

/** The octets' texts in string order, and each octet's rank in it. */
const OCTET_BY_RANK = Array.from({ length: 256 }, (_, i) => String(i)).sort()
const OCTET_RANK = Uint8Array.from({ length: 256 }, (_, i) => OCTET_BY_RANK.indexOf(String(i)))
