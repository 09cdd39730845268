import type { ApiAdapter } from '../api/api-handler.js'
import { type ApiServer, startApiServer } from '../api/api-server.js'
import { type ConsoleMount, consoleAdapters } from '../api/console/console-adapters.js'
import { ApiCredentials } from '../api/ec2/api-credentials.js'
import { createEc2Adapter } from '../api/ec2/ec2-adapter.js'
import { NhnApiAdapter } from '../api/nhn/nhn-adapter.js'
import { openApiText } from '../api/nhn/openapi.js'
import { loadConfig } from '../config/load-config.js'
import { ControlService, NOTHING_DELIVERED } from '../control/control-service.js'
import { agentHostName, type ControlSource, openControlSource } from '../control/control-source.js'
import { hostConfig } from '../control/fleet-topology.js'
import { InputError } from '../core/errors.js'
import type { NetworkConfig } from '../core/network.js'
import { registerDatastoreMetrics } from '../ops/datastore-metrics.js'
import type { Logger } from '../ops/logger.js'
import { LiveMetrics } from '../ops/metrics.js'
import type { Datastore } from '../store/datastore-url.js'
import type { StoreChange } from '../store/store.js'
import {
  type ApplyResult,
  LiveDaemon,
  type LiveOptions,
  type LiveSummary,
  requireDevices,
} from './live-daemon.js'

export interface ServiceOptions {
  /** The live daemon's settings (capture, enforce, ruleset, --out); its network comes from here. */
  live: Omit<LiveOptions, 'network' | 'onFile'>
  /** The state directory (`--state`), or null to run the config alone, as before the control plane. */
  stateDir: string | null
  /**
   * The control plane's datastore when not `--state`'s SQLite (`--datastore`): etcd makes this
   * daemon an agent of a fleet (docs/fleet.md), named `hostName`.
   */
  datastore?: Datastore | undefined
  /** This agent's name in a fleet (`--host-name`, checked); by default the machine's host name. */
  hostName?: string | undefined
  /** The HTTP listener, or null for none (`--no-api`). */
  api: { host: string; port: number } | null
  /** NHN's X-Auth-Token and POST /reload's bearer token; null refuses both. */
  token: string | null
  /** The key pairs that may call the EC2 API (`--api-credentials`); null: every call is refused. */
  credentials: ApiCredentials | null
  logger: Logger
}

/** Store change kinds that change the network the daemon runs (client tokens, status do not). */
const NETWORK_KINDS = new Set<StoreChange['kind']>(['flow-log', 'security-group', 'attachment', 'topology'])

/**
 * `flowlog run` as a service (DESIGN 10), wired in one place: the config file's topology, the
 * state's store, the control plane on both, the API adapters on the control plane, one HTTP
 * server for them and the daemon's own routes, and the daemon, which only applies effective
 * networks: every committed store change that can alter the network is followed by one
 * `apply` of the control plane's effective network (changes that come together are applied once).
 * Without a state directory the daemon runs the config alone, as it always did.
 */
export class ServiceDaemon {
  readonly metrics: LiveMetrics
  private api: ApiServer | null = null
  private console: ConsoleMount | null = null
  private unwatch: (() => void) | null = null
  /** A store change waits to be applied; `applying` is the apply under way. */
  private dirty = false
  private applying: Promise<void> | null = null

  private constructor(
    readonly daemon: LiveDaemon,
    private readonly options: ServiceOptions,
    private readonly control: ControlService | null,
    private readonly source: ControlSource | null,
  ) {
    this.metrics = new LiveMetrics(() => daemon.snapshot())
    if (source !== null) registerDatastoreMetrics(this.metrics.registry, source.store)
  }

  static async start(options: ServiceOptions): Promise<ServiceDaemon> {
    const log = options.logger
    const configPath = options.live.configPath
    const datastore =
      options.datastore ??
      (options.stateDir === null ? null : { type: 'sqlite' as const, dir: options.stateDir })
    if (datastore === null) {
      const daemon = await LiveDaemon.start({
        ...options.live,
        onFile: (f, d) => service?.fileWritten(f.flowLogId, d),
      })
      const service: ServiceDaemon = new ServiceDaemon(daemon, options, null, null)
      await service.listen()
      return service
    }
    const config = loadConfig(configPath)
    // A fleet's agent has a name and captures only its own host's interfaces (docs/fleet.md); a
    // single host needs no name.
    const host = datastore.type === 'etcd' ? (options.hostName ?? agentHostName(undefined)) : null
    requireDevices(host === null ? config : hostConfig(config, host), configPath)
    const source = await openControlSource(datastore, config, { host, logger: log })
    const store = source.store
    let service: ServiceDaemon | undefined
    try {
      const seed = await source.record(config, configPath)
      if (seed.seeded)
        log.info({ state: store.description, config: configPath }, 'state seeded from the config')
      if (seed.added.length > 0)
        log.warn({ groups: seed.added }, "groups the config's interfaces need were added to the state")
      for (const warning of seed.warnings) log.warn({ state: store.description }, warning)
      if (source.host !== null)
        log.info(
          { host: source.host, otherHosts: source.otherHosts(), datastore: store.description },
          'fleet agent: the topology joins every host’s interfaces; this one captures its own',
        )
      const control = new ControlService({
        store,
        topology: () => source.topology(),
        settings: () => source.settings(),
        deliveryStatus: (id) => service?.daemon.delivery.status(id) ?? NOTHING_DELIVERED,
      })
      const network = source.localize(await control.effectiveNetwork())
      const daemon = await LiveDaemon.start({
        ...options.live,
        network,
        onFile: (f, d) => service?.fileWritten(f.flowLogId, d),
      })
      service = new ServiceDaemon(daemon, options, control, source)
      service.unwatch = store.watch((changes) => {
        if (changes.some((c) => NETWORK_KINDS.has(c.kind))) service?.schedule()
      })
      await service.listen()
      log.info(
        { state: store.description, flowLogs: network.flowLogs.map((f) => f.id) },
        'control plane ready: API changes apply live',
      )
      return service
    } catch (error) {
      await service?.stop().catch(() => {})
      await source.close()
      throw error
    }
  }

  private fileWritten(flowLogId: string, delaySeconds: number): void {
    this.metrics.fileWritten(flowLogId, delaySeconds)
  }

  private async listen(): Promise<void> {
    const api = this.options.api
    if (api === null) return
    const { logger: log, token } = this.options
    const adapters = this.control === null ? [] : protocolAdapters(this.control, this.options)
    if (this.control !== null) {
      // The web console on the same listener: its page and the read-only analysis endpoints over
      // the files the flow logs write (where the daemon writes them, --out included).
      this.console = consoleAdapters({
        sources: [],
        control: this.control,
        destinations: async () => this.daemon.network.flowLogs.map((f) => f.destination),
        network: null,
        token,
        management: token !== null,
      })
      adapters.push(...this.console.adapters)
    }
    try {
      this.api = await startApiServer(
        { host: api.host, port: api.port, token, adapters, logger: log },
        {
          metrics: () => this.metrics.text(),
          metricsContentType: this.metrics.registry.contentType,
          status: () => this.status(),
          reload: () => this.reload(),
          openapi: this.control === null ? null : openApiText,
        },
      )
    } catch (error) {
      await this.daemon.stop()
      throw error
    }
    log.info(
      {
        host: api.host,
        port: this.api.port,
        reloadEnabled: token !== null,
        adapters: adapters.map((a) => a.name),
      },
      'api listening',
    )
  }

  /** What GET /status shows: the daemon, the store and the control plane's last change applied. */
  status(): unknown {
    const d = this.daemon
    return {
      mode: d.mode,
      config: this.options.live.configPath,
      store:
        this.source === null
          ? null
          : { description: this.source.store.description, ...this.source.store.health() },
      ...(this.source?.host == null
        ? {}
        : { fleet: { host: this.source.host, otherHosts: this.source.otherHosts() } }),
      ...d.snapshot(),
      flowLogs: d.network.flowLogs.map((f) => ({
        id: f.id,
        resource: f.resource,
        interval: f.aggregationInterval,
        delivery: d.delivery.status(f.id),
      })),
      lastApplied: d.lastApplied,
    }
  }

  /** Applies the control plane's effective network once more, after whatever changed meanwhile. */
  private schedule(): void {
    this.dirty = true
    this.applying ??= this.applyPending().finally(() => {
      this.applying = null
    })
  }

  private async applyPending(): Promise<void> {
    while (this.dirty && this.control !== null) {
      this.dirty = false
      try {
        const network = await this.control.effectiveNetwork()
        const result = this.daemon.apply(this.source?.localize(network) ?? network)
        this.metrics.changeApplied(result.ok)
      } catch (error) {
        this.metrics.changeApplied(false)
        this.options.logger.error(
          { error: error instanceof Error ? error.message : String(error) },
          'cannot read the effective network; still running the previous one',
        )
      }
    }
  }

  /** Waits until every store change seen so far is applied (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.applying !== null) await this.applying
  }

  /**
   * SIGHUP and POST /reload: reads the config file again. Without a state, as before: its groups
   * apply live, changed flow logs are refused. With a state: its topology and settings replace
   * the old ones (interfaces, VPCs and limits must stay as they are), and the state stays the
   * truth for groups and flow logs (a difference is a warning, see reconcileWithConfig).
   */
  async reload(): Promise<ApplyResult> {
    const refusal = 'config reload refused, still running the previous config'
    if (this.control === null || this.source === null) return this.reloaded(this.daemon.reload())
    let config: NetworkConfig
    try {
      config = loadConfig(this.options.live.configPath)
    } catch (error) {
      const problems = error instanceof InputError ? error.problems : [String(error)]
      this.options.logger.error({ config: this.options.live.configPath, problems }, refusal)
      return this.reloaded({
        ok: false,
        message: `${refusal}: ${problems.join('; ')}`,
        added: [],
        removed: [],
      })
    }
    const undo = this.source.use(config)
    let result: ApplyResult
    try {
      result = this.daemon.apply(this.source.localize(await this.control.effectiveNetwork()), refusal)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      result = { ok: false, message: `${refusal}: ${message}`, added: [], removed: [] }
    }
    if (!result.ok) {
      undo()
      return this.reloaded(result)
    }
    const seed = await this.source.record(config, this.options.live.configPath)
    for (const warning of seed.warnings)
      this.options.logger.warn({ state: this.source.store.description }, warning)
    this.options.logger.info(
      { config: this.options.live.configPath },
      'config reloaded: topology and settings',
    )
    return this.reloaded({ ...result, message: `config reloaded: ${result.message}` })
  }

  private reloaded(result: ApplyResult): ApplyResult {
    this.metrics.reloaded(result.ok)
    return result
  }

  async stop(): Promise<LiveSummary> {
    this.unwatch?.()
    await this.settled()
    await this.api?.close()
    this.console?.close()
    try {
      return await this.daemon.stop()
    } finally {
      await this.source?.close()
    }
  }
}

/**
 * The APIs on the control plane: EC2 Query at POST / (SigV4 against the key pairs; with none,
 * every call is refused with AuthFailure rather than the route missing), and NHN's Flow Log API
 * under /v2.0/ when there is a token (without one it is not mounted: 404).
 */
function protocolAdapters(control: ControlService, options: ServiceOptions): ApiAdapter[] {
  const credentials = options.credentials ?? new ApiCredentials([])
  const adapters: ApiAdapter[] = [createEc2Adapter({ control, credentials, logger: options.logger })]
  if (options.token !== null) adapters.push(new NhnApiAdapter({ control, token: options.token }))
  return adapters
}
