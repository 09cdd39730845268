import type { NetworkConfig, Subnet, Vpc } from '../core/network.js'
import type { Logger } from '../ops/logger.js'
import type { Store, StoreChange } from '../store/store.js'
import type { Topology } from './control-plane.js'
import type { ConfigRecord } from './seed-state.js'

/**
 * The topology of a fleet (docs/fleet.md): every agent publishes the part of its config that is
 * on its host (its interfaces, the VPCs and subnets it knows) under `topology/hosts/<host>`, and
 * every agent joins all hosts' records into one topology. So a flow log on a VPC covers the
 * interfaces of every host, and a group referenced by a rule resolves to its members' addresses
 * on every host, while each agent captures only its own devices (agentNetwork).
 */

export const HOST_RECORD_PREFIX = 'hosts/'

export function hostRecordId(host: string): string {
  return `${HOST_RECORD_PREFIX}${host}`
}

function isOwn(host: string | null | undefined, self: string): boolean {
  return host === undefined || host === null || host === self
}

/**
 * The part of a config that is this host's: its interfaces without a `host:` or with this one
 * (now marked with it). Interfaces the file places on other hosts are theirs to publish.
 */
export function hostConfig(config: NetworkConfig, self: string): NetworkConfig {
  return {
    ...config,
    interfaces: config.interfaces.filter((i) => isOwn(i.host, self)).map((i) => ({ ...i, host: self })),
  }
}

/**
 * The network an agent runs from the fleet's effective network: other hosts' interfaces keep
 * their addresses (groups and attribution need them) but lose their devices (they are captured
 * on their own host), and the object keys carry this host's name.
 */
export function agentNetwork(network: NetworkConfig, self: string): NetworkConfig {
  return {
    ...network,
    interfaces: network.interfaces.map((i) => (isOwn(i.host, self) ? i : { ...i, device: null })),
    agentHost: self,
  }
}

export interface HostRecord {
  host: string
  record: ConfigRecord
}

/**
 * One topology from every host's record. This host's record comes first and wins every clash;
 * the other hosts follow by name. A clash — another account or region, an interface id, address
 * or MAC already taken, a VPC or subnet defined otherwise — leaves the later host's item out and
 * says so in `problems`, so one host's mistake cannot stop the others' network.
 */
export function joinTopologies(
  records: readonly HostRecord[],
  self: string,
): { topology: Topology; problems: string[] } {
  const ordered = [...records].sort((a, b) =>
    a.host === self ? -1 : b.host === self ? 1 : a.host < b.host ? -1 : a.host > b.host ? 1 : 0,
  )
  const first = ordered[0]?.record.topology
  const problems: string[] = []
  const topology: Topology = {
    account: first?.account ?? '',
    region: first?.region ?? '',
    vpcs: [],
    interfaces: [],
  }
  const vpcs = new Map<string, { vpc: Vpc; host: string }>()
  const subnets = new Map<string, { subnet: Subnet; vpc: string; host: string }>()
  const interfaceIds = new Map<string, string>()
  const addresses = new Map<string, string>()
  const macs = new Map<string, string>()
  const vpcOfSubnet = (id: string) => subnets.get(id)?.vpc

  for (const { host, record } of ordered) {
    const t = record.topology
    if (t.account !== topology.account || t.region !== topology.region) {
      problems.push(
        `host ${host}: account ${t.account} region ${t.region} is not the fleet's (${topology.account} ${topology.region}); its interfaces are left out`,
      )
      continue
    }
    for (const vpc of t.vpcs) {
      const known = vpcs.get(vpc.id)
      if (known === undefined) {
        const copy: Vpc = { ...vpc, subnets: [] }
        vpcs.set(vpc.id, { vpc: copy, host })
        topology.vpcs.push(copy)
      } else if (!sameList(known.vpc.cidrs, vpc.cidrs)) {
        problems.push(
          `host ${host}: VPC ${vpc.id} has CIDRs ${vpc.cidrs.join(', ')}, host ${known.host} ${known.vpc.cidrs.join(', ')}; ${known.host}'s are used`,
        )
      }
      const target = vpcs.get(vpc.id)?.vpc
      for (const subnet of vpc.subnets) {
        const seen = subnets.get(subnet.id)
        if (seen === undefined) {
          subnets.set(subnet.id, { subnet, vpc: vpc.id, host })
          target?.subnets.push(subnet)
        } else if (seen.vpc !== vpc.id || !sameList(seen.subnet.cidrs, subnet.cidrs)) {
          problems.push(
            `host ${host}: subnet ${subnet.id} is defined otherwise on host ${seen.host}; ${seen.host}'s is used`,
          )
        }
      }
    }
    for (const iface of t.interfaces) {
      const clash = (what: string, other: string) =>
        problems.push(`host ${host}: interface ${iface.id} is left out: ${what} is already host ${other}'s`)
      const owner = interfaceIds.get(iface.id)
      if (owner !== undefined) {
        clash(`the id ${iface.id}`, owner)
        continue
      }
      const vpc = vpcOfSubnet(iface.subnet) ?? '?'
      // The loader keeps addresses canonical, so equal addresses are equal text.
      const addressKeys = iface.addresses.map((a) => `${vpc} ${a}`)
      const takenAddress = addressKeys.findIndex((k) => addresses.has(k))
      if (takenAddress >= 0) {
        clash(
          `address ${iface.addresses[takenAddress]}`,
          addresses.get(addressKeys[takenAddress] ?? '') ?? '?',
        )
        continue
      }
      if (iface.mac !== null && macs.has(iface.mac)) {
        clash(`MAC ${iface.mac}`, macs.get(iface.mac) ?? '?')
        continue
      }
      interfaceIds.set(iface.id, host)
      for (const k of addressKeys) addresses.set(k, host)
      if (iface.mac !== null) macs.set(iface.mac, host)
      topology.interfaces.push({ ...iface, host })
    }
  }
  return { topology, problems }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/**
 * This agent's view of the fleet's topology, kept current from the store: every host's record as
 * the store has it, except this host's, which is always the local config's (the config file is
 * the truth for a host's own interfaces, even before its record is written).
 */
export class FleetTopology {
  readonly #self: string
  #own: ConfigRecord
  readonly #log: Logger | undefined
  readonly #records = new Map<string, ConfigRecord>()
  #joined: { topology: Topology; problems: string[] }
  #unwatch: (() => void) | null = null

  private constructor(self: string, own: ConfigRecord, logger: Logger | undefined) {
    this.#self = self
    this.#own = own
    this.#log = logger
    this.#joined = joinTopologies([{ host: self, record: own }], self)
  }

  /** Reads every host's record and follows the store's changes to them. */
  static async open(store: Store, self: string, own: ConfigRecord, logger?: Logger): Promise<FleetTopology> {
    const fleet = new FleetTopology(self, own, logger)
    // Watch first, then read: a record written in between is in the read or heard after it.
    fleet.#unwatch = store.watch((changes) => fleet.#changed(changes))
    const records = await store.read((r) => r.list<ConfigRecord>('topology'))
    for (const { id, value } of records) {
      if (id.startsWith(HOST_RECORD_PREFIX)) fleet.#records.set(id.slice(HOST_RECORD_PREFIX.length), value)
    }
    fleet.#join()
    return fleet
  }

  /** The fleet's topology now: every host's interfaces, each with its host. */
  current(): Topology {
    return this.#joined.topology
  }

  /** The hosts whose records are in the join, this one first. */
  hosts(): string[] {
    return [this.#self, ...[...this.#records.keys()].filter((h) => h !== this.#self).sort()]
  }

  problems(): readonly string[] {
    return this.#joined.problems
  }

  /** This host's record after a reload of its config. */
  setOwn(own: ConfigRecord): void {
    this.#own = own
    this.#join()
  }

  close(): void {
    this.#unwatch?.()
    this.#unwatch = null
  }

  #changed(changes: readonly StoreChange[]): void {
    let touched = false
    for (const c of changes) {
      if (c.kind !== 'topology' || !c.id.startsWith(HOST_RECORD_PREFIX)) continue
      const host = c.id.slice(HOST_RECORD_PREFIX.length)
      if (c.value === undefined) this.#records.delete(host)
      else this.#records.set(host, c.value as ConfigRecord)
      touched = true
    }
    if (touched) this.#join()
  }

  #join(): void {
    const records: HostRecord[] = [{ host: this.#self, record: this.#own }]
    for (const [host, record] of this.#records) if (host !== this.#self) records.push({ host, record })
    const before = this.#joined.problems.join('\n')
    this.#joined = joinTopologies(records, this.#self)
    if (this.#joined.problems.join('\n') !== before) {
      for (const problem of this.#joined.problems) this.#log?.warn({ fleet: true }, problem)
    }
  }
}
