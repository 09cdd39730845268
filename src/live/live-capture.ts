import type { Frame } from '../core/frame.js'

/**
 * How `flowlog run` captures: an AF_PACKET ring read in this process (native addon), tcpdump as
 * a child process, or libpcap in this process through `cap`.
 */
export type CaptureBackend = 'af-packet' | 'tcpdump' | 'libpcap'

/** A live capture on one device, whichever backend runs it. */
export interface LiveCapture {
  readonly backend: CaptureBackend
  /** A device name, or libpcap's `nflog:GROUP` for kernel verdicts. */
  readonly device: string
  /** LINKTYPE_* of the device. */
  readonly linkType: number
  /** Frames handed to the pipeline since open. */
  readonly frames: number
  /** Bytes on the wire of those frames. */
  readonly bytes: number
  /**
   * Packets the kernel ring dropped since open (libpcap's pcap_stats, the socket's
   * PACKET_STATISTICS; cumulative), or null when the backend cannot tell (then the daemon
   * estimates them from the device counters).
   */
  readonly kernelDrops: number | null
  /** Capture problems counted instead of thrown (a record cut short when tcpdump died, a bad ring frame). */
  readonly problems: ReadonlyMap<string, number>
  /** Why the capture ended by itself (tcpdump exited, the device went down or away), or null while it runs. */
  readonly failure: string | null
  /** Hands frames still queued to the pipeline. */
  flush(): void
  /** Asks for fresh kernel drop counts; they update `kernelDrops` when they arrive. */
  requestStats(): void
  /**
   * Resolves once every packet the kernel queued for this capture before the call has been
   * handed on (or at `deadline`, ms since the epoch): what stop() must not lose.
   */
  drain(deadline: number): Promise<void>
  /** Stops capturing; resolves when everything captured has been handed on. */
  stop(): Promise<void>
  /** Stops at once, handing on only what is already here (start-up failures). */
  close(): void
}

export interface LiveCaptureOptions {
  device: string
  /** Called for each frame in arrival order; `frame` is reused and valid only during the call. */
  onFrame: (frame: Frame) => void
  /** Kernel ring size in MiB. */
  bufferMiB: number
}
