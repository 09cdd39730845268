import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { loadConfig } from '../config/load-config.js'
import { FlowlogError, InputError } from '../core/errors.js'
import { LINKTYPE } from '../core/frame.js'
import type { NetworkConfig } from '../core/network.js'
import { DECODE_NAMES } from '../core/packet-view.js'
import { NflogVerdicts } from '../enforce/nflog-verdicts.js'
import { loadRuleset, removeTable } from '../enforce/nft.js'
import { type RulesetOptions, renderRuleset } from '../enforce/render-ruleset.js'
import type { Logger } from '../ops/logger.js'
import type { LiveSnapshot } from '../ops/metrics.js'
import { PacketPipeline } from '../pipeline/packet-pipeline.js'
import { type WindowSink, WorkerWindowSink } from '../pipeline/window-sink.js'
import type { WrittenFile } from '../pipeline/window-writer.js'
import { type CompiledPolicy, compilePolicy } from '../policy/compile-policy.js'
import { DeviceCapture } from './device-capture.js'
import { KernelDropEstimate } from './kernel-drops.js'
import { reloadProblems } from './reload-check.js'

export interface LiveOptions {
  configPath: string
  /** Replace every flow log's destination with file://DIR (as replay --out). */
  out?: string
  /** Enforce mode: the kernel judges through nftables, flowlog reads its verdicts from NFLOG. */
  enforce: boolean
  ruleset: RulesetOptions
  logger: Logger
  /** Seconds a window stays open after its end (default 1: live captures are nearly in order). */
  lateness?: number
  /** Milliseconds between clock ticks that close windows (default 250). */
  tickMs?: number
  /** libpcap kernel ring per device, MiB (bursts beyond it are kernel drops). */
  captureBufferMiB?: number
  /** Called with each file once written (metrics). */
  onFile?: (file: WrittenFile, delaySeconds: number) => void
}

export interface LiveSummary {
  mode: 'observe' | 'enforce'
  seconds: number
  frames: number
  recordedPackets: number
  kernelDrops: number
  windowsClosed: number
  files: number
  decode: Record<string, number>
}

/** Seconds between retries of a device that could not be opened (a VM not started yet). */
const REOPEN_SECONDS = 5
/** Milliseconds the NFLOG captures keep reading after the ruleset is gone, at shutdown. */
const NFLOG_DRAIN_MS = 300
/** Longest wait at shutdown for the captures to read their rings' backlog. */
const DRAIN_LIMIT_MS = 5000
/** Seconds between kernel drop samples. */
const DROP_SAMPLE_SECONDS = 1

interface Source {
  /** The configured interface a device belongs to (-1 for NFLOG groups). */
  iface: number
  device: string
  capture: DeviceCapture | null
  drops: KernelDropEstimate | null
  /** Drops counted before the capture was last reopened. */
  dropsBefore: number
  /** Frames at the previous tick (no new frames for a tick: the ring is empty) and the last drop sample. */
  framesAtTick: number
  lastSample: number
  nextOpen: number
}

const now = () => Date.now() / 1000

/**
 * `flowlog run`: live capture on the interfaces' devices (observe) or the kernel's verdicts
 * through NFLOG (enforce), windows closed by the clock, files written as they close.
 * Everything runs on the main thread's event loop except formatting and writing (worker).
 */
export class LiveDaemon {
  network: NetworkConfig
  policy: CompiledPolicy
  readonly pipeline: PacketPipeline
  readonly mode: 'observe' | 'enforce'
  private readonly sink: WindowSink
  private readonly sources: Source[] = []
  private readonly log: Logger
  private readonly verdicts: NflogVerdicts | null = null
  private readonly started = now()
  private timer: NodeJS.Timeout | null = null
  private windowsClosed = 0
  private filesWritten = 0
  private rulesetLoaded = false
  private stopping: Promise<LiveSummary> | null = null
  private readonly exitGuard = () => this.removeRulesetNow()

  private constructor(private readonly options: LiveOptions) {
    this.log = options.logger
    this.mode = options.enforce ? 'enforce' : 'observe'
    this.network = readConfig(options)
    this.policy = compilePolicy(this.network)
    this.sink = new WorkerWindowSink({ network: this.network, ruleIds: this.policy.ruleIds })
    this.pipeline = new PacketPipeline(this.network, this.policy, {
      lateness: options.lateness ?? 1,
      onWindow: (interval, batch) => {
        this.windowsClosed++
        this.sink.submit(interval, batch)
      },
    })
    if (options.enforce) this.verdicts = new NflogVerdicts(this.pipeline, this.network.interfaces.length)
  }

  /** Loads the config, opens the captures (and the ruleset in enforce mode) and starts the clock. */
  static start(options: LiveOptions): LiveDaemon {
    const daemon = new LiveDaemon(options)
    try {
      daemon.open()
    } catch (error) {
      daemon.closeSources()
      daemon.removeRulesetNow()
      void daemon.sink.close()
      throw error
    }
    return daemon
  }

  private open(): void {
    const devices = this.network.interfaces.flatMap((nic, iface) =>
      nic.device === null ? [] : [{ iface, device: nic.device }],
    )
    if (devices.length === 0) {
      throw new InputError(
        `${this.options.configPath}: no interface has a "device"; flowlog run captures the devices it names`,
      )
    }
    const t = now()
    this.pipeline.start(t)
    if (this.options.enforce) {
      const { acceptGroup, dropGroup, table } = this.options.ruleset
      // Listen before the ruleset exists, so the first verdicts are not lost.
      for (const group of [acceptGroup, dropGroup]) this.addSource(-1, `nflog:${group}`, true)
      if (removeTable(table)) {
        this.log.warn({ table }, 'removed the ruleset a previous run left behind (it did not exit cleanly)')
      }
      loadRuleset(renderRuleset(this.network, this.policy, this.options.ruleset))
      this.rulesetLoaded = true
      process.on('exit', this.exitGuard)
      this.log.info(
        { table, acceptGroup, dropGroup, devices: devices.map((d) => d.device) },
        'enforcing security groups',
      )
    } else {
      for (const { iface, device } of devices) this.addSource(iface, device, false)
    }
    this.timer = setInterval(() => this.tick(), this.options.tickMs ?? 250)
    this.log.info(
      {
        mode: this.mode,
        devices: devices.map((d) => d.device),
        flowLogs: this.network.flowLogs.map((f) => ({
          id: f.id,
          interval: f.aggregationInterval,
          destination: f.destination,
        })),
      },
      'flowlog run started',
    )
  }

  private addSource(iface: number, device: string, required: boolean): void {
    const source: Source = {
      iface,
      device,
      capture: null,
      drops: null,
      dropsBefore: 0,
      nextOpen: 0,
      framesAtTick: -1,
      lastSample: 0,
    }
    this.sources.push(source)
    this.openSource(source, required)
  }

  private openSource(source: Source, required: boolean): void {
    const onFrame =
      this.verdicts === null
        ? (f: Parameters<PacketPipeline['process']>[0]) => this.pipeline.process(f)
        : this.verdicts.onFrame
    try {
      if (source.drops !== null) source.dropsBefore += source.drops.dropped
      source.drops = null
      source.capture = new DeviceCapture({
        device: source.device,
        onFrame,
        onDrained: () => this.sampleDrops(source),
        ...(this.options.captureBufferMiB === undefined ? {} : { bufferMiB: this.options.captureBufferMiB }),
      })
      if (source.iface >= 0) source.drops = new KernelDropEstimate(source.device)
      this.log.info({ device: source.device, linkType: source.capture.linkType }, 'capturing')
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      if (error instanceof FlowlogError || /permission|not permitted/i.test(message) || required) {
        throw new FlowlogError('ERR_CAPTURE_OPEN', `cannot capture on ${source.device}: ${message}`, {
          cause: error,
        })
      }
      source.nextOpen = now() + REOPEN_SECONDS
      this.log.warn(
        { device: source.device, error: message },
        `cannot capture yet; retrying every ${REOPEN_SECONDS} s`,
      )
    }
  }

  /** The clock: hand on queued frames, close windows, sample kernel drops, collect written files. */
  private tick(): void {
    const t = now()
    for (const s of this.sources) {
      s.capture?.flush()
      if (s.capture === null && t >= s.nextOpen) this.openSource(s, false)
    }
    for (const s of this.sources) {
      // No frame for a whole tick: the ring is empty, a shortfall now is a loss.
      const frames = s.capture?.frames ?? -1
      if (frames === s.framesAtTick) this.sampleDrops(s)
      s.framesAtTick = frames
    }
    this.pipeline.advance(t)
    this.collectFiles(t)
  }

  /**
   * Compares the device's kernel counters with what was captured, only at moments the capture's
   * ring is known to be empty (after a turn's last batch, or a tick without frames), at most once
   * a second: a backlog still in the ring must not count as a loss.
   */
  private sampleDrops(s: Source): void {
    const t = now()
    if (s.capture === null || s.drops === null || t - s.lastSample < DROP_SAMPLE_SECONDS) return
    s.lastSample = t
    const lost = s.drops.sample(s.capture.frames, s.capture.bytes)
    if (lost.packets === 0) return
    // The device counters count link-layer bytes; records count IP bytes.
    const header = s.capture.linkType === LINKTYPE.ETHERNET ? 14 : 0
    const bytes = Math.max(0, lost.bytes - header * lost.packets)
    this.pipeline.skipPackets(s.iface, lost.packets, bytes, t)
    this.log.warn(
      { device: s.device, packets: lost.packets, total: s.drops.dropped },
      'kernel dropped packets before capture (SKIPDATA)',
    )
  }

  private collectFiles(t: number): void {
    // The sink keeps every file it wrote; a daemon takes them as they come so the list stays short.
    const files = (this.sink.files as WrittenFile[]).splice(0)
    for (const f of files) {
      this.filesWritten++
      const flowLog = this.network.flowLogs.find((x) => x.id === f.flowLogId)
      const delay = t - (f.windowStart + (flowLog?.aggregationInterval ?? 0))
      this.options.onFile?.(f, delay)
      this.log.info(
        {
          flowLog: f.flowLogId,
          windowStart: f.windowStart,
          records: f.records,
          bytes: f.bytes,
          location: f.location,
        },
        'file written',
      )
    }
  }

  /**
   * Reloads the config file (SIGHUP, POST /reload). Security-group changes apply to new
   * connections at once; tracked connections keep their verdict. Anything else is refused and the
   * running config stays.
   */
  reload(): { ok: boolean; message: string } {
    let next: NetworkConfig
    try {
      next = readConfig(this.options)
    } catch (error) {
      const problems =
        error instanceof InputError
          ? error.problems
          : [error instanceof Error ? error.message : String(error)]
      return this.refuse(problems)
    }
    const problems = reloadProblems(this.network, next)
    if (problems.length > 0) return this.refuse(problems)
    const policy = compilePolicy(next, this.policy)
    if (this.options.enforce) {
      try {
        loadRuleset(renderRuleset(next, policy, this.options.ruleset))
      } catch (error) {
        return this.refuse([error instanceof Error ? error.message : String(error)])
      }
    }
    this.pipeline.tracker.setPolicy(policy)
    this.sink.setRuleIds(policy.ruleIds)
    this.policy = policy
    this.network = next
    const message = `config reloaded: ${policy.ruleIds.length} rule(s); new connections are judged by the new rules`
    this.log.info({ config: this.options.configPath }, message)
    return { ok: true, message }
  }

  private refuse(problems: readonly string[]): { ok: boolean; message: string } {
    const message = `config reload refused, still running the previous config: ${problems.join('; ')}`
    this.log.error(
      { config: this.options.configPath, problems },
      'config reload refused, still running the previous config',
    )
    return { ok: false, message }
  }

  snapshot(): LiveSnapshot {
    const p = this.pipeline
    const tables = p.tables.map((t) => t.table)
    const decode: Record<string, number> = {}
    p.counters.decodeResults.forEach((n, code) => {
      if (code !== 0 && n > 0) decode[DECODE_NAMES[code] ?? `code-${code}`] = n
    })
    return {
      interfaces: this.network.interfaces.map((nic, i) => ({
        id: nic.id,
        accepted: p.byInterface[i * 2] ?? 0,
        rejected: p.byInterface[i * 2 + 1] ?? 0,
      })),
      devices: this.sources.map((s) => ({
        device: s.device,
        frames: s.capture?.frames ?? 0,
        kernelDrops: s.dropsBefore + (s.drops?.dropped ?? 0),
      })),
      decode,
      unattributed: p.counters.unattributed,
      internalErrors: p.counters.internalErrors,
      latePackets: tables.reduce((n, t) => n + t.latePackets, 0),
      skippedPackets: tables.reduce((n, t) => n + t.skippedPackets, 0),
      activeFlows: tables.reduce((n, t) => n + t.records, 0),
      trackedConnections: p.tracker.size,
      windowsClosed: this.windowsClosed,
    }
  }

  /** Flushes open windows (the partial current one included), writes them, removes the ruleset. */
  stop(): Promise<LiveSummary> {
    this.stopping ??= this.shutdown()
    return this.stopping
  }

  private async shutdown(): Promise<LiveSummary> {
    if (this.timer !== null) clearInterval(this.timer)
    if (this.rulesetLoaded) {
      this.removeRulesetNow()
      // Verdicts the kernel logged just before are still on their way through netlink.
      await new Promise((resolve) => setTimeout(resolve, NFLOG_DRAIN_MS))
    }
    await this.drainCaptures()
    this.closeSources()
    const t = now()
    this.pipeline.advance(t)
    this.pipeline.finish(t)
    try {
      await this.sink.drain()
    } finally {
      this.collectFiles(now())
      await this.sink.close()
    }
    const s = this.snapshot()
    const summary: LiveSummary = {
      mode: this.mode,
      seconds: now() - this.started,
      frames: this.pipeline.counters.frames,
      recordedPackets: this.pipeline.counters.recordedPackets,
      kernelDrops: s.devices.reduce((n, d) => n + d.kernelDrops, 0),
      windowsClosed: this.windowsClosed,
      files: this.filesWritten,
      decode: s.decode,
    }
    this.log.info(summary, 'flowlog run stopped')
    return summary
  }

  /** Lets the captures read what libpcap's rings still hold (a backlog after a burst), up to a bound. */
  private async drainCaptures(): Promise<void> {
    const deadline = Date.now() + DRAIN_LIMIT_MS
    let before = -1
    for (;;) {
      const frames = this.sources.reduce((n, s) => n + (s.capture?.frames ?? 0), 0)
      if (frames === before || Date.now() > deadline) return
      before = frames
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  private closeSources(): void {
    for (const s of this.sources) {
      s.capture?.close()
      s.capture = null
    }
  }

  /** Synchronous, so it also runs from process 'exit' after a crash. */
  private removeRulesetNow(): void {
    if (!this.rulesetLoaded) return
    this.rulesetLoaded = false
    process.off('exit', this.exitGuard)
    try {
      removeTable(this.options.ruleset.table)
      this.log.info({ table: this.options.ruleset.table }, 'removed the enforce ruleset')
    } catch (error) {
      this.log.error(
        { error: error instanceof Error ? error.message : String(error) },
        'could not remove the enforce ruleset',
      )
    }
  }
}

function readConfig(options: LiveOptions): NetworkConfig {
  const network = loadConfig(options.configPath)
  if (options.out === undefined) return network
  const destination = pathToFileURL(resolve(options.out)).href
  return { ...network, flowLogs: network.flowLogs.map((f) => ({ ...f, destination })) }
}
