import { FlowlogError } from '../core/errors.js'
import { LINKTYPE } from '../core/frame.js'
import type { LiveCapture, LiveCaptureOptions } from './live-capture.js'
import {
  loadPacketRing,
  type OpenedRing,
  PACKET_RING_INSTALL_HINT,
  type PacketRingAddon,
} from './packet-ring.js'
import { RingWalker } from './ring-walker.js'

/**
 * The block timeout (tp_retire_blk_tov): the kernel's timer runs every RETIRE_MS and hands over
 * the block being filled when it holds packets and was already open at the previous run. So a
 * quiet device's packets wait about 20 ms in a half-filled block (40 at worst): far below the
 * 1 s a window stays open after it ends (and timestamps are the kernel's, unaffected), and short
 * enough that a stop barely waits for the last block. An idle device costs nothing (an empty
 * block is not handed over); a trickle of packets costs one wake-up per 20 ms at most.
 */
export const RETIRE_MS = 20
/** Largest block: a block is handed over (and given back) whole, so a ring has many of them. */
const MAX_BLOCK_BYTES = 1 << 20
const MIN_BLOCK_BYTES = 64 << 10
/** Blocks a ring has at least, when it is small. */
const MIN_BLOCKS = 16
/**
 * Blocks read in one turn of the event loop at most (some 50,000 small packets): under a flood the
 * kernel refills blocks as fast as they are read, and the clock (windows, drop counts) and the
 * writer's messages must still get their turn. The socket stays readable, so the rest is read on
 * the next turn.
 */
const BLOCKS_PER_TURN = 8
/** Longest wait, at stop, for the last half-filled block (a few retire timeouts). */
const STOP_LIMIT_MS = 1000

/** ARPHRD_* (linux/if_arp.h) of devices whose packets start with an Ethernet header, or with IP. */
const ETHERNET_DEVICES = new Set([1 /* ETHER */, 772 /* LOOPBACK */])
const RAW_IP_DEVICES = new Set([
  768 /* TUNNEL (ipip) */, 769 /* TUNNEL6 */, 776 /* SIT */, 0xfffe /* NONE: tun, WireGuard */,
])

export interface RingCaptureOptions extends LiveCaptureOptions {
  /** Bytes of each packet kept. */
  snapLength: number
  /** Promiscuous mode (default true, as tcpdump and libpcap capture). */
  promiscuous?: boolean
  /** The addon (tests may give their own). */
  addon?: PacketRingAddon
}

/** A device the af-packet backend cannot give a link type to (`auto` then uses tcpdump or libpcap). */
export class UnsupportedDeviceError extends FlowlogError {}

/**
 * The ring's geometry for `bufferMiB`: 1 MiB blocks, or smaller ones for a small ring, so that it
 * has at least MIN_BLOCKS (the kernel fills one block while flowlog reads the others).
 */
export function ringGeometry(bufferMiB: number): { blockSize: number; blockCount: number } {
  const bytes = bufferMiB * (1 << 20)
  let blockSize = MAX_BLOCK_BYTES
  while (blockSize > MIN_BLOCK_BYTES && bytes / blockSize < MIN_BLOCKS) blockSize >>>= 1
  return { blockSize, blockCount: Math.max(1, Math.floor(bytes / blockSize)) }
}

/**
 * One device captured in this process from an AF_PACKET TPACKET_V3 ring (native/packet-ring.c).
 * The kernel copies the first `snapLength` bytes of each packet into blocks of the ring and hands
 * over a block when it is full or at its timeout (RETIRE_MS); the addon polls the socket on
 * the event loop and calls once when blocks are ready; the walker reads the block where it lies,
 * hands each packet to the pipeline, and the block goes back to the kernel. One crossing between
 * JavaScript and C per block, none per packet, no copy, nothing allocated per packet.
 *
 * Kernel drops are the socket's own counts (PACKET_STATISTICS: packets the ring had no room for).
 */
export class RingCapture implements LiveCapture {
  readonly backend = 'af-packet'
  readonly device: string
  readonly linkType: number
  failure: string | null = null
  private readonly addon: PacketRingAddon
  private readonly ring: OpenedRing
  private readonly walker: RingWalker
  /** The next block to read: the kernel fills them in order. */
  private next = 0
  /** Packets the kernel put in the ring, and those it had no room for, since open. */
  private queued = 0
  private ringDrops = 0
  /** Packets of the blocks read (handed on, or counted as problems). */
  private walked = 0
  /** Packets the kernel queued that were not read when the capture stopped. */
  private unreadAtExit = 0
  private closed = false

  private constructor(options: RingCaptureOptions, addon: PacketRingAddon) {
    this.device = options.device
    this.addon = addon
    const geometry = ringGeometry(options.bufferMiB)
    this.ring = addon.open(
      options.device,
      {
        ...geometry,
        retireMs: RETIRE_MS,
        snapLength: options.snapLength,
        promiscuous: options.promiscuous === false ? 0 : 1,
      },
      (error) => this.ready(error),
    )
    const type = this.ring.hardwareType
    if (ETHERNET_DEVICES.has(type)) this.linkType = LINKTYPE.ETHERNET
    else if (RAW_IP_DEVICES.has(type)) this.linkType = LINKTYPE.RAW
    else {
      addon.close(this.ring.handle)
      throw new UnsupportedDeviceError(
        'ERR_CAPTURE_DEVICE_TYPE',
        `${options.device} is a device of hardware type ${type} (ARPHRD_*); the af-packet backend captures Ethernet and IP devices: use --capture-backend tcpdump or libpcap`,
      )
    }
    this.walker = new RingWalker(this.ring.ring, this.ring.blockSize, {
      device: options.device,
      linkType: this.linkType,
      snapLength: options.snapLength,
      onFrame: options.onFrame,
    })
  }

  /** Opens the device's ring; throws when the addon is missing or the kernel refuses. */
  static open(options: RingCaptureOptions): RingCapture {
    const addon = options.addon ?? loadPacketRing()
    if (addon === null) {
      throw new FlowlogError(
        'ERR_NO_PACKET_RING',
        `--capture-backend af-packet: the packet-ring addon is not built: ${PACKET_RING_INSTALL_HINT}`,
      )
    }
    if (options.device.startsWith('nflog:')) {
      throw new FlowlogError(
        'ERR_CAPTURE_DEVICE_TYPE',
        `${options.device}: the af-packet backend captures devices; NFLOG groups are read by tcpdump or libpcap`,
      )
    }
    return new RingCapture(options, addon)
  }

  get frames(): number {
    return this.walker.frames
  }

  get bytes(): number {
    return this.walker.bytes
  }

  /** The socket's drops, plus what was left in the ring when the capture stopped. */
  get kernelDrops(): number {
    return this.ringDrops + this.unreadAtExit
  }

  /** Frames that did not fit their block, by reason. */
  get problems(): ReadonlyMap<string, number> {
    return this.walker.problems
  }

  /**
   * Reads the blocks already handed over, up to BLOCKS_PER_TURN (the clock calls it too, in case
   * a wake-up was missed).
   */
  flush(): void {
    this.read(BLOCKS_PER_TURN)
  }

  /** Reads up to `limit` blocks handed over, in order; returns how many it read. */
  private read(limit: number): number {
    if (this.closed) return 0
    const walker = this.walker
    const blocks = this.ring.blockCount
    let n = 0
    for (; n < limit && walker.ready(this.next); n++) {
      this.walked += walker.walk(this.next)
      this.addon.release(this.ring.handle, this.next)
      this.next = this.next + 1 === blocks ? 0 : this.next + 1
    }
    return n
  }

  /** The kernel's counters, which reset when read: they are added up here. */
  requestStats(): void {
    if (this.closed) return
    const [packets, drops] = this.addon.stats(this.ring.handle)
    this.queued += packets - drops
    this.ringDrops += drops
  }

  /**
   * The kernel's count of packets queued in the ring says how many to wait for; the last,
   * half-filled block comes at its timeout.
   */
  async drain(deadline: number): Promise<void> {
    if (this.closed) return
    this.requestStats()
    const target = this.queued
    this.flush()
    while (this.walked < target && !this.closed && this.failure === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, RETIRE_MS / 2))
      this.flush()
    }
  }

  /**
   * Takes the socket off the device first, so that what the ring holds is exactly what to hand
   * on; reads it to the end (the last block retires by itself), then closes.
   */
  async stop(): Promise<void> {
    if (this.closed) return
    try {
      this.addon.pause(this.ring.handle)
    } catch {
      // The device is gone: what the ring holds is still read.
    }
    await this.drain(Date.now() + STOP_LIMIT_MS)
    this.requestStats()
    this.readAll()
    this.unreadAtExit = Math.max(0, this.queued - this.walked)
    this.close()
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.addon.close(this.ring.handle)
  }

  /** The addon's call: blocks are ready, or the socket failed (the device went down or away). */
  private ready(error: string | null): void {
    if (error === null) {
      this.flush()
      return
    }
    // No more wake-ups after a failure: read what the ring holds now.
    this.readAll()
    if (this.failure === null) this.failure = `${this.device}: ${error}`
  }

  /** Reads every block handed over (once no new packet can come: at stop, after a failure). */
  private readAll(): void {
    this.read(this.ring.blockCount)
  }
}
