import { createRequire } from 'node:module'
import { FlowlogError } from '../core/errors.js'

/** The part of the `cap` binding (github.com/mscdex/cap) that flowlog uses. */
export interface CapHandle {
  /** Opens a device in promiscuous, non-blocking, immediate mode; returns its link type name. */
  open(device: string, filter: string, bufferSize: number, buffer: Buffer): string
  close(): boolean
  on(event: 'packet', listener: (capturedLength: number, truncated: boolean) => void): void
  removeAllListeners(event?: string): void
}

interface CapModule {
  Cap: new () => CapHandle
}

/** What to do when the binding is missing, word for word in the error and in the docs. */
export const LIBPCAP_INSTALL_HINT = 'apt-get install libpcap-dev, then npm rebuild cap'

let loaded: CapModule | null = null

/**
 * Loads `cap`, an optional native dependency: it builds only where libpcap's headers are
 * installed, so a missing binding is a clear runtime error naming the fix, not a crash at import.
 */
export function loadPcap(): CapModule {
  if (loaded !== null) return loaded
  try {
    loaded = createRequire(import.meta.url)('cap') as CapModule
    return loaded
  } catch (error) {
    throw new FlowlogError(
      'ERR_NO_LIBPCAP',
      `live capture needs the libpcap binding "cap", which is not installed or not built (${
        error instanceof Error ? error.message.split('\n')[0] : String(error)
      }). Install it: ${LIBPCAP_INSTALL_HINT}`,
      { cause: error },
    )
  }
}

/** LINKTYPE_* of a device as `cap` names it ("ETHERNET", "Unknown linktype 239", ...). */
export function linkTypeNumber(name: string): number {
  switch (name) {
    case 'ETHERNET':
      return 1
    case 'NULL':
      return 0
    case 'RAW':
      return 101
    case 'LINKTYPE_LINUX_SLL':
      return 113
    case 'IEEE802_11_RADIO':
      return 127
  }
  const match = /linktype (\d+)/i.exec(name)
  return match === null ? -1 : Number(match[1])
}
