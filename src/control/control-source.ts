import { hostname } from 'node:os'
import { checkHostName } from '../config/rules.js'
import { InputError } from '../core/errors.js'
import type { NetworkConfig } from '../core/network.js'
import type { Logger } from '../ops/logger.js'
import type { Datastore } from '../store/datastore-url.js'
import { openStore } from '../store/open-store.js'
import type { Store } from '../store/store.js'
import type { Topology } from './control-plane.js'
import { type DaemonSettings, settingsOfConfig, topologyOfConfig } from './effective-network.js'
import { agentNetwork, FleetTopology, hostConfig, hostRecordId } from './fleet-topology.js'
import { CONFIG_RECORD_ID, reconcileWithConfig, type SeedResult } from './seed-state.js'

/**
 * Where `flowlog run` gets its control plane's inputs (DESIGN 10): the store, the topology and
 * settings the control plane joins with it, and how the effective network becomes the network
 * this daemon runs. One host (`--state DIR`, or `--datastore sqlite:DIR`): the config file's
 * topology, recorded under `topology/config`. An agent of a fleet (`--datastore etcd://…`): its
 * host's part of the config, recorded under `topology/hosts/<host>`, joined with every other
 * host's (fleet-topology.ts), and a network in which only its own interfaces are captured.
 */
export interface ControlSource {
  readonly store: Store
  /** This agent's host name in a fleet; null on a single host. */
  readonly host: string | null
  /** The topology the control plane checks and joins changes with, now. */
  topology(): Topology
  settings(): DaemonSettings
  /** The part of a config this daemon captures (its devices must exist). */
  ownConfig(config: NetworkConfig): NetworkConfig
  /** The effective network as this daemon runs it. */
  localize(network: NetworkConfig): NetworkConfig
  /** Other hosts of the fleet whose topology is joined, by name; [] on a single host. */
  otherHosts(): string[]
  /**
   * Uses a reloaded config's topology and settings from now on; the function returned goes back
   * to the previous ones (a reload the daemon refuses).
   */
  use(config: NetworkConfig): () => void
  /**
   * Records the config's topology in the store, seeding an empty state from it (see
   * reconcileWithConfig): at start, and after a reload the daemon took.
   */
  record(config: NetworkConfig, source: string): Promise<SeedResult>
  close(): Promise<void>
}

/** `--host-name`, checked; by default the machine's host name. */
export function agentHostName(flag: string | undefined): string {
  const name = flag ?? hostname()
  const checked = checkHostName(name)
  if (!checked.ok) {
    const given = flag === undefined ? `the machine's host name "${name}"` : `"${name}"`
    throw new InputError(
      `--host-name ${given} ${checked.rule}${flag === undefined ? '; give --host-name' : ''}`,
    )
  }
  return checked.value
}

export async function openControlSource(
  datastore: Datastore,
  config: NetworkConfig,
  options: { host: string | null; logger?: Logger | undefined },
): Promise<ControlSource> {
  const host = options.host
  if (datastore.type === 'etcd' && host === null) {
    throw new InputError('an agent of a fleet (--datastore etcd://…) needs a host name (--host-name)')
  }
  const store = await openStore(datastore, { logger: options.logger })
  if (host === null || datastore.type === 'sqlite') return new SingleHost(store, config)
  try {
    const own = hostConfig(config, host)
    const fleet = await FleetTopology.open(store, host, recordOf(own, ''), options.logger)
    return new FleetAgent(store, host, own, fleet)
  } catch (error) {
    await store.close()
    throw error
  }
}

function recordOf(config: NetworkConfig, source: string) {
  return { topology: topologyOfConfig(config), settings: settingsOfConfig(config), source }
}

class SingleHost implements ControlSource {
  readonly host = null
  #config: NetworkConfig

  constructor(
    readonly store: Store,
    config: NetworkConfig,
  ) {
    this.#config = config
  }

  topology(): Topology {
    return topologyOfConfig(this.#config)
  }

  settings(): DaemonSettings {
    return settingsOfConfig(this.#config)
  }

  ownConfig(config: NetworkConfig): NetworkConfig {
    return config
  }

  localize(network: NetworkConfig): NetworkConfig {
    return network
  }

  otherHosts(): string[] {
    return []
  }

  use(config: NetworkConfig): () => void {
    const before = this.#config
    this.#config = config
    return () => {
      this.#config = before
    }
  }

  record(config: NetworkConfig, source: string): Promise<SeedResult> {
    return reconcileWithConfig(this.store, config, source, undefined, CONFIG_RECORD_ID)
  }

  close(): Promise<void> {
    return this.store.close()
  }
}

class FleetAgent implements ControlSource {
  #own: NetworkConfig

  constructor(
    readonly store: Store,
    readonly host: string,
    own: NetworkConfig,
    private readonly fleet: FleetTopology,
  ) {
    this.#own = own
  }

  topology(): Topology {
    return this.fleet.current()
  }

  settings(): DaemonSettings {
    return settingsOfConfig(this.#own)
  }

  ownConfig(config: NetworkConfig): NetworkConfig {
    return hostConfig(config, this.host)
  }

  localize(network: NetworkConfig): NetworkConfig {
    return agentNetwork(network, this.host)
  }

  otherHosts(): string[] {
    return this.fleet.hosts().filter((h) => h !== this.host)
  }

  use(config: NetworkConfig): () => void {
    const before = this.#own
    this.#own = hostConfig(config, this.host)
    this.fleet.setOwn(recordOf(this.#own, ''))
    return () => {
      this.#own = before
      this.fleet.setOwn(recordOf(before, ''))
    }
  }

  record(config: NetworkConfig, source: string): Promise<SeedResult> {
    const own = hostConfig(config, this.host)
    return reconcileWithConfig(this.store, own, source, undefined, hostRecordId(this.host))
  }

  async close(): Promise<void> {
    this.fleet.close()
    await this.store.close()
  }
}
