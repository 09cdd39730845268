import type { PacketView } from '../core/packet-view.js'
import type { Direction } from '../core/verdict.js'

/**
 * The end-of-record touches a replay still has ahead (rejudge.ts), as a min-heap ordered by
 * (time, record order), which replays them exactly as a sort of all of them would.
 *
 * A touch keeps a copy of the packet its record stood for, not the record: records wait here for
 * seconds (a record's end), and a heap of record objects would keep millions of them alive long
 * enough to reach V8's old generation, to be collected there at far greater cost. Typed arrays
 * hold the copies; nothing is allocated a touch.
 */

// The fields of a slot, in one Float64Array (a uint32 address word is exact in a double).
const TIME = 0
const ORDER = 1
const IFACE = 2
const DIRECTION = 3
const IP_VERSION = 4
const PROTOCOL = 5
const SRC = 6
const DST = 10
const SRC_PORT = 14
const DST_PORT = 15
const TCP_FLAGS = 16
const IP_LENGTH = 17
const ICMP_TYPE = 18
const ICMP_CODE = 19
const ICMP_ID = 20
const FRAGMENT = 21
const FRAGMENT_ID = 22
const STRIDE = 23

export class PendingTouches {
  #slots = new Float64Array(64 * STRIDE)
  /** Heap of slot numbers. */
  #heap = new Int32Array(64)
  #size = 0
  /** Slots free for reuse; every slot below #used that is not in the heap is here. */
  #free = new Int32Array(64)
  #freeCount = 0
  #used = 0

  get size(): number {
    return this.#size
  }

  /** The time of the earliest touch (+Infinity when there is none). */
  get nextTime(): number {
    return this.#size === 0
      ? Number.POSITIVE_INFINITY
      : (this.#slots[(this.#heap[0] ?? 0) * STRIDE + TIME] ?? 0)
  }

  /** Adds a touch at `time` of the packet in `view` on interface `iface`, `order` its record's place. */
  push(time: number, order: number, iface: number, direction: Direction, view: PacketView): void {
    const slot = this.#allocate()
    const s = this.#slots
    const at = slot * STRIDE
    s[at + TIME] = time
    s[at + ORDER] = order
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
    if (this.#size === this.#heap.length) this.#heap = grown(this.#heap)
    let i = this.#size++
    const heap = this.#heap
    while (i > 0) {
      const parent = (i - 1) >> 1
      const up = heap[parent] ?? 0
      if (!this.#before(slot, up)) break
      heap[i] = up
      i = parent
    }
    heap[i] = slot
  }

  /**
   * Takes the earliest touch: fills `view` with its packet and returns its time; `into` gets its
   * interface and direction. Only when size > 0.
   */
  pop(view: PacketView, into: { iface: number; direction: Direction }): number {
    const heap = this.#heap
    const top = heap[0] ?? 0
    const last = heap[--this.#size] ?? 0
    if (this.#size > 0) {
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        if (l >= this.#size) break
        const r = l + 1
        const left = heap[l] ?? 0
        const child = r < this.#size && this.#before(heap[r] ?? 0, left) ? r : l
        const c = heap[child] ?? 0
        if (!this.#before(c, last)) break
        heap[i] = c
        i = child
      }
      heap[i] = last
    }
    const s = this.#slots
    const at = top * STRIDE
    into.iface = s[at + IFACE] ?? 0
    into.direction = (s[at + DIRECTION] ?? 0) as Direction
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

function grown(array: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const out = new Int32Array(array.length * 2)
  out.set(array)
  return out
}
