import type { PacketView } from '../core/packet-view.js'

/**
 * The verdicts of first fragments, so later fragments (no transport header, ports 0) get the
 * verdict of their datagram, as Linux conntrack gives them after reassembly. A small direct-mapped
 * cache: a collision overwrites, an entry lives FRAGMENT_LIFETIME seconds (Linux ipfrag_time).
 * Allocation-free.
 */
export const FRAGMENT_LIFETIME = 30

const SLOTS = 4096
const WORDS = 11 // iface, protocol, fragment id, source (4), destination (4)

export class FragmentVerdicts {
  readonly #keys = new Uint32Array(SLOTS * WORDS)
  readonly #cause = new Int32Array(SLOTS)
  readonly #expires = new Float64Array(SLOTS)

  /** Remembers the verdict of a first fragment. */
  remember(iface: number, view: PacketView, cause: number, time: number): void {
    const slot = this.#slot(iface, view)
    const k = slot * WORDS
    const keys = this.#keys
    keys[k] = iface
    keys[k + 1] = view.protocol
    keys[k + 2] = view.fragmentId
    for (let w = 0; w < 4; w++) {
      keys[k + 3 + w] = view.src[w] ?? 0
      keys[k + 7 + w] = view.dst[w] ?? 0
    }
    this.#cause[slot] = cause
    this.#expires[slot] = time + FRAGMENT_LIFETIME
  }

  /** The verdict of the datagram a later fragment belongs to, or null when its first fragment is unknown. */
  recall(iface: number, view: PacketView, time: number): number | null {
    const slot = this.#slot(iface, view)
    if (!((this.#expires[slot] ?? 0) > time)) return null
    const k = slot * WORDS
    const keys = this.#keys
    if (keys[k] !== iface || keys[k + 1] !== view.protocol || keys[k + 2] !== view.fragmentId >>> 0)
      return null
    for (let w = 0; w < 4; w++) {
      if (keys[k + 3 + w] !== view.src[w] || keys[k + 7 + w] !== view.dst[w]) return null
    }
    return this.#cause[slot] ?? null
  }

  #slot(iface: number, view: PacketView): number {
    let h = Math.imul(view.fragmentId ^ (iface << 8) ^ view.protocol, 0x9e3779b1)
    h ^= Math.imul((view.src[3] ?? 0) ^ (view.dst[3] ?? 0), 0x85ebca6b)
    h ^= h >>> 16
    return (h >>> 0) & (SLOTS - 1)
  }
}
