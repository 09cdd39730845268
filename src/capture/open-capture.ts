import { closeSync, fstatSync, openSync } from 'node:fs'
import { CaptureError } from '../core/errors.js'
import type { FrameReader } from '../core/frame.js'
import { ChunkedFile, DEFAULT_CHUNK_SIZE } from './chunked-file.js'
import { PCAP_MAGIC } from './pcap-format.js'
import { PcapReader } from './pcap-reader.js'
import { PCAPNG_BLOCK } from './pcapng-format.js'
import { PcapngReader } from './pcapng-reader.js'

export interface CaptureOptions {
  /** Device name given to every frame, overriding the capture's own interface names. */
  device?: string | undefined
  /** Read chunk size in bytes (tests use small ones to cross chunk boundaries). */
  chunkSize?: number | undefined
  /** Bounds of a pcapng file's reorder across interfaces (tests use small ones to exceed them). */
  reorder?: { frames: number; bytes: number } | undefined
}

const PCAP_MAGICS: ReadonlySet<number> = new Set(Object.values(PCAP_MAGIC))

/** gzip's magic, for a friendlier message: compressed captures are common and not read directly. */
const GZIP_MAGIC = 0x1f8b

/**
 * Opens a capture file and returns the reader for its format, chosen by the magic number
 * (classic pcap in any byte order and timestamp precision, or pcapng). Throws CaptureError,
 * naming the file, when it cannot be opened or read, is empty, or is neither format.
 */
export function openCapture(path: string, options: CaptureOptions = {}): FrameReader {
  let fd: number
  try {
    fd = openSync(path, 'r')
    if (fstatSync(fd).isDirectory()) {
      closeSync(fd)
      throw new CaptureError(`cannot read capture ${path}: it is a directory`)
    }
  } catch (cause) {
    if (cause instanceof CaptureError) throw cause
    throw new CaptureError(`cannot open capture ${path}: ${(cause as Error).message}`, { cause })
  }
  const file = new ChunkedFile(fd, path, options.chunkSize ?? DEFAULT_CHUNK_SIZE)
  try {
    const device = options.device ?? null
    if (!file.ensure(4)) {
      throw new CaptureError(
        file.available === 0
          ? `capture ${path} is empty`
          : `capture ${path} is too short to be pcap or pcapng (${file.available} bytes)`,
      )
    }
    const magic = file.view.getUint32(file.pos, false)
    if (PCAP_MAGICS.has(magic)) return new PcapReader(file, device)
    if (magic === PCAPNG_BLOCK.SECTION_HEADER) return new PcapngReader(file, device, options.reorder)
    const hint = magic >>> 16 === GZIP_MAGIC ? ' (it looks gzip-compressed: decompress it first)' : ''
    throw new CaptureError(
      `${path} is neither pcap nor pcapng: magic 0x${magic.toString(16).padStart(8, '0')}${hint}`,
    )
  } catch (error) {
    file.close()
    throw error
  }
}

// Callers that open several captures merge them; offered here so one import serves both.
export { mergeReaders } from './merge-readers.js'
