import { type Frame, type FrameReader, newFrame } from '../core/frame.js'

/**
 * Yields the frames of several readers in time order: a k-way merge over a binary heap of reader
 * indexes. Each reader fills its own Frame, so nothing is copied: the merged frame points into the
 * chunk of the reader it came from, which stays valid because that reader is not advanced until
 * the next call. Equal times come from the lower reader index first, so a merge is deterministic.
 * Each input is assumed to be in time order itself (as captures are); it is not re-sorted.
 */
export function mergeReaders(readers: readonly FrameReader[]): FrameReader {
  if (readers.length === 1 && readers[0] !== undefined) return readers[0]
  return new MergedReader(readers)
}

class MergedReader implements FrameReader {
  private readonly frames: Frame[]
  private readonly heap: Int32Array
  private size = 0
  private started = false
  /** The reader whose frame was handed out last: advanced at the next call. */
  private last = -1

  constructor(private readonly readers: readonly FrameReader[]) {
    this.frames = readers.map(() => newFrame())
    this.heap = new Int32Array(readers.length)
  }

  /** Problems of all readers, summed by name. Built on access, which is rare (summaries). */
  get problems(): ReadonlyMap<string, number> {
    const merged = new Map<string, number>()
    for (const reader of this.readers) {
      for (const [name, count] of reader.problems) merged.set(name, (merged.get(name) ?? 0) + count)
    }
    return merged
  }

  next(frame: Frame): boolean {
    if (!this.started) {
      this.started = true
      for (let i = 0; i < this.readers.length; i++) {
        if (this.readers[i]!.next(this.frames[i]!)) this.push(i)
      }
    } else if (this.last >= 0) {
      // The last frame came from the heap's root; refill it in place or drop the finished reader.
      if (this.readers[this.last]!.next(this.frames[this.last]!)) this.siftDown(0)
      else this.popRoot()
    }
    if (this.size === 0) {
      this.last = -1
      return false
    }
    const index = this.heap[0]!
    const source = this.frames[index]!
    frame.data = source.data
    frame.offset = source.offset
    frame.capturedLength = source.capturedLength
    frame.originalLength = source.originalLength
    frame.time = source.time
    frame.linkType = source.linkType
    frame.device = source.device
    this.last = index
    return true
  }

  close(): void {
    for (const reader of this.readers) reader.close()
    this.size = 0
  }

  /** Heap order: earlier time first, then lower reader index. */
  private before(a: number, b: number): boolean {
    const ta = this.frames[a]!.time
    const tb = this.frames[b]!.time
    return ta < tb || (ta === tb && a < b)
  }

  private push(index: number): void {
    const heap = this.heap
    let i = this.size++
    heap[i] = index
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(heap[i]!, heap[parent]!)) break
      const swap = heap[parent]!
      heap[parent] = heap[i]!
      heap[i] = swap
      i = parent
    }
  }

  private popRoot(): void {
    this.size--
    if (this.size > 0) {
      this.heap[0] = this.heap[this.size]!
      this.siftDown(0)
    }
  }

  private siftDown(i: number): void {
    const heap = this.heap
    const size = this.size
    for (;;) {
      const left = 2 * i + 1
      if (left >= size) return
      const right = left + 1
      const child = right < size && this.before(heap[right]!, heap[left]!) ? right : left
      if (!this.before(heap[child]!, heap[i]!)) return
      const swap = heap[child]!
      heap[child] = heap[i]!
      heap[i] = swap
      i = child
    }
  }
}
