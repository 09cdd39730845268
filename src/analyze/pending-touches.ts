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
const STRIDE = 21

export class PendingTouches {
  #slots = new Float64Array(64 * STRIDE)
  /** The heap: slot numbers, with each one's time and order beside it (compared without a detour). */
  #heap = new Int32Array(64)
  #heapTime = new Float64Array(64)
  #heapOrder = new Float64Array(64)
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
    return this.#size === 0 ? Number.POSITIVE_INFINITY : (this.#heapTime[0] ?? 0)
  }

  /** Adds a touch at `time` of the packet in `view` on interface `iface`, `order` its record's place. */
  push(time: number, order: number, iface: number, direction: Direction, view: PacketView): void {
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
    if (this.#size === this.#heap.length) {
      this.#heap = grown(this.#heap)
      this.#heapTime = grown(this.#heapTime)
      this.#heapOrder = grown(this.#heapOrder)
    }
    const heap = this.#heap
    const times = this.#heapTime
    const orders = this.#heapOrder
    let i = this.#size++
    while (i > 0) {
      const parent = (i - 1) >> 1
      const t = times[parent] ?? 0
      if (!(time < t || (time === t && order < (orders[parent] ?? 0)))) break
      heap[i] = heap[parent] ?? 0
      times[i] = t
      orders[i] = orders[parent] ?? 0
      i = parent
    }
    heap[i] = slot
    times[i] = time
    orders[i] = order
  }

  /**
   * Takes the earliest touch: fills `view` with its packet and returns its time; `into` gets its
   * interface and direction. Only when size > 0.
   */
  pop(view: PacketView, into: { iface: number; direction: Direction }): number {
    const heap = this.#heap
    const times = this.#heapTime
    const orders = this.#heapOrder
    const top = heap[0] ?? 0
    const time = times[0] ?? 0
    const n = --this.#size
    if (n > 0) {
      // The last element sinks from the root to its place.
      const last = heap[n] ?? 0
      const lastTime = times[n] ?? 0
      const lastOrder = orders[n] ?? 0
      let i = 0
      for (;;) {
        let child = 2 * i + 1
        if (child >= n) break
        const r = child + 1
        if (r < n) {
          const tr = times[r] ?? 0
          const tl = times[child] ?? 0
          if (tr < tl || (tr === tl && (orders[r] ?? 0) < (orders[child] ?? 0))) child = r
        }
        const tc = times[child] ?? 0
        if (!(tc < lastTime || (tc === lastTime && (orders[child] ?? 0) < lastOrder))) break
        heap[i] = heap[child] ?? 0
        times[i] = tc
        orders[i] = orders[child] ?? 0
        i = child
      }
      heap[i] = last
      times[i] = lastTime
      orders[i] = lastOrder
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
    return time
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
