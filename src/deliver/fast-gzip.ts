import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

/**
 * gzip through ISA-L's igzip (native/igzip.c), about three times as fast as zlib on flow-log text,
 * for files about a tenth larger: the writer thread's largest cost when nearly every packet is a
 * record. `npm install` builds it where libisal-dev is installed (scripts/build-native.js); without
 * it flowlog uses zlib and its replay summary says so. FLOWLOG_GZIP=zlib chooses zlib anyway.
 */
export interface FastGzip {
  gzip(bytes: Uint8Array, level: number): Buffer
}

/** The ISA-L level: its level 2 is as fast as its 1 here and a little smaller. */
export const IGZIP_LEVEL = 2
export const IGZIP_INSTALL_HINT = 'apt-get install libisal-dev, then npm run build:native'

const ADDON = fileURLToPath(new URL('../../../build/Release/flowlog_igzip.node', import.meta.url))

let loaded: FastGzip | null | undefined
let why = ''

/** The addon, or null when it is not built (or FLOWLOG_GZIP=zlib); `fastGzipStatus` says why. */
export function fastGzip(): FastGzip | null {
  if (loaded === undefined) {
    loaded = null
    if (process.env.FLOWLOG_GZIP === 'zlib') why = 'FLOWLOG_GZIP=zlib'
    else if (!existsSync(ADDON)) why = `ISA-L igzip not built: ${IGZIP_INSTALL_HINT}`
    else {
      try {
        loaded = createRequire(import.meta.url)(ADDON) as FastGzip
      } catch (error) {
        why = `ISA-L igzip cannot load: ${(error as Error).message}; ${IGZIP_INSTALL_HINT}`
      }
    }
  }
  return loaded
}

/** "ISA-L igzip", or "zlib (why)": which gzip the files get. */
export function fastGzipStatus(): string {
  return fastGzip() === null ? `zlib (${why})` : 'ISA-L igzip'
}
