import { CaptureError } from '../core/errors.js'
import { type Frame, type FrameReader, newFrame } from '../core/frame.js'
import { isRecordTime } from '../core/record-time.js'
import { CAPTURE_PROBLEM, type CaptureProblem, countProblem, MAX_CAPTURED_LENGTH } from './capture-problem.js'
import type { ChunkedFile } from './chunked-file.js'
import {
  PCAPNG_BLOCK,
  PCAPNG_BLOCK_OVERHEAD,
  PCAPNG_BYTE_ORDER_MAGIC,
  PCAPNG_DEFAULT_UNITS_PER_SECOND,
  PCAPNG_MAJOR_VERSION,
  PCAPNG_OPTION,
} from './pcapng-format.js'
import { timestampToSeconds } from './pcapng-timestamp.js'
import { ReorderBuffer } from './reorder-buffer.js'

/**
 * Bounds of the reorder across a file's interfaces: frames held, and bytes (at least the largest
 * packet, MAX_CAPTURED_LENGTH). 16 MiB is some 11,000 full-size Ethernet frames.
 */
export const REORDER_FRAMES = 16384
export const REORDER_BYTES = 16 * 1024 * 1024

/** Largest block read into memory. Bigger non-packet blocks are skipped unread; a bigger packet block is corrupt. */
const MAX_BUFFERED_BLOCK = 16 * 1024 * 1024

/** Fixed parts before the packet data: EPB and OPB (type, length, 5 words), SPB (type, length, 1 word). */
const EPB_HEADER = 28
const OPB_HEADER = 28
const SPB_HEADER = 12
/** SHB fixed part: type, length, byte-order magic, versions, 64-bit section length, trailing length. */
const SHB_MIN_LENGTH = 28
/** IDB fixed part: type, length, link type, reserved, snap length, trailing length. */
const IDB_MIN_LENGTH = 20

const utf8 = new TextDecoder('utf-8', { fatal: false })

/**
 * Reads a pcapng file block by block out of one reused chunk buffer.
 *
 * Sections (SHB) may switch byte order and reset the interface list; interfaces (IDB) give each
 * packet its link type, snap length, name (if_name) and clock (if_tsresol, if_tsoffset). Packets
 * come from Enhanced, Simple and obsolete Packet Blocks; every other block is skipped by its
 * length. A Simple Packet Block has no timestamp: it takes the previous packet's time.
 *
 * Bad data after the first section header never throws. A file ending inside a block counts
 * `truncated-record`; a block whose lengths disagree (leading vs trailing total length, captured
 * length beyond the block or 256 KiB) counts `bad-record-length`; a packet longer than its
 * interface's snap length is read whole, as libpcap and Wireshark read it.
 * Both end the read: although pcapng repeats each block's length, a wrong length means the
 * framing itself is damaged, and scanning for the next plausible block would produce packets
 * from garbage. A packet naming an undescribed interface is skipped (`unknown-interface`).
 *
 * Each interface's packets are in time order, but a writer with several interfaces may interleave
 * them loosely (each capture thread writes its own batches). Once a section describes a second
 * interface, packets go through a bounded reorder (ReorderBuffer: REORDER_FRAMES frames,
 * REORDER_BYTES bytes) that merges the interfaces by time, as merged files are (mergeReaders),
 * holding only what that needs. A packet further out of order than the bounds is still handed on,
 * counted `out-of-order`. A file that never describes a second interface never pays for it: its
 * packets are handed on in place.
 */
export class PcapngReader implements FrameReader {
  readonly problems = new Map<string, number>()
  private littleEndian = true
  private readonly device: string | null
  private done = false
  private previousTime = 0
  /** The reorder, from the first section with two interfaces on; null until then. */
  private order: ReorderBuffer | null = null
  /** A packet read but not yet taken by the full reorder buffer. */
  private readonly waiting = newFrame()
  private hasWaiting = false
  /** The latest time handed out through the reorder. */
  private handedTime = Number.NEGATIVE_INFINITY
  // Interfaces of the current section, indexed by interface id (per section, §4.2).
  private readonly ifLinkType: number[] = []
  private readonly ifSnapLength: number[] = []
  private readonly ifName: (string | null)[] = []
  private readonly ifUnitsPerSecond: number[] = []
  private readonly ifOffsetSeconds: number[] = []
  /** The latest packet time read from each interface: none of its later packets is earlier. */
  private readonly ifLatestTime: number[] = []

  /** `file` must hold the Section Header Block type at `pos`; throws CaptureError when that block is unusable. */
  constructor(
    private readonly file: ChunkedFile,
    device: string | null,
    private readonly reorder: { frames: number; bytes: number } = {
      frames: REORDER_FRAMES,
      bytes: REORDER_BYTES,
    },
  ) {
    this.device = device
    if (!file.ensure(SHB_MIN_LENGTH)) {
      throw new CaptureError(`${file.path}: pcapng section header is truncated (${file.available} bytes)`)
    }
    const problem = this.readSectionHeader()
    if (problem !== null) {
      const magic = file.view
        .getUint32(file.pos + 8, false)
        .toString(16)
        .padStart(8, '0')
      throw new CaptureError(
        `${file.path}: unusable pcapng section header (${problem}, byte-order magic 0x${magic})`,
      )
    }
  }

  next(frame: Frame): boolean {
    if (this.order === null) {
      if (!this.read(frame)) return false
      // Still one interface per section so far: the packet goes on in place.
      if (this.order === null || !isRecordTime(frame.time)) return true
      // This read described a second interface: from now on every packet goes through the reorder.
      copyFrame(frame, this.waiting)
      this.hasWaiting = true
    }
    return this.nextInOrder(this.order, frame)
  }

  close(): void {
    this.done = true
    this.file.close()
  }

  /**
   * Hands out the earliest packet held once no interface can still send an earlier one (each
   * interface's packets are in time order, so that is once every interface of the section has
   * been read up to its time), reading on into the buffer until then; or, when the buffer is full
   * or the file ends, the earliest held anyway. An interface that stays silent keeps the buffer full.
   */
  private nextInOrder(order: ReorderBuffer, frame: Frame): boolean {
    const waiting = this.waiting
    for (;;) {
      if (this.hasWaiting) {
        if (!order.push(waiting)) break
        this.hasWaiting = false
      }
      if (order.earliestTime <= this.readUpTo()) break
      if (!this.read(waiting)) break
      // A time no flow log can carry (bad-timestamp later) has no place in time order: held, it
      // would stay to the end of the file and take the reorder's room. It goes on at once.
      if (!isRecordTime(waiting.time)) {
        copyFrame(waiting, frame)
        return true
      }
      this.hasWaiting = true
    }
    if (!order.shift(frame)) return false
    if (frame.time < this.handedTime) countProblem(this.problems, CAPTURE_PROBLEM.OUT_OF_ORDER)
    else this.handedTime = frame.time
    return true
  }

  /** The time every interface of the section has been read up to: the least of their latest times. */
  private readUpTo(): number {
    const latest = this.ifLatestTime
    let least = Number.POSITIVE_INFINITY
    for (let i = 0; i < latest.length; i++) if (latest[i]! < least) least = latest[i]!
    return least
  }

  /** Reads the next packet of the file, in file order, into `frame`. */
  private read(frame: Frame): boolean {
    const file = this.file
    while (!this.done) {
      if (!file.ensure(8)) return this.stop(file.available > 0 ? CAPTURE_PROBLEM.TRUNCATED_RECORD : null)
      const type = file.view.getUint32(file.pos, this.littleEndian)
      if (type === PCAPNG_BLOCK.SECTION_HEADER) {
        if (!file.ensure(SHB_MIN_LENGTH)) return this.stop(CAPTURE_PROBLEM.TRUNCATED_RECORD)
        const problem = this.readSectionHeader()
        if (problem !== null) return this.stop(problem)
        continue
      }
      const length = file.view.getUint32(file.pos + 4, this.littleEndian)
      if (length < PCAPNG_BLOCK_OVERHEAD || length % 4 !== 0)
        return this.stop(CAPTURE_PROBLEM.BAD_RECORD_LENGTH)
      switch (type) {
        case PCAPNG_BLOCK.ENHANCED_PACKET:
        case PCAPNG_BLOCK.PACKET:
        case PCAPNG_BLOCK.SIMPLE_PACKET: {
          if (this.readPacket(frame, type, length)) return true
          continue
        }
        case PCAPNG_BLOCK.INTERFACE_DESCRIPTION: {
          if (!this.bufferBlock(length)) continue
          if (length < IDB_MIN_LENGTH) return this.stop(CAPTURE_PROBLEM.BAD_RECORD_LENGTH)
          this.readInterface(length)
          file.pos += length
          continue
        }
        default:
          // NRB, ISB, DSB, custom and unknown blocks carry nothing a flow needs.
          if (length > MAX_BUFFERED_BLOCK) {
            if (!file.skip(length)) return this.stop(CAPTURE_PROBLEM.TRUNCATED_RECORD)
            continue
          }
          if (!this.bufferBlock(length)) continue
          file.pos += length
      }
    }
    return false
  }

  /**
   * Fills `frame` from the packet block at `pos` (EPB, OPB or SPB of `length` bytes) and moves past
   * it. False when the block was skipped or the read ended (then `done` is set).
   */
  private readPacket(frame: Frame, type: number, length: number): boolean {
    const file = this.file
    const le = this.littleEndian
    const simple = type === PCAPNG_BLOCK.SIMPLE_PACKET
    const headerLength = simple ? SPB_HEADER : type === PCAPNG_BLOCK.PACKET ? OPB_HEADER : EPB_HEADER
    if (length < headerLength + 4) return this.stop(CAPTURE_PROBLEM.BAD_RECORD_LENGTH)
    if (!this.bufferBlock(length)) return false
    const view = file.view
    const p = file.pos
    const dataRoom = length - headerLength - 4
    let id: number
    let capturedLength: number
    let originalLength: number
    let time: number
    if (simple) {
      id = 0
      originalLength = view.getUint32(p + 8, le)
      const snapLength = this.ifSnapLength[0] ?? 0
      capturedLength = Math.min(originalLength, dataRoom)
      if (snapLength > 0 && capturedLength > snapLength) capturedLength = snapLength
      time = this.previousTime
    } else {
      if (type === PCAPNG_BLOCK.PACKET) {
        id = view.getUint16(p + 8, le)
      } else {
        id = view.getUint32(p + 8, le)
      }
      capturedLength = view.getUint32(p + 20, le)
      originalLength = view.getUint32(p + 24, le)
      time = 0
    }
    if (id >= this.ifLinkType.length) {
      countProblem(this.problems, CAPTURE_PROBLEM.UNKNOWN_INTERFACE)
      file.pos += length
      return false
    }
    // The block frames the packet; an interface snap length smaller than the packet (a writer's
    // mistake) is ignored, as libpcap and Wireshark ignore it.
    if (capturedLength > dataRoom || capturedLength > MAX_CAPTURED_LENGTH) {
      return this.stop(CAPTURE_PROBLEM.BAD_RECORD_LENGTH)
    }
    if (!simple) {
      time =
        timestampToSeconds(
          view.getUint32(p + 12, le),
          view.getUint32(p + 16, le),
          this.ifUnitsPerSecond[id] ?? 1e6,
        ) + (this.ifOffsetSeconds[id] ?? 0)
      this.previousTime = time
      // A corrupt time (counted bad-timestamp later) must not move the interface's clock far ahead.
      if (time > this.ifLatestTime[id]! && isRecordTime(time)) this.ifLatestTime[id] = time
    }
    frame.data = file.bytes
    frame.offset = p + headerLength
    frame.capturedLength = capturedLength
    frame.originalLength = originalLength
    frame.time = time
    frame.linkType = this.ifLinkType[id] ?? 0
    frame.device = this.device ?? this.ifName[id] ?? null
    file.pos += length
    return true
  }

  /**
   * Makes the whole block at `pos` available and checks its trailing length. False when the read
   * ended instead (truncated file or inconsistent lengths; `done` is then set).
   */
  private bufferBlock(length: number): boolean {
    const file = this.file
    if (length > MAX_BUFFERED_BLOCK) return this.stop(CAPTURE_PROBLEM.BAD_RECORD_LENGTH)
    if (!file.ensure(length)) return this.stop(CAPTURE_PROBLEM.TRUNCATED_RECORD)
    if (file.view.getUint32(file.pos + length - 4, this.littleEndian) !== length) {
      return this.stop(CAPTURE_PROBLEM.BAD_RECORD_LENGTH)
    }
    return true
  }

  /**
   * Reads the Section Header Block at `pos` (at least SHB_MIN_LENGTH bytes available), sets the
   * byte order, forgets the previous section's interfaces and moves past it. Returns the problem
   * when the block is unusable.
   */
  private readSectionHeader(): CaptureProblem | null {
    const file = this.file
    const magic = file.view.getUint32(file.pos + 8, true)
    if (magic === PCAPNG_BYTE_ORDER_MAGIC) this.littleEndian = true
    else if (magic === swap32(PCAPNG_BYTE_ORDER_MAGIC)) this.littleEndian = false
    else return CAPTURE_PROBLEM.BAD_SECTION_HEADER
    const length = file.view.getUint32(file.pos + 4, this.littleEndian)
    if (length < SHB_MIN_LENGTH || length % 4 !== 0 || length > MAX_BUFFERED_BLOCK) {
      return CAPTURE_PROBLEM.BAD_RECORD_LENGTH
    }
    if (file.view.getUint16(file.pos + 12, this.littleEndian) !== PCAPNG_MAJOR_VERSION) {
      return CAPTURE_PROBLEM.BAD_SECTION_HEADER
    }
    if (!file.ensure(length)) return CAPTURE_PROBLEM.TRUNCATED_RECORD
    if (file.view.getUint32(file.pos + length - 4, this.littleEndian) !== length) {
      return CAPTURE_PROBLEM.BAD_RECORD_LENGTH
    }
    this.ifLinkType.length = 0
    this.ifSnapLength.length = 0
    this.ifName.length = 0
    this.ifUnitsPerSecond.length = 0
    this.ifOffsetSeconds.length = 0
    this.ifLatestTime.length = 0
    file.pos += length
    return null
  }

  /** Reads the buffered Interface Description Block at `pos`. Malformed options are ignored, not fatal. */
  private readInterface(length: number): void {
    const view = this.file.view
    const le = this.littleEndian
    const p = this.file.pos
    let name: string | null = null
    let unitsPerSecond = PCAPNG_DEFAULT_UNITS_PER_SECOND
    let offsetSeconds = 0
    const optionsEnd = p + length - 4
    for (let o = p + 16; o + 4 <= optionsEnd; ) {
      const code = view.getUint16(o, le)
      const size = view.getUint16(o + 2, le)
      const value = o + 4
      if (code === PCAPNG_OPTION.END_OF_OPT || value + size > optionsEnd) break
      if (code === PCAPNG_OPTION.IF_NAME) {
        // The spec says not zero-terminated, but some writers add NULs.
        let end = value + size
        while (end > value && view.getUint8(end - 1) === 0) end--
        name = utf8.decode(this.file.bytes.subarray(value, end))
      } else if (code === PCAPNG_OPTION.IF_TSRESOL && size >= 1) {
        const resolution = view.getUint8(value)
        // High bit set: a negative power of 2; clear: a negative power of 10 (§4.2).
        unitsPerSecond = resolution & 0x80 ? 2 ** (resolution & 0x7f) : 10 ** resolution
      } else if (code === PCAPNG_OPTION.IF_TSOFFSET && size >= 8) {
        offsetSeconds = Number(view.getBigInt64(value, le))
      }
      o = value + ((size + 3) & ~3)
    }
    this.ifLinkType.push(view.getUint16(p + 8, le))
    this.ifSnapLength.push(view.getUint32(p + 12, le))
    this.ifName.push(name === '' ? null : name)
    this.ifUnitsPerSecond.push(unitsPerSecond)
    this.ifOffsetSeconds.push(offsetSeconds)
    this.ifLatestTime.push(Number.NEGATIVE_INFINITY)
    if (this.ifLinkType.length === 2 && this.order === null) {
      this.order = new ReorderBuffer(this.reorder.frames, Math.max(this.reorder.bytes, MAX_CAPTURED_LENGTH))
    }
  }

  /** Ends the read, counting `problem` if any. Always false, so callers can `return this.stop(...)`. */
  private stop(problem: CaptureProblem | null): false {
    if (problem !== null) countProblem(this.problems, problem)
    this.done = true
    return false
  }
}

/** Copies the fields of `from` into `to` (the bytes stay where they are). */
function copyFrame(from: Frame, to: Frame): void {
  to.data = from.data
  to.offset = from.offset
  to.capturedLength = from.capturedLength
  to.originalLength = from.originalLength
  to.time = from.time
  to.linkType = from.linkType
  to.device = from.device
}

function swap32(value: number): number {
  return (
    (((value & 0xff) << 24) |
      ((value & 0xff00) << 8) |
      ((value >>> 8) & 0xff00) |
      ((value >>> 24) & 0xff)) >>>
    0
  )
}
