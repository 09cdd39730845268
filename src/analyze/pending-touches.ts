import type { PacketView } from '../core/packet-view.js'
import type { Direction } from '../core/verdict.js'

/**
 * The end-of-record touches a replay still has ahead (rejudge.ts), taken in (time, record order),
 * which replays them exactly as a sort of all of them would. A replay goes a conversation group at
 * a time and clears them between groups, so few wait at once: one binary heap of them, keyed by
 * time and then the order they were pushed in (records' order).
 *
 * A touch keeps a copy of the packet its record stood for, not the record: typed arrays hold the
 * copies, and nothing is allocated a touch. Each touch carries a mask of the replays it is for
 * (a what-if replays two policies in step, and one record's touch serves both).
 */

// The fields of a slot, in one Float64Array (a uint32 address word is exact in a double).
const IFACE = 0
const DIRECTION = 1
const IP_VERSION = 2
const PROTOCOL = 3
const SRC = 4
const DST = 8
const SRC_PORT = 12
const DST_PORT = 13
const TCP_FLAGS = 14
const IP_LENGTH = 15
const ICMP_TYPE = 16
const ICMP_CODE = 17
const ICMP_ID = 18
const FRAGMENT = 19
const FRAGMENT_ID = 20
const MASK = 21
const TIME = 22
/** The push's number: ties on time come out in push order. */
const ORDER = 23
const STRIDE = 24

export class PendingTouches {
  #slots = new Float64Array(64 * STRIDE)
  /** Slots free for reuse; every slot below #used that is not in the heap is here. */
  #free = new Int32Array(64)
  #freeCount = 0
  #used = 0
  /** The waiting touches' slots, a min-heap by (time, order). */
  #heap = new Int32Array(64)
  #size = 0
  #pushes = 0

  get size(): number {
    return this.#size
  }

  /** The time of the earliest touch (+Infinity when there is none). */
  get nextTime(): number {
    return this.#size === 0
      ? Number.POSITIVE_INFINITY
      : (this.#slots[(this.#heap[0] ?? 0) * STRIDE + TIME] ?? 0)
  }

  /**
   * Adds a touch at `time` of the packet in `view` on interface `iface`, for the replays in `mask`
   * (bit k: replay k). Touches are pushed in their records' order.
   */
  push(time: number, iface: number, direction: Direction, view: PacketView, mask = 1): void {
    const slot = this.#allocate()
    const s = this.#slots
    const at = slot * STRIDE
    s[at + IFACE] = iface
    s[at + DIRECTION] = direction
    s[at + IP_VERSION] = view.ipVersion
    s[at + PROTOCOL] = view.protocol
    for (let w = 0; w < 4; w++) {
      s[at + SRC + w] = view.src[w] ?? 0
      s[at + DST + w] = view.dst[w] ?? 0
    }
    s[at + SRC_PORT] = view.srcPort
    s[at + DST_PORT] = view.dstPort
    s[at + TCP_FLAGS] = view.tcpFlags
    s[at + IP_LENGTH] = view.ipLength
    s[at + ICMP_TYPE] = view.icmpType
    s[at + ICMP_CODE] = view.icmpCode
    s[at + ICMP_ID] = view.icmpId
    s[at + FRAGMENT] = view.fragment
    s[at + FRAGMENT_ID] = view.fragmentId
    s[at + MASK] = mask
    s[at + TIME] = time
    s[at + ORDER] = this.#pushes++
    if (this.#size === this.#heap.length) this.#heap = grown(this.#heap)
    const heap = this.#heap
    let i = this.#size++
    while (i > 0) {
      const parent = (i - 1) >> 1
      const above = heap[parent] ?? 0
      if (!this.#before(slot, above)) break
      heap[i] = above
      i = parent
    }
    heap[i] = slot
  }

  /**
   * Takes the earliest touch: fills `view` with its packet and returns its time; `into` gets its
   * interface, direction and mask. Only when size > 0.
   */
  pop(view: PacketView, into: { iface: number; direction: Direction; mask: number }): number {
    const heap = this.#heap
    const top = heap[0] ?? 0
    const n = --this.#size
    if (n > 0) {
      // The last touch sinks from the root to its place.
      const last = heap[n] ?? 0
      let i = 0
      for (;;) {
        let child = 2 * i + 1
        if (child >= n) break
        const right = child + 1
        if (right < n && this.#before(heap[right] ?? 0, heap[child] ?? 0)) child = right
        if (!this.#before(heap[child] ?? 0, last)) break
        heap[i] = heap[child] ?? 0
        i = child
      }
      heap[i] = last
    }
    const s = this.#slots
    const at = top * STRIDE
    into.iface = s[at + IFACE] ?? 0
    into.direction = (s[at + DIRECTION] ?? 0) as Direction
    into.mask = s[at + MASK] ?? 0
    view.ipVersion = s[at + IP_VERSION] ?? 0
    view.protocol = s[at + PROTOCOL] ?? 0
    for (let w = 0; w < 4; w++) {
      view.src[w] = s[at + SRC + w] ?? 0
      view.dst[w] = s[at + DST + w] ?? 0
    }
    view.srcPort = s[at + SRC_PORT] ?? 0
    view.dstPort = s[at + DST_PORT] ?? 0
    view.tcpFlags = s[at + TCP_FLAGS] ?? 0
    view.ipLength = s[at + IP_LENGTH] ?? 0
    view.icmpType = s[at + ICMP_TYPE] ?? -1
    view.icmpCode = s[at + ICMP_CODE] ?? -1
    view.icmpId = s[at + ICMP_ID] ?? -1
    view.fragment = s[at + FRAGMENT] ?? 0
    view.fragmentId = s[at + FRAGMENT_ID] ?? 0
    if (this.#freeCount === this.#free.length) this.#free = grown(this.#free)
    this.#free[this.#freeCount++] = top
    return s[at + TIME] ?? 0
  }

  /** Drops every touch waiting (a replay's next conversation group, whose touches are its own). */
  clear(): void {
    this.#freeCount = 0
    this.#used = 0
    this.#size = 0
  }

  /** Whether slot a's touch comes before slot b's: by time, then push order. */
  #before(a: number, b: number): boolean {
    const s = this.#slots
    const ta = s[a * STRIDE + TIME] ?? 0
    const tb = s[b * STRIDE + TIME] ?? 0
    return ta < tb || (ta === tb && (s[a * STRIDE + ORDER] ?? 0) < (s[b * STRIDE + ORDER] ?? 0))
  }

  #allocate(): number {
    if (this.#freeCount > 0) return this.#free[--this.#freeCount] ?? 0
    if (this.#used * STRIDE === this.#slots.length) {
      const slots = new Float64Array(this.#slots.length * 2)
      slots.set(this.#slots)
      this.#slots = slots
    }
    return this.#used++
  }
}

function grown<T extends Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer>>(array: T): T {
  const out = new (array.constructor as new (length: number) => T)(array.length * 2)
  out.set(array)
  return out
}
