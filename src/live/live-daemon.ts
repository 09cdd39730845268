import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { loadConfig } from '../config/load-config.js'
import { FlowlogError, InputError } from '../core/errors.js'
import { LINKTYPE } from '../core/frame.js'
import type { NetworkConfig } from '../core/network.js'
import { DECODE_NAMES } from '../core/packet-view.js'
import { deliverySetupFor } from '../deliver/delivery.js'
import { FlowLogDelivery } from '../deliver/flow-log-delivery.js'
import { EnforcedRuleset, type EnforceOptions } from '../enforce/enforced-ruleset.js'
import { NflogVerdicts } from '../enforce/nflog-verdicts.js'
import type { Logger } from '../ops/logger.js'
import type { LiveSnapshot } from '../ops/metrics.js'
import { switchFlowLogs } from '../pipeline/flow-log-switch.js'
import { PacketPipeline } from '../pipeline/packet-pipeline.js'
import { type WindowSink, WorkerWindowSink } from '../pipeline/window-sink.js'
import type { WrittenFile } from '../pipeline/window-writer.js'
import { type CompiledPolicy, compilePolicy } from '../policy/compile-policy.js'
import { type CaptureSetup, chooseCaptureBackend, openLiveCapture } from './capture-backend.js'
import { KernelDropEstimate } from './kernel-drops.js'
import type { LiveCapture } from './live-capture.js'
import { reloadProblems, topologyProblems } from './reload-check.js'

export interface LiveOptions {
  /** The config file: the network (and SIGHUP's reload) unless `network` is given. */
  configPath: string
  /** The network to run at start (a control plane's effective network); else the config file's. */
  network?: NetworkConfig
  /** Replace every flow log's destination with file://DIR (as replay --out). */
  out?: string
  /** Enforce mode: the kernel judges through nftables, flowlog reads its verdicts from NFLOG. */
  enforce: boolean
  ruleset: EnforceOptions
  logger: Logger
  /** Seconds a window stays open after its end (default 1: live captures are nearly in order). */
  lateness?: number
  /** Milliseconds between clock ticks that close windows (default 250). */
  tickMs?: number
  /** Kernel ring per device, MiB (bursts beyond it are kernel drops). */
  captureBufferMiB?: number
  /** The capture backend (chooseCaptureBackend; default: auto, checked as `flowlog run` does). */
  capture?: CaptureSetup
  /** Called with each file once written (metrics). */
  onFile?: (file: WrittenFile, delaySeconds: number) => void
}

/** What a live change did (apply, reload). */
export interface ApplyResult {
  ok: boolean
  message: string
  /** Flow logs that start at their next window boundary, and those whose open window was written. */
  added: string[]
  removed: string[]
}

/** The last change the daemon applied, for /status. */
export interface AppliedChange {
  at: string
  added: string[]
  removed: string[]
  rules: number
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
/** Seconds between looks at the devices' places in enforce mode (a VM started, a tap bridged). */
const DEVICE_WATCH_SECONDS = 2

interface Source {
  /** The configured interface a device belongs to (-1 for NFLOG groups). */
  iface: number
  device: string
  capture: LiveCapture | null
  /** A capture is being opened (tcpdump starts asynchronously). */
  opening: boolean
  /** Estimated drops, for a backend without pcap_stats (`cap`). */
  drops: KernelDropEstimate | null
  /** The backend's own drop count of the current capture already given to the pipeline as SKIPDATA. */
  dropsAccounted: number
  /** Drops and frames counted by captures before the current one (reopened after an exit). */
  dropsBefore: number
  framesBefore: number
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
  readonly capture: CaptureSetup
  private readonly sink: WindowSink
  private readonly sources: Source[] = []
  private readonly log: Logger
  private readonly verdicts: NflogVerdicts | null = null
  /** Enforce mode's table and sysctls; null in observe mode. */
  private readonly enforcer: EnforcedRuleset | null = null
  private nextDeviceWatch = 0
  private readonly started = now()
  private timer: NodeJS.Timeout | null = null
  private windowsClosed = 0
  private filesWritten = 0
  private stopping: Promise<LiveSummary> | null = null
  private readonly exitGuard = () => this.removeRulesetNow()
  /** Each flow log's delivery (DeliverLogsStatus), from the files written and the spool's attempts. */
  readonly delivery = new FlowLogDelivery()
  lastApplied: AppliedChange | null = null

  private constructor(private readonly options: LiveOptions) {
    this.log = options.logger
    this.mode = options.enforce ? 'enforce' : 'observe'
    this.capture = options.capture ?? chooseCaptureBackend('auto', { enforce: options.enforce })
    this.network = withOut(options, options.network ?? loadConfig(options.configPath))
    this.policy = compilePolicy(this.network)
    // resume: files an earlier run left in the spool are delivered by this one, retried for as
    // long as the daemon runs (replay gives up after its deadline; a daemon never does).
    this.sink = new WorkerWindowSink({
      network: this.network,
      ruleIds: this.policy.ruleIds,
      delivery: { ...deliverySetupFor(this.network), resume: true },
    })
    this.pipeline = new PacketPipeline(this.network, this.policy, {
      lateness: options.lateness ?? 1,
      onWindow: (interval, window) => {
        this.windowsClosed++
        this.sink.submit(interval, window)
      },
    })
    this.sink.onRecycle = (interval, buffer) => this.pipeline.recycle(interval, buffer)
    this.sink.onOutcome = (outcome) => this.delivery.outcome(outcome)
    if (options.enforce) {
      this.verdicts = new NflogVerdicts(this.pipeline, this.network.interfaces.length)
      this.enforcer = new EnforcedRuleset(options.ruleset, this.log)
    }
  }

  /** Loads the config, opens the captures (and the ruleset in enforce mode) and starts the clock. */
  static async start(options: LiveOptions): Promise<LiveDaemon> {
    const daemon = new LiveDaemon(options)
    try {
      await daemon.open()
    } catch (error) {
      daemon.closeSources()
      daemon.removeRulesetNow()
      void daemon.sink.close()
      throw error
    }
    return daemon
  }

  private async open(): Promise<void> {
    const devices = this.network.interfaces.flatMap((nic, iface) =>
      nic.device === null ? [] : [{ iface, device: nic.device }],
    )
    requireDevices(this.network, this.options.configPath)
    const t = now()
    this.pipeline.start(t)
    if (this.enforcer !== null) {
      const { acceptGroup, dropGroup, table } = this.options.ruleset
      // Listen before the ruleset exists, so the first verdicts are not lost.
      for (const group of [acceptGroup, dropGroup]) await this.addSource(-1, `nflog:${group}`, true)
      process.on('exit', this.exitGuard)
      this.enforcer.start(this.network, this.policy)
      this.nextDeviceWatch = t + DEVICE_WATCH_SECONDS
      this.log.info(
        { table, acceptGroup, dropGroup, devices: devices.map((d) => d.device) },
        'enforcing security groups',
      )
    } else {
      // Every open settles before a failure is thrown, so that closing the sources stops them all.
      const opened = await Promise.allSettled(
        devices.map(({ iface, device }) => this.addSource(iface, device, false)),
      )
      for (const r of opened) if (r.status === 'rejected') throw r.reason
    }
    this.timer = setInterval(() => this.tick(), this.options.tickMs ?? 250)
    this.log.info(
      {
        mode: this.mode,
        backend: this.capture.backend,
        backendReason: this.capture.reason,
        ...(this.capture.backend === 'libpcap' ? {} : { snapLength: this.capture.snapLength }),
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

  private async addSource(iface: number, device: string, required: boolean): Promise<void> {
    const source: Source = {
      iface,
      device,
      capture: null,
      opening: false,
      drops: null,
      dropsAccounted: 0,
      dropsBefore: 0,
      framesBefore: 0,
      nextOpen: 0,
      framesAtTick: -1,
      lastSample: 0,
    }
    this.sources.push(source)
    await this.openSource(source, required)
  }

  /**
   * Opens a source's capture. A device that does not exist yet (a VM not started) is retried
   * every REOPEN_SECONDS; missing privileges, or a required NFLOG group, fail the start.
   */
  private async openSource(source: Source, required: boolean): Promise<void> {
    const onFrame =
      this.verdicts === null
        ? (f: Parameters<PacketPipeline['process']>[0]) => this.pipeline.process(f)
        : this.verdicts.onFrame
    source.opening = true
    try {
      const capture = await openLiveCapture(this.capture, {
        device: source.device,
        onFrame,
        onDrained: () => this.sampleDrops(source),
        bufferMiB: this.options.captureBufferMiB ?? 0,
      })
      if (this.stopping !== null) {
        capture.close()
        return
      }
      source.capture = capture
      source.dropsAccounted = 0
      source.drops =
        source.iface >= 0 && capture.kernelDrops === null ? new KernelDropEstimate(source.device) : null
      this.log.info(
        { device: source.device, backend: capture.backend, linkType: capture.linkType },
        'capturing',
      )
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
    } finally {
      source.opening = false
    }
  }

  /** Reopens a source in the background (from the clock): failures are logged, never fatal. */
  private reopen(source: Source): void {
    this.openSource(source, false).catch((error: unknown) => {
      source.nextOpen = now() + REOPEN_SECONDS
      this.log.error(
        { device: source.device, error: error instanceof Error ? error.message : String(error) },
        `cannot capture; retrying every ${REOPEN_SECONDS} s`,
      )
    })
  }

  /** A capture that ended by itself (tcpdump exited: the device went away): count it, reopen later. */
  private retire(s: Source, t: number): void {
    const capture = s.capture
    if (capture === null) return
    this.accountDrops(s, t)
    s.framesBefore += capture.frames
    s.dropsBefore += s.drops?.dropped ?? s.dropsAccounted
    s.drops = null
    s.dropsAccounted = 0
    s.capture = null
    s.nextOpen = t + REOPEN_SECONDS
    capture.close()
    this.log.warn(
      {
        device: s.device,
        error: capture.failure,
        frames: capture.frames,
        ...(capture.problems.size > 0 ? { problems: Object.fromEntries(capture.problems) } : {}),
      },
      `capture ended; reopening in ${REOPEN_SECONDS} s`,
    )
  }

  /** The clock: hand on queued frames, close windows, sample kernel drops, collect written files. */
  private tick(): void {
    const t = now()
    for (const s of this.sources) {
      s.capture?.flush()
      if (s.capture?.failure != null) this.retire(s, t)
      if (s.capture === null && !s.opening && t >= s.nextOpen) this.reopen(s)
    }
    for (const s of this.sources) {
      if (s.capture === null) continue
      if (s.capture.kernelDrops !== null) {
        // The backend counts its drops itself: ask once a second, count what the last answer said.
        this.accountDrops(s, t)
        if (t - s.lastSample >= DROP_SAMPLE_SECONDS) {
          s.lastSample = t
          s.capture.requestStats()
        }
        continue
      }
      // No frame for a whole tick: the ring is empty, a shortfall now is a loss.
      const frames = s.capture.frames
      if (frames === s.framesAtTick) this.sampleDrops(s)
      s.framesAtTick = frames
    }
    this.pipeline.advance(t)
    this.collectFiles(t)
    this.watchDevices(t)
  }

  /** Enforce mode: follows devices that appear, go or move to a bridge (EnforcedRuleset.watchDevices). */
  private watchDevices(t: number): void {
    if (this.enforcer === null || t < this.nextDeviceWatch) return
    this.nextDeviceWatch = t + DEVICE_WATCH_SECONDS
    this.enforcer.watchDevices(this.network, this.policy)
  }

  /**
   * Gives the drops the backend reported since the last call to the interface's SKIPDATA record.
   * pcap_stats and PACKET_STATISTICS count packets, not bytes: the SKIPDATA record's IP bytes are
   * estimated from the average packet captured on the device.
   */
  private accountDrops(s: Source, t: number): void {
    const c = s.capture
    if (c === null || c.kernelDrops === null || c.kernelDrops <= s.dropsAccounted) return
    const lost = c.kernelDrops - s.dropsAccounted
    s.dropsAccounted = c.kernelDrops
    const header = c.linkType === LINKTYPE.ETHERNET ? 14 : 0
    const average = c.frames === 0 ? 0 : Math.max(0, c.bytes / c.frames - header)
    if (s.iface >= 0) this.pipeline.skipPackets(s.iface, lost, Math.round(average * lost), t)
    this.log.warn(
      { device: s.device, packets: lost, total: s.dropsBefore + s.dropsAccounted },
      s.iface >= 0
        ? 'kernel dropped packets before capture (SKIPDATA)'
        : 'kernel dropped NFLOG verdicts before capture',
    )
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
      this.delivery.fileWritten(f)
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
   * Reloads the config file (SIGHUP, POST /reload, without a control plane). Security-group
   * changes apply to new connections at once; tracked connections keep their verdict. A changed
   * flow log, or anything else, is refused and the running config stays.
   */
  reload(): ApplyResult {
    let next: NetworkConfig
    try {
      next = withOut(this.options, loadConfig(this.options.configPath))
    } catch (error) {
      const problems =
        error instanceof InputError
          ? error.problems
          : [error instanceof Error ? error.message : String(error)]
      return this.refuse(problems, 'config reload refused, still running the previous config')
    }
    const problems = reloadProblems(this.network, next)
    if (problems.length > 0)
      return this.refuse(problems, 'config reload refused, still running the previous config')
    const result = this.apply(next, 'config reload refused, still running the previous config')
    if (!result.ok) return result
    const message = `config reloaded: ${this.policy.ruleIds.length} rule(s); new connections are judged by the new rules`
    this.log.info({ config: this.options.configPath }, message)
    return { ...result, message }
  }

  /**
   * Runs `next` from now on, without a restart (a control-plane change, a reload): the whole
   * effective network, whose interfaces, VPCs and limits must be the running ones.
   * - A flow log added (or resumed) starts at its next window boundary on every interface it
   *   covers; a new interval gets its own aggregation table.
   * - A flow log removed (or paused) has its open windows written at once, partial, for it alone,
   *   and nothing after.
   * - Security groups and attachments judge new connections at once (tracked ones keep their
   *   verdict, as on AWS); records name the new rules' ids. In enforce mode the nftables ruleset
   *   is replaced atomically first: when the kernel refuses it, nothing changes.
   * Nothing changes per packet: the pipeline's tables and the policy are swapped whole.
   */
  apply(network: NetworkConfig, refusal = 'change refused, still running the previous network'): ApplyResult {
    const next = withOut(this.options, network)
    // A change that leaves the network as it runs (a tag, a name, the config's record) is nothing to do.
    if (JSON.stringify(next) === JSON.stringify(this.network)) {
      return { ok: true, message: 'unchanged: the network runs as it is', added: [], removed: [] }
    }
    const problems = topologyProblems(this.network, next)
    if (problems.length > 0) return this.refuse(problems, refusal)
    const policy = compilePolicy(next, this.policy)
    if (this.enforcer !== null) {
      try {
        this.enforcer.replace(next, policy)
      } catch (error) {
        return this.refuse([error instanceof Error ? error.message : String(error)], refusal)
      }
    }
    const t = now()
    const { added, removed } = switchFlowLogs(this.pipeline, this.sink, this.network, next, policy.ruleIds, t)
    // Packets sent before now, still in the captures' buffers, are judged by the rules before.
    this.pipeline.tracker.setPolicy(policy, t)
    this.policy = policy
    this.network = next
    this.lastApplied = {
      at: new Date(t * 1000).toISOString(),
      added: added.map((f) => f.id),
      removed: removed.map((f) => f.id),
      rules: policy.ruleIds.length,
    }
    const message = `applied: ${added.length} flow log(s) start at their next window, ${removed.length} stopped after writing their open window; ${policy.ruleIds.length} rule(s) judge new connections`
    this.log.info(
      { added: this.lastApplied.added, removed: this.lastApplied.removed, rules: policy.ruleIds.length },
      message,
    )
    return { ok: true, message, added: this.lastApplied.added, removed: this.lastApplied.removed }
  }

  private refuse(problems: readonly string[], refusal: string): ApplyResult {
    this.log.error({ config: this.options.configPath, problems }, refusal)
    return { ok: false, message: `${refusal}: ${problems.join('; ')}`, added: [], removed: [] }
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
        frames: s.framesBefore + (s.capture?.frames ?? 0),
        kernelDrops: s.dropsBefore + (s.drops?.dropped ?? s.dropsAccounted),
      })),
      decode,
      unattributed: p.counters.unattributed,
      neighbourDiscovery: p.counters.neighbourDiscovery,
      internalErrors: p.counters.internalErrors,
      latePackets: tables.reduce((n, t) => n + t.latePackets, 0),
      skippedPackets: tables.reduce((n, t) => n + t.skippedPackets, 0),
      activeFlows: tables.reduce((n, t) => n + t.records, 0),
      trackedConnections: p.tracker.size,
      windowsClosed: this.windowsClosed,
      flowLogs: this.network.flowLogs.length,
      delivery: this.sink.deliveryStats.snapshot(),
    }
  }

  /** Flushes open windows (the partial current one included), writes them, removes the ruleset. */
  stop(): Promise<LiveSummary> {
    this.stopping ??= this.shutdown()
    return this.stopping
  }

  private async shutdown(): Promise<LiveSummary> {
    if (this.timer !== null) clearInterval(this.timer)
    if (this.enforcer !== null) {
      this.removeRulesetNow()
      // Verdicts the kernel logged just before are still on their way through netlink.
      await new Promise((resolve) => setTimeout(resolve, NFLOG_DRAIN_MS))
    }
    await this.drainCaptures()
    await this.stopSources()
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

  /** Lets the captures hand on what the kernel queued for them before the stop, up to a bound. */
  private async drainCaptures(): Promise<void> {
    const deadline = Date.now() + DRAIN_LIMIT_MS
    await Promise.all(this.sources.map((s) => s.capture?.drain(deadline)))
  }

  /** Stops every capture, reading what they still hand on, and counts their final drops. */
  private async stopSources(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.capture?.stop()))
    const t = now()
    for (const s of this.sources) {
      this.accountDrops(s, t)
      const problems = s.capture?.problems
      if (problems !== undefined && problems.size > 0) {
        this.log.warn({ device: s.device, problems: Object.fromEntries(problems) }, 'capture stream problems')
      }
    }
    this.closeSources()
  }

  private closeSources(): void {
    for (const s of this.sources) {
      s.capture?.close()
      s.capture = null
    }
  }

  /** Removes the table and restores the sysctls; synchronous, so it also runs from process 'exit'. */
  private removeRulesetNow(): void {
    process.off('exit', this.exitGuard)
    this.enforcer?.remove()
  }
}

/** Refuses a network with nothing to capture (checked before anything is opened or created). */
export function requireDevices(network: NetworkConfig, configPath: string): void {
  if (!network.interfaces.some((nic) => nic.device !== null)) {
    throw new InputError(
      `${configPath}: no interface has a "device"; flowlog run captures the devices it names`,
    )
  }
}

/** The network with every destination replaced by file://OUT when the daemon was given --out. */
function withOut(options: LiveOptions, network: NetworkConfig): NetworkConfig {
  if (options.out === undefined) return network
  const destination = pathToFileURL(resolve(options.out)).href
  return { ...network, flowLogs: network.flowLogs.map((f) => ({ ...f, destination })) }
}
