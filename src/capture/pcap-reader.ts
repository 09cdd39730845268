import { CaptureError } from '../core/errors.js'
import type { Frame, FrameReader } from '../core/frame.js'
import { CAPTURE_PROBLEM, countProblem, MAX_CAPTURED_LENGTH } from './capture-problem.js'
import type { ChunkedFile } from './chunked-file.js'
import { PCAP_HEADER, PCAP_LINKTYPE_MASK, PCAP_MAGIC } from './pcap-format.js'

/**
 * Reads a classic pcap file (either byte order, micro- or nanosecond timestamps) record by
 * record out of one reused chunk buffer.
 *
 * Bad data after the file header never throws. A file that ends inside a record counts
 * `truncated-record` and ends the read. A captured length larger than 256 KiB counts
 * `bad-record-length` and also ends the read: pcap records carry no marker or checksum, so once one
 * length field is wrong there is no reliable way to find the next record, and guessing would turn
 * garbage into packets. A record longer than the header's snap length is read whole, as libpcap and
 * Wireshark read it: writers that set a snap length too small (or none) are common, and the record's
 * own length is what frames the file.
 */
export class PcapReader implements FrameReader {
  readonly problems = new Map<string, number>()
  readonly linkType: number
  readonly snapLength: number
  private readonly littleEndian: boolean
  private readonly fractionsPerSecond: number
  private readonly recordHeaderLength: number
  private readonly device: string | null
  private done = false

  /** `file` must hold the magic at `pos`; throws CaptureError when the file header is incomplete. */
  constructor(
    private readonly file: ChunkedFile,
    device: string | null,
  ) {
    if (!file.ensure(PCAP_HEADER.FILE_HEADER_LENGTH)) {
      throw new CaptureError(
        `${file.path}: pcap file header is truncated (${file.available} of ${PCAP_HEADER.FILE_HEADER_LENGTH} bytes)`,
      )
    }
    const p = file.pos
    const magic = file.view.getUint32(p, false)
    this.littleEndian =
      magic === PCAP_MAGIC.MICROSECONDS_SWAPPED ||
      magic === PCAP_MAGIC.NANOSECONDS_SWAPPED ||
      magic === PCAP_MAGIC.KUZNETZOV_SWAPPED
    const nanoseconds = magic === PCAP_MAGIC.NANOSECONDS || magic === PCAP_MAGIC.NANOSECONDS_SWAPPED
    const kuznetzov = magic === PCAP_MAGIC.KUZNETZOV || magic === PCAP_MAGIC.KUZNETZOV_SWAPPED
    if (!this.littleEndian && !nanoseconds && !kuznetzov && magic !== PCAP_MAGIC.MICROSECONDS) {
      throw new CaptureError(`${file.path}: not a pcap file (magic 0x${magic.toString(16).padStart(8, '0')})`)
    }
    this.fractionsPerSecond = nanoseconds ? 1e9 : 1e6
    this.recordHeaderLength = kuznetzov
      ? PCAP_HEADER.KUZNETZOV_RECORD_HEADER_LENGTH
      : PCAP_HEADER.RECORD_HEADER_LENGTH
    this.snapLength = file.view.getUint32(p + PCAP_HEADER.SNAPLEN_OFFSET, this.littleEndian)
    this.linkType =
      file.view.getUint32(p + PCAP_HEADER.LINKTYPE_OFFSET, this.littleEndian) & PCAP_LINKTYPE_MASK
    this.device = device
    file.pos += PCAP_HEADER.FILE_HEADER_LENGTH
  }

  next(frame: Frame): boolean {
    if (this.done) return false
    const file = this.file
    const headerLength = this.recordHeaderLength
    if (!file.ensure(headerLength)) return this.finish(file.available > 0)
    const view = file.view
    const p = file.pos
    const le = this.littleEndian
    const seconds = view.getUint32(p, le)
    const fraction = view.getUint32(p + 4, le)
    const capturedLength = view.getUint32(p + 8, le)
    const originalLength = view.getUint32(p + 12, le)
    if (capturedLength > MAX_CAPTURED_LENGTH) {
      countProblem(this.problems, CAPTURE_PROBLEM.BAD_RECORD_LENGTH)
      return this.finish(false)
    }
    // ensure() may move the data, so the record's position is read again after it.
    if (!file.ensure(headerLength + capturedLength)) return this.finish(true)
    frame.data = file.bytes
    frame.offset = file.pos + headerLength
    frame.capturedLength = capturedLength
    frame.originalLength = originalLength
    frame.time = seconds + fraction / this.fractionsPerSecond
    frame.linkType = this.linkType
    frame.device = this.device
    file.pos += headerLength + capturedLength
    return true
  }

  close(): void {
    this.done = true
    this.file.close()
  }

  private finish(truncated: boolean): false {
    if (truncated) countProblem(this.problems, CAPTURE_PROBLEM.TRUNCATED_RECORD)
    this.done = true
    return false
  }
}
