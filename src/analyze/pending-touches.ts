import type { PacketView } from '../core/packet-view.js'
import type { Direction } from '../core/verdict.js'

/**
 * The end-of-record touches a replay still has ahead (rejudge.ts), taken in (time, record order),
 * which replays them exactly as a sort of all of them would. Touches are pushed in record order,
 * so the touches of one time are a queue: each distinct time has one, and only the distinct times
 * are kept in order (a small heap: records end within seconds or minutes of each other), which
 * makes a push or a pop constant work whatever the number of touches waiting.
 *
 * A touch keeps a copy of the packet its record stood for, not the record: records wait here for
 * seconds (a record's end), and a heap of record objects would keep millions of them alive long
 * enough to reach V8's old generation, to be collected there at far greater cost. Typed arrays
 * hold the copies; nothing is allocated a touch. Each touch carries a mask of the replays it is
 * for (a what-if replays two policies in step, and one record's touch serves both).
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
const STRIDE = 22

export class PendingTouches {
  #slots = new Float64Array(64 * STRIDE)
  /** The touch after each slot's in its time's queue (-1: none). */
  #nextOfSlot = new Int32Array(64)
  /** Slots free for reuse; every slot below #used that is not queued is here. */
  #free = new Int32Array(64)
  #freeCount = 0
  #used = 0
  #size = 0

  /** Per queue (one per distinct time waiting): its time, first and last slot. */
  #queueTime = new Float64Array(16)
  #head = new Int32Array(16)
  #tail = new Int32Array(16)
  #freeQueues: number[] = []
  #queues = 0
  readonly #queueOf = new Map<number, number>()
  /** The queues by time: a min-heap of queue numbers. */
  #heap = new Int32Array(16)
  #heapSize = 0

  get size(): number {
    return this.#size
  }

  /** The time of the earliest touch (+Infinity when there is none). */
  get nextTime(): number {
    return this.#heapSize === 0 ? Number.POSITIVE_INFINITY : (this.#queueTime[this.#heap[0] ?? 0] ?? 0)
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
    this.#nextOfSlot[slot] = -1
    let queue = this.#queueOf.get(time)
    if (queue === undefined) {
      queue = this.#newQueue(time)
      this.#head[queue] = slot
    } else this.#nextOfSlot[this.#tail[queue] ?? 0] = slot
    this.#tail[queue] = slot
    this.#size++
  }

  /**
   * Takes the earliest touch: fills `view` with its packet and returns its time; `into` gets its
   * interface, direction and mask. Only when size > 0.
   */
  pop(view: PacketView, into: { iface: number; direction: Direction; mask: number }): number {
    const queue = this.#heap[0] ?? 0
    const time = this.#queueTime[queue] ?? 0
    const top = this.#head[queue] ?? 0
    const next = this.#nextOfSlot[top] ?? -1
    if (next < 0) this.#dropEarliestQueue()
    else this.#head[queue] = next
    this.#size--
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
    return time
  }

  /** Drops every touch waiting (a replay's next conversation, whose touches are its own). */
  clear(): void {
    if (this.#size === 0 && this.#used === 0) return
    this.#freeCount = 0
    this.#used = 0
    this.#size = 0
    this.#freeQueues.length = 0
    this.#queues = 0
    // Key by key: Map.clear would allocate a new table, once a conversation.
    for (let i = 0; i < this.#heapSize; i++) this.#queueOf.delete(this.#queueTime[this.#heap[i] ?? 0] ?? 0)
    this.#heapSize = 0
  }

  /** A queue for a time not waiting yet, placed in the heap of times. */
  #newQueue(time: number): number {
    let queue = this.#freeQueues.pop()
    if (queue === undefined) {
      queue = this.#queues++
      if (queue === this.#queueTime.length) {
        this.#queueTime = grown(this.#queueTime)
        this.#head = grown(this.#head)
        this.#tail = grown(this.#tail)
      }
    }
    this.#queueTime[queue] = time
    this.#queueOf.set(time, queue)
    if (this.#heapSize === this.#heap.length) this.#heap = grown(this.#heap)
    const heap = this.#heap
    const times = this.#queueTime
    let i = this.#heapSize++
    while (i > 0) {
      const parent = (i - 1) >> 1
      const above = heap[parent] ?? 0
      if (!(time < (times[above] ?? 0))) break
      heap[i] = above
      i = parent
    }
    heap[i] = queue
    return queue
  }

  /** Removes the earliest time's queue, now empty, from the heap. */
  #dropEarliestQueue(): void {
    const heap = this.#heap
    const times = this.#queueTime
    const queue = heap[0] ?? 0
    this.#queueOf.delete(times[queue] ?? 0)
    this.#freeQueues.push(queue)
    const n = --this.#heapSize
    if (n === 0) return
    // The last queue sinks from the root to its place.
    const last = heap[n] ?? 0
    const lastTime = times[last] ?? 0
    let i = 0
    for (;;) {
      let child = 2 * i + 1
      if (child >= n) break
      const r = child + 1
      if (r < n && (times[heap[r] ?? 0] ?? 0) < (times[heap[child] ?? 0] ?? 0)) child = r
      if (!((times[heap[child] ?? 0] ?? 0) < lastTime)) break
      heap[i] = heap[child] ?? 0
      i = child
    }
    heap[i] = last
  }

  #allocate(): number {
    if (this.#freeCount > 0) return this.#free[--this.#freeCount] ?? 0
    if (this.#used * STRIDE === this.#slots.length) {
      const slots = new Float64Array(this.#slots.length * 2)
      slots.set(this.#slots)
      this.#slots = slots
      this.#nextOfSlot = grown(this.#nextOfSlot)
    }
    return this.#used++
  }
}

function grown<T extends Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer>>(array: T): T {
  const out = new (array.constructor as new (length: number) => T)(array.length * 2)
  out.set(array)
  return out
}
