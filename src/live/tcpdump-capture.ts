import { type ChildProcess, spawn } from 'node:child_process'
import { PcapStream } from '../capture/pcap-stream.js'
import { type Frame, newFrame } from '../core/frame.js'
import type { LiveCapture, LiveCaptureOptions } from './live-capture.js'
import { tcpdumpPrivilegesError } from './privileges.js'

/**
 * Bytes of each packet kept by default: every header flow logs read (Ethernet, VLAN, IPv6 with a
 * few extension headers, TCP with options) fits, and byte counts come from the IP length field,
 * not from what was captured. Small slots are what make the kernel ring hold many packets.
 */
export const DEFAULT_SNAP_LENGTH = 256
/**
 * NFLOG messages carry their attributes (prefix, timestamps, interfaces) before the packet, and
 * travel over netlink, not a ring of fixed slots: they are kept whole.
 */
const NFLOG_SNAP_LENGTH = 65_535
const OPEN_LIMIT_MS = 10_000
const STOP_LIMIT_MS = 5_000
/** Lines of tcpdump's own messages kept for error reports. */
const MESSAGE_LINES = 4

export interface TcpdumpCaptureOptions extends LiveCaptureOptions {
  /** tcpdump's path. */
  command: string
  /** Bytes of each packet captured (not for nflog: devices). */
  snapLength: number
  /** A command that runs tcpdump and kills it when flowlog dies (setpriv --pdeathsig KILL), or []. */
  wrapper: readonly string[]
}

/** One report of tcpdump's pcap_stats (it prints them on SIGUSR1 and at exit). */
interface Stats {
  received: number
  dropped: number
}

/**
 * One device captured by tcpdump, libpcap's own capture program, as a child process:
 * `tcpdump -i DEV -w - -U --immediate-mode -s SNAP -B KIB`. It reads the kernel ring in C and
 * writes a pcap stream to a pipe; flowlog reads the pipe asynchronously, in chunks of up to 64 KiB,
 * parses whole records in place (PcapStream) and hands each chunk's frames to the pipeline with
 * the kernel's nanosecond timestamps. Nothing is allocated per packet on flowlog's side, and the
 * event loop is never blocked on the pipe.
 *
 * Why these options: immediate mode makes libpcap use TPACKET_V2, whose ring has one slot per
 * packet sized by the snap length (about 350 bytes at 256, so a 32 MiB ring holds some 90,000
 * packets), and delivers every packet at once; TPACKET_V3's blocks would hold quiet traffic back
 * for up to tcpdump's 1 s timeout, as long as a window stays open. -U writes each packet out as it
 * is read (a busy ring still gives large pipe reads). -Z root keeps tcpdump's credentials as they
 * were (it drops capabilities it does not need): a credential change would cancel the parent-death
 * signal that stops an orphaned tcpdump.
 *
 * Kernel drops are libpcap's own count (pcap_stats): tcpdump prints it on SIGUSR1 and at exit.
 */
export class TcpdumpCapture implements LiveCapture {
  readonly backend = 'tcpdump'
  readonly device: string
  frames = 0
  bytes = 0
  failure: string | null = null
  /** Packets the kernel put in the ring that tcpdump had not read when it stopped. */
  unreadAtExit = 0
  private readonly child: ChildProcess
  private readonly stream: PcapStream
  private readonly frame: Frame = newFrame()
  private readonly onFrame: (frame: Frame) => void
  private listening = false
  private exited = false
  private stopping = false
  private received = 0
  private ringDrops = 0
  private stderr = ''
  private readonly messages: string[] = []
  private readonly closeWaiters: (() => void)[] = []
  private statsWaiters: ((stats: Stats | null) => void)[] = []
  private onReady: (() => void) | null = null

  private constructor(options: TcpdumpCaptureOptions) {
    this.device = options.device
    this.onFrame = options.onFrame
    this.stream = new PcapStream(options.device, options.device)
    const nflog = options.device.startsWith('nflog:')
    const args = [
      ...options.wrapper,
      options.command,
      '-i',
      options.device,
      '-w',
      '-',
      '-U',
      '--immediate-mode',
      '-s',
      String(nflog ? NFLOG_SNAP_LENGTH : options.snapLength),
      '-B',
      String(options.bufferMiB * 1024),
      '-n',
      '-Z',
      'root',
      // libpcap's NFLOG devices have microsecond time stamps only.
      ...(nflog ? [] : ['--time-stamp-precision=nano']),
    ]
    // Its own process group: a terminal's Ctrl-C reaches flowlog, which drains and then stops tcpdump.
    this.child = spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    this.child.stdout?.on('data', (chunk: Buffer) => this.receive(chunk))
    this.child.stderr?.setEncoding('utf8')
    this.child.stderr?.on('data', (text: string) => this.readMessages(text))
    this.child.on('error', (error) => this.ended(`cannot run ${options.command}: ${error.message}`))
    this.child.on('close', (code, signal) => {
      if (this.stderr !== '') this.readLine(this.stderr.trim())
      this.stderr = ''
      this.ended(`tcpdump on ${options.device} exited (${signal ?? `code ${code}`})${this.lastMessages()}`)
    })
  }

  /** Starts tcpdump on the device; resolves once it listens and its stream header arrived. */
  static open(options: TcpdumpCaptureOptions): Promise<TcpdumpCapture> {
    const capture = new TcpdumpCapture(options)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        capture.close()
        reject(new Error(`tcpdump did not start capturing within ${OPEN_LIMIT_MS / 1000} s`))
      }, OPEN_LIMIT_MS)
      capture.onReady = () => {
        clearTimeout(timer)
        capture.onReady = null
        if (capture.failure !== null) {
          const permission = /permission|not permitted/i.test(capture.failure)
          reject(permission ? tcpdumpPrivilegesError(capture.failure, null) : new Error(capture.failure))
        } else resolve(capture)
      }
    })
  }

  /**
   * libpcap's ring drops, plus what was left in the ring when tcpdump stopped: when a service
   * manager signals tcpdump along with flowlog, it stops reading at once.
   */
  get kernelDrops(): number {
    return this.ringDrops + this.unreadAtExit
  }

  get linkType(): number {
    return this.stream.linkType
  }

  /** Capture-stream problems (a record cut short when tcpdump died, a bad length). */
  get problems(): ReadonlyMap<string, number> {
    return this.stream.problems
  }

  /** Frames are handed on as each chunk arrives; nothing waits for a flush. */
  flush(): void {}

  requestStats(): void {
    if (!this.listening || this.exited || this.child.pid === undefined) return
    try {
      // tcpdump's SIGUSR1 handler prints pcap_stats to stderr; it is installed before "listening on".
      process.kill(this.child.pid, 'SIGUSR1')
    } catch {
      // It has just exited: 'close' reports that.
    }
  }

  /**
   * libpcap's stats say how many packets the kernel put in the ring (received by filter minus
   * dropped); the drain waits until that many frames came through the pipe.
   */
  async drain(deadline: number): Promise<void> {
    if (this.exited) return
    const stats = await new Promise<Stats | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), Math.max(0, deadline - Date.now()))
      this.statsWaiters.push((s) => {
        clearTimeout(timer)
        resolve(s)
      })
      this.requestStats()
    })
    if (stats === null) return
    const target = stats.received - stats.dropped
    while (this.frames < target && !this.exited && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  /** SIGTERM: tcpdump stops reading, flushes the pipe and prints its final stats; all of it is read. */
  async stop(): Promise<void> {
    if (this.exited) return
    this.stopping = true
    this.signal('SIGTERM')
    const killer = setTimeout(() => this.signal('SIGKILL'), STOP_LIMIT_MS)
    await new Promise<void>((resolve) => {
      if (this.exited) resolve()
      else this.closeWaiters.push(resolve)
    })
    clearTimeout(killer)
  }

  close(): void {
    if (this.exited) return
    this.stopping = true
    this.signal('SIGKILL')
  }

  private signal(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined || this.exited) return
    try {
      process.kill(this.child.pid, signal)
    } catch {
      // Already gone.
    }
  }

  private receive(chunk: Buffer): void {
    const stream = this.stream
    stream.push(chunk)
    const frame = this.frame
    while (stream.next(frame)) {
      this.frames++
      this.bytes += frame.originalLength
      this.onFrame(frame)
    }
    if (this.onReady !== null && this.listening && stream.linkType >= 0) this.onReady()
    if (stream.error !== null && this.failure === null) {
      this.failure = stream.error
      this.close()
    }
  }

  private readMessages(text: string): void {
    this.stderr += text
    let newline = this.stderr.indexOf('\n')
    while (newline >= 0) {
      const line = this.stderr.slice(0, newline).trim()
      this.stderr = this.stderr.slice(newline + 1)
      this.readLine(line)
      newline = this.stderr.indexOf('\n')
    }
  }

  /**
   * Stats come as one line on SIGUSR1 ("tcpdump: 7 packets captured, 7 packets received by
   * filter, 0 packets dropped by kernel") and as separate lines at exit; the drop count ends both.
   */
  private readLine(line: string): void {
    if (line === '') return
    const received = /(\d+) packets? received by filter/.exec(line)
    if (received !== null) this.received = Number(received[1])
    const dropped = /(\d+) packets? dropped by kernel/.exec(line)
    if (dropped !== null) {
      this.ringDrops = Math.max(this.ringDrops, Number(dropped[1]))
      const waiters = this.statsWaiters
      this.statsWaiters = []
      for (const w of waiters) w({ received: this.received, dropped: this.ringDrops })
      return
    }
    if (received !== null || /packets? (captured|dropped by interface)/.test(line)) return
    if (/listening on /.test(line)) {
      this.listening = true
      if (this.onReady !== null && this.stream.linkType >= 0) this.onReady()
      return
    }
    this.messages.push(line)
    if (this.messages.length > MESSAGE_LINES) this.messages.shift()
  }

  private lastMessages(): string {
    return this.messages.length === 0 ? '' : `: ${this.messages.join(' ')}`
  }

  private ended(reason: string): void {
    if (this.exited) return
    this.exited = true
    this.stream.finish()
    // The last stats (printed at exit, or by an earlier SIGUSR1) say how many packets reached the
    // ring; any of them not handed on by now never will be.
    this.unreadAtExit = Math.max(0, this.received - this.ringDrops - this.frames)
    if (!this.stopping && this.failure === null) this.failure = reason
    this.onReady?.()
    const waiters = this.statsWaiters
    this.statsWaiters = []
    for (const w of waiters) w(null)
    for (const w of this.closeWaiters.splice(0)) w()
  }
}
