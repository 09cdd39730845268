import { Buffer } from 'node:buffer'
import type { Readable } from 'node:stream'
import { promisify } from 'node:util'
import { createGunzip, gunzip } from 'node:zlib'
import type { SourceFile } from './source-file.js'

/**
 * A file's text as blocks of whole lines, gunzipped when the bytes say gzip (never trusting the name).
 *
 * Files up to WHOLE_LIMIT are read and gunzipped whole, on libuv's thread pool: the reader starts the
 * next files while it parses this one (see `prefetch`), so decompression runs on the second core.
 * Bigger files are streamed. Blocks are cut at line breaks, at most BLOCK_BYTES long, because one huge
 * string would hit V8's string limit and tie up memory the filter does not need.
 */
const WHOLE_LIMIT = 64 << 20
const BLOCK_BYTES = 4 << 20
const gunzipAsync = promisify(gunzip)

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b
}

/** The file's bytes, gunzipped: null for files too big to hold (stream those). */
export function loadWhole(file: SourceFile): Promise<Buffer> | null {
  if (file.size > WHOLE_LIMIT) return null
  return file
    .read()
    .then((bytes) => (isGzip(bytes) ? gunzipAsync(bytes, { chunkSize: outputSize(bytes) }) : bytes))
}

/**
 * gzip's trailer holds the size of the (last member's) output: one output chunk of that size spares
 * zlib the callbacks and the final copy of many small chunks. A wrong guess (several members, a
 * damaged trailer) only costs more chunks.
 */
function outputSize(gzip: Buffer): number {
  const size = gzip.length >= 18 ? gzip.readUInt32LE(gzip.length - 4) : 0
  return Math.min(Math.max(size + 1, 64 << 10), 256 << 20)
}

/** Blocks of whole lines from a loaded buffer (the last line may lack its line break). */
export function* bufferBlocks(bytes: Buffer): Generator<Buffer> {
  let start = 0
  while (start < bytes.length) {
    let end = bytes.length
    if (end - start > BLOCK_BYTES) {
      const cut = bytes.lastIndexOf(10, start + BLOCK_BYTES)
      end = cut >= start ? cut + 1 : Math.min(bytes.length, start + BLOCK_BYTES)
    }
    yield bytes.subarray(start, end)
    start = end
  }
}

/** Blocks of whole lines from a stream of stored bytes, gunzipped when they start like gzip. */
export async function* streamBlocks(stored: Readable): AsyncGenerator<Buffer> {
  const iterator = stored[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  const first = await iterator.next()
  if (first.done) return
  const head = first.value
  let chunks: AsyncIterable<Buffer>
  if (isGzip(head)) {
    const inflate = createGunzip({ chunkSize: 1 << 20 })
    const feed = async () => {
      try {
        if (!inflate.write(head)) await new Promise((r) => inflate.once('drain', r))
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
          if (!inflate.write(next.value)) await new Promise((r) => inflate.once('drain', r))
        }
        inflate.end()
      } catch (error) {
        inflate.destroy(error as Error)
      }
    }
    void feed()
    chunks = inflate
  } else {
    chunks = (async function* () {
      yield head
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value
    })()
  }
  let pending: Buffer[] = []
  let pendingLength = 0
  for await (const chunk of chunks) {
    pending.push(chunk)
    pendingLength += chunk.length
    if (pendingLength < BLOCK_BYTES) continue
    const bytes = Buffer.concat(pending, pendingLength)
    const cut = bytes.lastIndexOf(10)
    if (cut < 0) {
      pending = [bytes]
      continue
    }
    yield bytes.subarray(0, cut + 1)
    pending = [bytes.subarray(cut + 1)]
    pendingLength = bytes.length - cut - 1
  }
  if (pendingLength > 0) yield Buffer.concat(pending, pendingLength)
}
