import { closeSync, readSync } from 'node:fs'
import { CaptureError } from '../core/errors.js'

/**
 * Default read size: large enough that syscalls cost nothing per packet, small enough that the
 * frames just read are still in the core's L2 cache (half of this machine's 2 MiB) when they are
 * decoded; 4 MiB chunks cost a few percent more CPU on typical traffic.
 */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024

/**
 * A file read front to back through one reused buffer. Readers ask for `ensure(n)` bytes at `pos`
 * and then read them in place from `bytes`/`view`; nothing is copied per record.
 *
 * Data before `pos` may move or vanish at the next `ensure`, which is why a frame is valid only
 * until the reader's next `next()`. Reads use the fd's own position (position null), so a pipe or
 * FIFO works as well as a regular file.
 */
export class ChunkedFile {
  bytes: Uint8Array
  view: DataView
  /** Start of the unconsumed data in `bytes`. */
  pos = 0
  /** End of the valid data in `bytes`. */
  end = 0
  /** File offset of `bytes[0]`, for messages. */
  base = 0
  private eof = false
  private fd: number

  constructor(
    fd: number,
    readonly path: string,
    chunkSize = DEFAULT_CHUNK_SIZE,
  ) {
    this.fd = fd
    this.bytes = new Uint8Array(chunkSize)
    this.view = new DataView(this.bytes.buffer)
  }

  /** File offset of `pos`. */
  get filePosition(): number {
    return this.base + this.pos
  }

  /** Bytes available at `pos` without reading. */
  get available(): number {
    return this.end - this.pos
  }

  /**
   * Makes `n` bytes available at `pos`, reading (and compacting or growing the buffer) as needed.
   * False when the file ends first; whatever was there stays available.
   */
  ensure(n: number): boolean {
    if (this.end - this.pos >= n) return true
    if (this.eof) return false
    if (this.pos + n > this.bytes.length) this.makeRoom(n)
    while (this.end - this.pos < n) {
      const read = this.read(this.end, this.bytes.length - this.end)
      if (read === 0) {
        this.eof = true
        return false
      }
      this.end += read
    }
    return true
  }

  /** Moves past `n` bytes, reading and discarding what is not buffered. False when the file ends first. */
  skip(n: number): boolean {
    const buffered = this.end - this.pos
    if (n <= buffered) {
      this.pos += n
      return true
    }
    // Drop the buffer and read past the rest in whole chunks: blocks too big to buffer are rare.
    let remaining = n - buffered
    this.base += this.end
    this.pos = 0
    this.end = 0
    while (remaining > 0) {
      const read = this.read(0, Math.min(remaining, this.bytes.length))
      if (read === 0) {
        this.eof = true
        return false
      }
      this.base += read
      remaining -= read
    }
    return true
  }

  close(): void {
    if (this.fd < 0) return
    const fd = this.fd
    this.fd = -1
    this.eof = true
    closeSync(fd)
  }

  private makeRoom(n: number): void {
    const kept = this.end - this.pos
    if (n > this.bytes.length) {
      let size = this.bytes.length * 2
      while (size < n) size *= 2
      const bigger = new Uint8Array(size)
      bigger.set(this.bytes.subarray(this.pos, this.end))
      this.bytes = bigger
      this.view = new DataView(bigger.buffer)
    } else {
      this.bytes.copyWithin(0, this.pos, this.end)
    }
    this.base += this.pos
    this.pos = 0
    this.end = kept
  }

  private read(at: number, length: number): number {
    if (this.fd < 0) return 0
    try {
      return readSync(this.fd, this.bytes, at, length, null)
    } catch (cause) {
      throw new CaptureError(`cannot read ${this.path}: ${(cause as Error).message}`, { cause })
    }
  }
}
