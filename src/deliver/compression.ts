import { promisify } from 'node:util'
import { constants, gzip, gzipSync } from 'node:zlib'

export type Compression = 'gzip' | 'none'

/** zlib's default trade-off; AWS's own files are plain single-member gzip too. */
export const GZIP_LEVEL = 6

/** The file body as stored: one gzip member, or unchanged. For worker threads, where blocking is fine. */
export function compress(body: Uint8Array, compression: Compression, level = GZIP_LEVEL): Uint8Array {
  return compression === 'gzip' ? gzipSync(body, { level, strategy: constants.Z_DEFAULT_STRATEGY }) : body
}

const gzipAsync = promisify(gzip)

/** As `compress`, on libuv's thread pool: for callers on a thread that must stay responsive. */
export async function compressAsync(
  body: Uint8Array,
  compression: Compression,
  level = GZIP_LEVEL,
): Promise<Uint8Array> {
  return compression === 'gzip' ? gzipAsync(body, { level }) : body
}
