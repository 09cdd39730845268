import type { Frame } from '../core/frame.js'
import { newFrame } from '../core/frame.js'
import type { LiveCapture } from './live-capture.js'
import { type CapHandle, linkTypeNumber, loadPcap } from './pcap-binding.js'

/** Largest frame kept whole: a GSO super-packet on a veth can reach 64 KiB plus its link header. */
const FRAME_BUFFER = 65_600
/** Bytes of frames one batch may hold before it is handed on early. */
const BATCH_BYTES = 4 << 20
const BATCH_FRAMES = 16_384
/**
 * libpcap's kernel ring per device (pcap_set_buffer_size, tcpdump -B), default 32 MiB: what
 * absorbs a burst faster than the capture hands packets over.
 */
export const DEFAULT_CAPTURE_BUFFER_MIB = 32
/** Milliseconds without a new frame after which a draining capture's ring is taken as empty. */
const QUIET_MS = 50

export interface DeviceCaptureOptions {
  /** A device name, or libpcap's `nflog:GROUP` for kernel verdicts. */
  device: string
  /** Called once per batch with each frame in arrival order; `frame` is reused. */
  onFrame: (frame: Frame) => void
  /**
   * Called after a batch handed on at the end of an event-loop turn: libpcap's ring was empty when
   * `cap` stopped reading, so what the kernel counted and the capture did not is lost, not queued.
   */
  onDrained?: () => void
  /** The clock, unix seconds (tests may pin it). */
  now?: () => number
  /** Kernel ring size in MiB (DEFAULT_CAPTURE_BUFFER_MIB). */
  bufferMiB?: number
}

/**
 * One libpcap capture on one device, through `cap` (non-blocking, immediate mode). `cap` emits one
 * event per packet into a single buffer, so each packet is copied into a batch chunk with its
 * arrival time, and the batch goes to the pipeline once per event-loop turn (or earlier when the
 * chunk fills). Copying into a preallocated chunk allocates nothing per packet.
 *
 * `cap` gives no packet timestamps and no pcap_stats: times are the arrival time in flowlog (at
 * most one event-loop turn late), and kernel drops are estimated elsewhere (kernel-drops.ts).
 */
export class DeviceCapture implements LiveCapture {
  readonly backend = 'libpcap'
  readonly device: string
  /** LINKTYPE_* of the device. */
  readonly linkType: number
  /** Frames received from libpcap since open. */
  frames = 0
  /** Bytes (as captured) received since open. */
  bytes = 0
  /** Frames longer than the frame buffer, counted and kept truncated. */
  truncated = 0
  /** `cap` exposes no pcap_stats: the daemon estimates drops from the device's counters. */
  readonly kernelDrops = null
  readonly failure = null
  readonly problems: ReadonlyMap<string, number> = new Map()
  private readonly cap: CapHandle
  private readonly buffer = Buffer.alloc(FRAME_BUFFER)
  private readonly chunk = Buffer.alloc(BATCH_BYTES)
  private readonly offsets = new Int32Array(BATCH_FRAMES)
  private readonly lengths = new Int32Array(BATCH_FRAMES)
  private readonly times = new Float64Array(BATCH_FRAMES)
  private readonly frame: Frame = newFrame()
  private count = 0
  private used = 0
  private scheduled = false
  private closed = false
  private readonly onFrame: (frame: Frame) => void
  private readonly onDrained: (() => void) | undefined
  private readonly now: () => number
  private readonly flushSoon = () => {
    this.scheduled = false
    this.flush()
    this.onDrained?.()
  }

  constructor(options: DeviceCaptureOptions) {
    this.device = options.device
    this.onFrame = options.onFrame
    this.onDrained = options.onDrained
    this.now = options.now ?? (() => Date.now() / 1000)
    const { Cap } = loadPcap()
    this.cap = new Cap()
    this.linkType = linkTypeNumber(
      this.cap.open(
        options.device,
        '',
        (options.bufferMiB ?? DEFAULT_CAPTURE_BUFFER_MIB) * 1024 * 1024,
        this.buffer,
      ),
    )
    this.frame.device = options.device
    this.frame.linkType = this.linkType
    this.frame.data = this.chunk
    this.cap.on('packet', (length, truncated) => this.receive(length, truncated))
  }

  private receive(length: number, truncated: boolean): void {
    if (this.count === BATCH_FRAMES || this.used + length > BATCH_BYTES) this.flush()
    const at = this.used
    this.buffer.copy(this.chunk, at, 0, length)
    this.offsets[this.count] = at
    this.lengths[this.count] = length
    this.times[this.count] = this.now()
    this.count++
    this.used = at + length
    this.frames++
    this.bytes += length
    if (truncated) this.truncated++
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flushSoon)
    }
  }

  /** Hands every queued frame to the pipeline. */
  flush(): void {
    const n = this.count
    if (n === 0) return
    const frame = this.frame
    for (let i = 0; i < n; i++) {
      frame.offset = this.offsets[i]!
      frame.capturedLength = this.lengths[i]!
      frame.originalLength = this.lengths[i]!
      frame.time = this.times[i]!
      this.onFrame(frame)
    }
    this.count = 0
    this.used = 0
  }

  requestStats(): void {}

  /**
   * `cap` reads its ring whenever the event loop is free, so the ring is empty once a short wait
   * brings no new frame.
   */
  async drain(deadline: number): Promise<void> {
    let before = -1
    while (this.frames !== before && Date.now() < deadline) {
      before = this.frames
      await new Promise((resolve) => setTimeout(resolve, QUIET_MS))
    }
  }

  async stop(): Promise<void> {
    this.close()
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.flush()
    this.cap.close()
    this.cap.removeAllListeners('packet')
  }
}
