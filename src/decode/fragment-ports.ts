import type { PacketView } from '../core/packet-view.js'

/** Words per key: source (4), destination (4), protocol, fragment id. */
const KEY_WORDS = 10
/** Slots tried from the hashed one before overwriting the oldest of them. */
const PROBES = 4

/**
 * Gives later IP fragments the ports of their first fragment, so a fragmented datagram counts as
 * one flow instead of splitting its later fragments into a port-0 flow.
 *
 * First fragments (view.fragment = 1) are remembered by (source, destination, protocol,
 * fragment id) with their ports (and ICMP type, code and echo id); a later fragment
 * (view.fragment = 2) with the same key gets them copied in. A later fragment whose first was not
 * seen (lost, reordered, or older than `maxAgeSeconds`) keeps ports 0 and still counts its bytes.
 * TCP flags are not copied: they belong to the first fragment only.
 *
 * Memory is fixed: an open-addressing table in typed arrays (`slots` rounded up to a power of
 * two), probing a few slots and overwriting the oldest when all are taken, so a fragment flood
 * degrades matching, never memory. `apply` allocates nothing. Call it after decodeFrame returned
 * DECODE.OK, in packet order.
 */
export class FragmentPorts {
  private readonly mask: number
  private readonly keys: Uint32Array
  private readonly times: Float64Array
  private readonly ports: Uint32Array
  private readonly icmpTypeCode: Int32Array
  private readonly icmpIds: Int32Array

  constructor(
    slots = 4096,
    private readonly maxAgeSeconds = 30,
  ) {
    let size = PROBES
    while (size < slots) size *= 2
    this.mask = size - 1
    this.keys = new Uint32Array(size * KEY_WORDS)
    this.times = new Float64Array(size).fill(Number.NEGATIVE_INFINITY)
    this.ports = new Uint32Array(size)
    this.icmpTypeCode = new Int32Array(size)
    this.icmpIds = new Int32Array(size)
  }

  /**
   * Remembers a first fragment or fills a later one. Returns true when a later fragment got the
   * ports of its first; false otherwise (including for packets that are not fragments).
   */
  apply(view: PacketView, time: number): boolean {
    if (view.fragment === 1) {
      this.remember(view, time)
      return false
    }
    if (view.fragment !== 2) return false
    const home = this.hash(view)
    for (let i = 0; i < PROBES; i++) {
      const slot = (home + i) & this.mask
      if (this.matches(slot, view) && this.fresh(slot, time)) {
        const ports = this.ports[slot]!
        view.srcPort = ports >>> 16
        view.dstPort = ports & 0xffff
        const typeCode = this.icmpTypeCode[slot]!
        if (typeCode >= 0) {
          view.icmpType = typeCode >> 8
          view.icmpCode = typeCode & 0xff
          view.icmpId = this.icmpIds[slot]!
        }
        return true
      }
    }
    return false
  }

  private remember(view: PacketView, time: number): void {
    const home = this.hash(view)
    // The same key again (a retransmitted first fragment) updates its slot; else a free or stale
    // slot; else the oldest of the probed ones is overwritten.
    let target = -1
    let oldest = home
    for (let i = 0; i < PROBES; i++) {
      const slot = (home + i) & this.mask
      if (this.matches(slot, view)) {
        target = slot
        break
      }
      if (target < 0 && !this.fresh(slot, time)) target = slot
      if (this.times[slot]! < this.times[oldest]!) oldest = slot
    }
    if (target < 0) target = oldest
    const keys = this.keys
    const k = target * KEY_WORDS
    keys[k] = view.src[0]!
    keys[k + 1] = view.src[1]!
    keys[k + 2] = view.src[2]!
    keys[k + 3] = view.src[3]!
    keys[k + 4] = view.dst[0]!
    keys[k + 5] = view.dst[1]!
    keys[k + 6] = view.dst[2]!
    keys[k + 7] = view.dst[3]!
    keys[k + 8] = view.protocol
    keys[k + 9] = view.fragmentId
    this.times[target] = time
    this.ports[target] = ((view.srcPort << 16) | view.dstPort) >>> 0
    this.icmpTypeCode[target] = view.icmpType < 0 ? -1 : (view.icmpType << 8) | view.icmpCode
    this.icmpIds[target] = view.icmpId
  }

  private fresh(slot: number, time: number): boolean {
    const age = time - this.times[slot]!
    return age <= this.maxAgeSeconds && age >= -this.maxAgeSeconds
  }

  private matches(slot: number, view: PacketView): boolean {
    const keys = this.keys
    const k = slot * KEY_WORDS
    const src = view.src
    const dst = view.dst
    return (
      keys[k + 9] === view.fragmentId &&
      keys[k + 8] === view.protocol &&
      keys[k + 3] === src[3] &&
      keys[k + 7] === dst[3] &&
      keys[k] === src[0] &&
      keys[k + 1] === src[1] &&
      keys[k + 2] === src[2] &&
      keys[k + 4] === dst[0] &&
      keys[k + 5] === dst[1] &&
      keys[k + 6] === dst[2]
    )
  }

  private hash(view: PacketView): number {
    let h = Math.imul(view.fragmentId ^ (view.protocol << 24), 0x9e3779b1)
    for (let i = 0; i < 4; i++) {
      h = Math.imul(h ^ view.src[i]!, 0x85ebca6b)
      h ^= h >>> 13
      h = Math.imul(h ^ view.dst[i]!, 0xc2b2ae35)
      h ^= h >>> 16
    }
    return h & this.mask
  }
}
