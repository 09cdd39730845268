import { IntegerSet } from './integer-set.js'
import type { PeerKey } from './least-privilege.js'

/**
 * The (destination port, peer) pairs of one protocol that a rule carried (least-privilege.ts).
 * A rule open to all ports sees tens of thousands of them, each with its own few peers: a set per
 * port would be that many growing objects for the garbage collector to mark. Instead one
 * IntegerSet holds every IPv4 pair as (port + 1) · 2^32 + address, and a port list says which
 * ports occur. Port -1 stands for a record without one (a protocol without ports, or a TCP or
 * UDP record whose destination port is `-`).
 */
export class PortPeers {
  /** Per port + 1: whether a record used it. */
  readonly #used = new Uint8Array(65537)
  readonly #v4 = new IntegerSet()
  /** Peers that are not IPv4 (text), per port. */
  readonly #other = new Map<number, Set<string>>()
  /** IPv4 peers added a list at a time (addAll), each list at its port. */
  readonly #lists: { port: number; keys: readonly number[] }[] = []

  add(port: number, peer: PeerKey): void {
    this.addPort(port)
    if (typeof peer === 'number') {
      this.#v4.add((port + 1) * 4294967296 + (peer >>> 0))
      return
    }
    let texts = this.#other.get(port)
    if (texts === undefined) {
      texts = new Set()
      this.#other.set(port, texts)
    }
    texts.add(peer)
  }

  /**
   * Adds IPv4 peers (PeerKeys) at one port as one list, not pair by pair: audit's single records
   * give a rule's distinct peers of a protocol at once, hundreds of thousands, which the set would
   * hash one by one only for peers() to list them again (audit-singles.ts: peersOfSingles). The
   * list is kept as it is: a peer it shares with other pairs of the port comes twice in peers().
   */
  addAll(port: number, keys: readonly number[]): void {
    this.addPort(port)
    this.#lists.push({ port, keys })
  }

  /** Marks `port` used, its peers to come (audit-singles.ts: peersOfSingles). */
  addPort(port: number): void {
    this.#used[port + 1] = 1
  }

  /** The ports used, ascending (-1 first when a record had none). */
  ports(): number[] {
    const ports: number[] = []
    for (let p = 0; p < this.#used.length; p++) if (this.#used[p] === 1) ports.push(p - 1)
    return ports
  }

  /**
   * The peers of the ports from `from` to `to` (all by default); a peer of two ports comes twice,
   * and so may one of a list (addAll).
   */
  peers(from = -1, to = 65535): PeerKey[] {
    const peers: PeerKey[] = []
    const v4 = this.#v4
    for (let i = 0; i < v4.size; i++) {
      const key = v4.at(i)
      const port = Math.floor(key / 4294967296) - 1
      if (port >= from && port <= to) peers.push((key >>> 0) | 0)
    }
    for (const { port, keys } of this.#lists) {
      if (port < from || port > to) continue
      for (let i = 0; i < keys.length; i++) peers.push(keys[i] ?? 0)
    }
    for (const [port, texts] of this.#other) if (port >= from && port <= to) peers.push(...texts)
    return peers
  }
}
