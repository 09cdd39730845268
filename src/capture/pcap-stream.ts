import type { Frame } from '../core/frame.js'
import { CAPTURE_PROBLEM, countProblem, MAX_CAPTURED_LENGTH } from './capture-problem.js'
import { PCAP_HEADER, PCAP_LINKTYPE_MASK, PCAP_MAGIC } from './pcap-format.js'

/** First buffer size: a pipe hands over at most 64 KiB per read, so this rarely grows. */
const INITIAL_SIZE = 1 << 20

/**
 * A classic pcap stream parsed as it arrives from a pipe (`tcpdump -w -`), for callers that read
 * asynchronously: each chunk is appended to one reused buffer with `push`, and `next` hands out
 * whole records only, in place. A record cut by a chunk boundary stays buffered until the chunks
 * that complete it arrive, so the parse never depends on how the pipe splits the data.
 *
 * A frame points into the buffer and is valid until the next `push` (which may move or overwrite
 * the data): consume every record `next` gives before pushing more. Nothing is allocated per
 * record; the buffer grows only when a chunk and the partial record before it do not fit.
 *
 * Bad data never throws. A stream that is not pcap, or a record length beyond the snap length,
 * sets `error` and ends the parse (pcap records carry no marker to resynchronise on); a stream that
 * ends inside a record counts `truncated-record` at `finish`.
 */
export class PcapStream {
  readonly problems = new Map<string, number>()
  /** LINKTYPE_* from the stream's header, -1 until the header has arrived. */
  linkType = -1
  snapLength = 0
  /** Why parsing stopped early (not pcap, an impossible record length), or null. */
  error: string | null = null
  private bytes: Uint8Array
  private view: DataView
  private pos = 0
  private end = 0
  private headerRead = false
  private littleEndian = true
  private fractionsPerSecond = 1e6
  private recordHeaderLength: number = PCAP_HEADER.RECORD_HEADER_LENGTH
  private maxCapturedLength = MAX_CAPTURED_LENGTH

  constructor(
    /** Named in `error` messages (the device). */
    private readonly name: string,
    /** Given to every frame. */
    private readonly device: string | null,
    initialSize = INITIAL_SIZE,
  ) {
    this.bytes = new Uint8Array(initialSize)
    this.view = new DataView(this.bytes.buffer)
  }

  /** Bytes received that do not form a whole record yet. */
  get pending(): number {
    return this.end - this.pos
  }

  /** Appends a chunk read from the pipe. Frames handed out before are invalid afterwards. */
  push(chunk: Uint8Array): void {
    const n = chunk.length
    if (n === 0) return
    if (this.pos === this.end) {
      this.pos = 0
      this.end = 0
    }
    if (this.end + n > this.bytes.length) this.makeRoom(n)
    this.bytes.set(chunk, this.end)
    this.end += n
  }

  /** Fills `frame` with the next whole record; false when more data is needed (or after an error). */
  next(frame: Frame): boolean {
    if (this.error !== null) return false
    if (!this.headerRead && !this.readHeader()) return false
    const headerLength = this.recordHeaderLength
    const p = this.pos
    if (this.end - p < headerLength) return false
    const view = this.view
    const le = this.littleEndian
    const capturedLength = view.getUint32(p + 8, le)
    if (capturedLength > this.maxCapturedLength) {
      countProblem(this.problems, CAPTURE_PROBLEM.BAD_RECORD_LENGTH)
      this.error = `${this.name}: a pcap record of ${capturedLength} bytes, more than the snap length ${this.maxCapturedLength}`
      return false
    }
    if (this.end - p < headerLength + capturedLength) return false
    frame.data = this.bytes
    frame.offset = p + headerLength
    frame.capturedLength = capturedLength
    frame.originalLength = view.getUint32(p + 12, le)
    frame.time = view.getUint32(p, le) + view.getUint32(p + 4, le) / this.fractionsPerSecond
    frame.linkType = this.linkType
    frame.device = this.device
    this.pos = p + headerLength + capturedLength
    return true
  }

  /** The pipe has closed: a partial record left over is counted as `truncated-record`. */
  finish(): void {
    if (this.error === null && this.end > this.pos) {
      countProblem(this.problems, CAPTURE_PROBLEM.TRUNCATED_RECORD)
    }
    this.pos = this.end
  }

  private readHeader(): boolean {
    if (this.end - this.pos < PCAP_HEADER.FILE_HEADER_LENGTH) return false
    const p = this.pos
    const view = this.view
    const magic = view.getUint32(p, false)
    switch (magic) {
      case PCAP_MAGIC.MICROSECONDS:
      case PCAP_MAGIC.NANOSECONDS:
      case PCAP_MAGIC.KUZNETZOV:
        this.littleEndian = false
        break
      case PCAP_MAGIC.MICROSECONDS_SWAPPED:
      case PCAP_MAGIC.NANOSECONDS_SWAPPED:
      case PCAP_MAGIC.KUZNETZOV_SWAPPED:
        this.littleEndian = true
        break
      default:
        this.error = `${this.name}: not a pcap stream (magic 0x${magic.toString(16).padStart(8, '0')})`
        return false
    }
    if (magic === PCAP_MAGIC.NANOSECONDS || magic === PCAP_MAGIC.NANOSECONDS_SWAPPED)
      this.fractionsPerSecond = 1e9
    if (magic === PCAP_MAGIC.KUZNETZOV || magic === PCAP_MAGIC.KUZNETZOV_SWAPPED) {
      this.recordHeaderLength = PCAP_HEADER.KUZNETZOV_RECORD_HEADER_LENGTH
    }
    this.snapLength = view.getUint32(p + PCAP_HEADER.SNAPLEN_OFFSET, this.littleEndian)
    this.linkType = view.getUint32(p + PCAP_HEADER.LINKTYPE_OFFSET, this.littleEndian) & PCAP_LINKTYPE_MASK
    // A snap length of 0 means "not set": only the absolute limit applies.
    if (this.snapLength > 0 && this.snapLength < MAX_CAPTURED_LENGTH) this.maxCapturedLength = this.snapLength
    this.pos = p + PCAP_HEADER.FILE_HEADER_LENGTH
    this.headerRead = true
    return true
  }

  /** Makes room for `n` more bytes: moves the partial record to the front, or grows the buffer. */
  private makeRoom(n: number): void {
    const kept = this.end - this.pos
    if (kept + n > this.bytes.length) {
      let size = this.bytes.length * 2
      while (size < kept + n) size *= 2
      const bigger = new Uint8Array(size)
      bigger.set(this.bytes.subarray(this.pos, this.end))
      this.bytes = bigger
      this.view = new DataView(bigger.buffer)
    } else {
      this.bytes.copyWithin(0, this.pos, this.end)
    }
    this.pos = 0
    this.end = kept
  }
}
