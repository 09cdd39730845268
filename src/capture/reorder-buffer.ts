import type { Frame } from '../core/frame.js'

/**
 * A bounded reorder of frames by capture time: holds at most `capacity` frames, their bytes copied
 * into one arena, and hands them back earliest first (equal times in the order they came).
 *
 * Fed as a sliding window (push until it refuses, then `shift` one), it puts back in order
 * any frame that arrives fewer than `capacity` frames, and less than the arena's bytes, after the
 * later frames it belongs before. Nothing is dropped: a frame that arrives later than that is
 * still handed out, out of order; the caller counts it.
 *
 * The arena is a ring filled in arrival order: a frame's bytes are contiguous (a frame that does
 * not fit before the arena's end starts again at 0), and space comes back once every frame that
 * arrived before it has been handed out. It starts small and doubles, up to `maxArenaBytes`, only
 * when the frames held need it (a reorder that hands frames out early stays small); nothing else is
 * allocated after construction. A shifted frame points into the arena and stays valid until the
 * next `push`.
 */
export class ReorderBuffer {
  readonly capacity: number
  private readonly maxArenaBytes: number
  private arena: Uint8Array
  // Per slot (slot = arrival sequence % capacity).
  private readonly start: Int32Array
  private readonly capturedLength: Int32Array
  private readonly originalLength: Float64Array
  private readonly time: Float64Array
  private readonly sequence: Float64Array
  private readonly linkType: Int32Array
  private readonly device: (string | null)[]
  private readonly handedOut: Uint8Array
  /** Slots not yet handed out, as a binary min-heap on (time, sequence). */
  private readonly heap: Int32Array
  private size = 0
  /** Arrival sequence of the next frame pushed. */
  private head = 0
  /** Arrival sequence of the oldest frame whose bytes still hold arena space. */
  private tail = 0
  /** Arena offsets: the next copy goes at `writeAt`; the oldest bytes held start at `readAt`. */
  private writeAt = 0
  private readAt = 0

  /** `maxArenaBytes` must be at least the largest frame that will be pushed. */
  constructor(capacity: number, maxArenaBytes: number, initialArenaBytes = 1 << 20) {
    this.capacity = capacity
    this.maxArenaBytes = maxArenaBytes
    this.arena = new Uint8Array(Math.min(initialArenaBytes, maxArenaBytes))
    this.start = new Int32Array(capacity)
    this.capturedLength = new Int32Array(capacity)
    this.originalLength = new Float64Array(capacity)
    this.time = new Float64Array(capacity)
    this.sequence = new Float64Array(capacity)
    this.linkType = new Int32Array(capacity)
    this.device = new Array<string | null>(capacity).fill(null)
    this.handedOut = new Uint8Array(capacity)
    this.heap = new Int32Array(capacity)
  }

  /** Frames held and not yet handed out. */
  get length(): number {
    return this.size
  }

  /** The time of the frame `shift` would hand out next; +Infinity when none is held. */
  get earliestTime(): number {
    return this.size === 0 ? Number.POSITIVE_INFINITY : this.time[this.heap[0]!]!
  }

  /** Bytes of the arena now (for tests: it grows only as far as the frames held need). */
  get arenaBytes(): number {
    return this.arena.length
  }

  /** Copies `frame` in; false, taking nothing, when it holds `capacity` frames or no room for the bytes. */
  push(frame: Frame): boolean {
    const length = frame.capturedLength
    if (this.head - this.tail >= this.capacity) return false
    let at = this.place(length)
    while (at < 0 && this.arena.length < this.maxArenaBytes) {
      this.grow()
      at = this.place(length)
    }
    if (at < 0) return false
    if (this.head === this.tail) this.readAt = at
    this.arena.set(frame.data.subarray(frame.offset, frame.offset + length), at)
    this.writeAt = at + length
    const slot = this.head % this.capacity
    this.start[slot] = at
    this.capturedLength[slot] = length
    this.originalLength[slot] = frame.originalLength
    this.time[slot] = frame.time
    this.sequence[slot] = this.head
    this.linkType[slot] = frame.linkType
    this.device[slot] = frame.device
    this.handedOut[slot] = 0
    this.head++
    this.siftUp(this.size++, slot)
    return true
  }

  /** Fills `frame` with the earliest frame held; false when none is. */
  shift(frame: Frame): boolean {
    if (this.size === 0) return false
    const heap = this.heap
    const slot = heap[0]!
    frame.data = this.arena
    frame.offset = this.start[slot]!
    frame.capturedLength = this.capturedLength[slot]!
    frame.originalLength = this.originalLength[slot]!
    frame.time = this.time[slot]!
    frame.linkType = this.linkType[slot]!
    frame.device = this.device[slot]!
    this.device[slot] = null
    this.size--
    if (this.size > 0) this.siftDown(heap[this.size]!)
    // Arena space comes back in arrival order: up to the oldest frame still held.
    this.handedOut[slot] = 1
    while (this.tail < this.head && this.handedOut[this.tail % this.capacity] === 1) this.tail++
    if (this.tail === this.head) {
      this.readAt = 0
      this.writeAt = 0
    } else {
      this.readAt = this.start[this.tail % this.capacity]!
    }
    return true
  }

  /**
   * Doubles the arena (up to its maximum), copying the frames still held to its start in arrival
   * order. Space of frames already handed out but not yet reclaimed is reclaimed by the copy.
   */
  private grow(): void {
    const arena = new Uint8Array(Math.min(this.arena.length * 2, this.maxArenaBytes))
    let at = 0
    for (let seq = this.tail; seq < this.head; seq++) {
      const slot = seq % this.capacity
      if (this.handedOut[slot] === 1) continue
      const start = this.start[slot]!
      const length = this.capturedLength[slot]!
      arena.set(this.arena.subarray(start, start + length), at)
      this.start[slot] = at
      at += length
    }
    this.arena = arena
    this.readAt = 0
    this.writeAt = at
  }

  /**
   * Where `length` bytes would go in the arena, or -1. Held bytes are [readAt, writeAt), or
   * [readAt, end) + [0, writeAt) once wrapped (writeAt < readAt, kept strictly below so a full
   * ring is never mistaken for an empty one).
   */
  private place(length: number): number {
    const size = this.arena.length
    if (this.head === this.tail) return length <= size ? 0 : -1
    if (this.writeAt >= this.readAt) {
      if (this.writeAt + length <= size) return this.writeAt
      return length < this.readAt ? 0 : -1
    }
    return this.writeAt + length < this.readAt ? this.writeAt : -1
  }

  private before(a: number, b: number): boolean {
    const ta = this.time[a]!
    const tb = this.time[b]!
    return ta < tb || (ta === tb && this.sequence[a]! < this.sequence[b]!)
  }

  private siftUp(i: number, slot: number): void {
    const heap = this.heap
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(slot, heap[parent]!)) break
      heap[i] = heap[parent]!
      i = parent
    }
    heap[i] = slot
  }

  /** Places `slot` (the heap's last element) from the root down. */
  private siftDown(slot: number): void {
    const heap = this.heap
    const size = this.size
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= size) break
      const right = left + 1
      const child = right < size && this.before(heap[right]!, heap[left]!) ? right : left
      if (!this.before(heap[child]!, slot)) break
      heap[i] = heap[child]!
      i = child
    }
    heap[i] = slot
  }
}
