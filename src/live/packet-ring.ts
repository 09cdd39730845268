import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

/**
 * The af-packet backend's native part (native/packet-ring.c): an AF_PACKET socket with a
 * TPACKET_V3 receive ring, mapped once into an ArrayBuffer that JavaScript reads in place.
 * `npm install` builds it on Linux (scripts/build-native.js); it needs only the kernel headers.
 */
export interface PacketRingAddon {
  open(device: string, options: PacketRingOptions, onReady: (error: string | null) => void): OpenedRing
  /** Gives a block back to the kernel (a release store: every read of it happened before). */
  release(handle: PacketRingHandle, block: number): void
  /** [packets, drops] since the last call: PACKET_STATISTICS resets when read; packets include drops. */
  stats(handle: PacketRingHandle): [number, number]
  /** No new packet reaches the ring; what it holds is still handed over (its blocks still retire). */
  pause(handle: PacketRingHandle): void
  /** Stops polling, detaches the ring's ArrayBuffer (it reads as empty), unmaps, closes the socket. */
  close(handle: PacketRingHandle): void
  /** Null when this process may open packet sockets, else why not. */
  probe(): string | null
}

export interface PacketRingOptions {
  /** Bytes per block: a multiple of the page size. */
  blockSize: number
  blockCount: number
  /** Milliseconds after which the kernel hands over a block that is not full. */
  retireMs: number
  /** Bytes of each packet copied into the ring. */
  snapLength: number
  /** 1: promiscuous mode while the socket is open (the kernel undoes it when it closes). */
  promiscuous: 0 | 1
}

/** Opaque: the addon's handle object. */
export type PacketRingHandle = { readonly __packetRing: unique symbol }

export interface OpenedRing {
  handle: PacketRingHandle
  /** The whole ring, blockCount blocks of blockSize bytes, shared with the kernel. */
  ring: ArrayBuffer
  blockSize: number
  blockCount: number
  /** The device's ARPHRD_* type. */
  hardwareType: number
}

export const PACKET_RING_INSTALL_HINT =
  'it builds with npm install on Linux (a C compiler and the kernel headers: apt-get install build-essential linux-libc-dev), or npm run build:native'

const ADDON = fileURLToPath(new URL('../../../build/Release/flowlog_packet_ring.node', import.meta.url))

let loaded: PacketRingAddon | null | undefined
let why = ''

/** The addon, or null when it is not built or cannot load (`packetRingMissing` says why). */
export function loadPacketRing(): PacketRingAddon | null {
  if (loaded === undefined) {
    loaded = null
    if (process.platform !== 'linux') why = `the packet ring is Linux only (this is ${process.platform})`
    else if (!existsSync(ADDON)) why = `the packet-ring addon is not built: ${PACKET_RING_INSTALL_HINT}`
    else {
      try {
        loaded = createRequire(import.meta.url)(ADDON) as PacketRingAddon
      } catch (error) {
        why = `the packet-ring addon cannot load (${(error as Error).message}): ${PACKET_RING_INSTALL_HINT}`
      }
    }
  }
  return loaded
}

/** Why the addon is not there ('' when it is). */
export function packetRingMissing(): string {
  loadPacketRing()
  return why
}
