import { takesLogFormat } from '../config/flow-log-fields.js'
import type { FlowLogSpec, NetworkConfig, SecurityGroup } from '../core/network.js'
import type { Store } from '../store/store.js'
import type { Topology } from './control-plane.js'
import { readControlState } from './control-service.js'
import {
  type DaemonSettings,
  networkProblems,
  settingsOfConfig,
  topologyOfConfig,
} from './effective-network.js'
import type { FlowLogResource, FlowLogResourceType, SecurityGroupResource } from './resources.js'

/**
 * How the config file and the state meet (docs/api.md, "Config and state"):
 * - the first start with an empty state seeds it with the config's security groups and flow logs;
 * - afterwards the state is the truth for groups, rules, flow logs, tags and attachments, and the
 *   config for the topology (VPCs, subnets, interfaces, devices) and the daemon settings;
 * - where the config's groups or flow logs differ from the state, a warning says what differs and
 *   that `flowlog export-config` writes the state; neither side is overwritten. The one exception
 *   is additive: a group the state lacks that an interface of the config needs (the config grew
 *   an interface) is taken from the config, since the network could not run without it.
 * Every start (and reload) also records the config's topology and settings in the state, so
 * `export-config` without `--config` writes the topology the daemon last ran.
 */
export interface ConfigRecord {
  topology: Topology
  settings: DaemonSettings
  /** Where it came from, for the export's header. */
  source: string
}

export const CONFIG_RECORD_ID = 'config'

export interface SeedResult {
  /** True when this call seeded an empty state from the config. */
  seeded: boolean
  /** Groups taken from the config because its interfaces need them. */
  added: string[]
  /** What differs between the config and the state, one line each. */
  warnings: string[]
  /**
   * What the config loader finds wrong with the config's topology joined with the state (a flow
   * log of the state covers an interface the config no longer has): the daemon cannot run that
   * network, and says so as it would of a bad config.
   */
  problems: string[]
}

interface SeedMarker {
  at: string
  source: string
}

/**
 * `recordId` is where the config's topology is recorded: `config` on a single host; a fleet's
 * agent records its host's part under `hosts/<host>` (fleet-topology.ts), where every agent
 * finds it.
 */
export async function reconcileWithConfig(
  store: Store,
  config: NetworkConfig,
  source: string,
  now: () => Date = () => new Date(),
  recordId: string = CONFIG_RECORD_ID,
): Promise<SeedResult> {
  return store.transact(async (tx) => {
    const record: ConfigRecord = {
      topology: topologyOfConfig(config),
      settings: settingsOfConfig(config),
      source,
    }
    const stored = await tx.get<ConfigRecord>('topology', recordId)
    if (JSON.stringify(stored) !== JSON.stringify(record)) tx.put('topology', recordId, record)

    const marker = await tx.get<SeedMarker>('status', 'seeded')
    const state = await readControlState(tx)
    const empty = state.flowLogs.length === 0 && state.securityGroups.length === 0
    if (marker === undefined && empty) {
      const at = now().toISOString()
      for (const group of config.securityGroups) tx.put('security-group', group.id, seededGroup(group))
      for (const spec of config.flowLogs) tx.put('flow-log', spec.id, seededFlowLog(spec, config, at))
      tx.put('status', 'seeded', { at, source } satisfies SeedMarker)
      return { seeded: true, added: [], warnings: [], problems: [] }
    }
    if (marker === undefined)
      tx.put('status', 'seeded', { at: now().toISOString(), source } satisfies SeedMarker)

    const added = addNeededGroups(config, state, (group) =>
      tx.put('security-group', group.id, seededGroup(group)),
    )
    const after = await readControlState(tx)
    return {
      seeded: false,
      added,
      warnings: differences(config, after),
      problems: networkProblems(record.topology, after, record.settings),
    }
  })
}

function seededGroup(group: SecurityGroup): SecurityGroupResource {
  return { group, name: group.id, tags: {} }
}

function resourceTypeOf(config: NetworkConfig, resource: string): FlowLogResourceType {
  if (config.vpcs.some((v) => v.id === resource)) return 'VPC'
  if (config.vpcs.some((v) => v.subnets.some((s) => s.id === resource))) return 'Subnet'
  return 'NetworkInterface'
}

function seededFlowLog(spec: FlowLogSpec, config: NetworkConfig, at: string): FlowLogResource {
  return {
    spec,
    resourceType: resourceTypeOf(config, spec.resource),
    logFormat: takesLogFormat(spec.fileFormat) ? spec.fields.map((f) => `\${${f}}`).join(' ') : null,
    name: null,
    description: null,
    enabled: true,
    tags: {},
    createdAt: at,
    updatedAt: at,
  }
}

/** Groups the config's interfaces need (and the groups their rules name) that the state lacks. */
function addNeededGroups(
  config: NetworkConfig,
  state: { securityGroups: SecurityGroupResource[]; attachments: Record<string, string[]> },
  add: (group: SecurityGroup) => void,
): string[] {
  const have = new Set(state.securityGroups.map((g) => g.group.id))
  const fromConfig = new Map(config.securityGroups.map((g) => [g.id, g]))
  const wanted = config.interfaces.flatMap((i) => state.attachments[i.id] ?? i.securityGroups)
  const added: string[] = []
  while (wanted.length > 0) {
    const id = wanted.pop() as string
    const group = fromConfig.get(id)
    if (have.has(id) || group === undefined) continue
    have.add(id)
    add(group)
    added.push(id)
    for (const rule of [...group.inbound, ...group.outbound]) wanted.push(rule.peer)
  }
  return added.sort()
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

function list(ids: readonly string[]): string {
  return ids.length > 5 ? `${ids.slice(0, 5).join(', ')} and ${ids.length - 5} more` : ids.join(', ')
}

function differences(
  config: NetworkConfig,
  state: {
    flowLogs: FlowLogResource[]
    securityGroups: SecurityGroupResource[]
    attachments: Record<string, string[]>
  },
): string[] {
  const warnings: string[] = []
  const say = (what: string, ids: string[]) => {
    if (ids.length > 0) warnings.push(`${what}: ${list(ids)}`)
  }
  const groups = new Map(state.securityGroups.map((g) => [g.group.id, g.group]))
  say(
    'security groups in the config but not in the state (not created)',
    config.securityGroups.filter((g) => !groups.has(g.id)).map((g) => g.id),
  )
  say(
    'security groups whose rules differ between the config and the state (the state is used)',
    config.securityGroups.filter((g) => groups.has(g.id) && !same(g, groups.get(g.id))).map((g) => g.id),
  )
  const configGroups = new Set(config.securityGroups.map((g) => g.id))
  say(
    'security groups in the state but not in the config',
    [...groups.keys()].filter((id) => !configGroups.has(id)),
  )

  const flowLogs = new Map(state.flowLogs.map((f) => [f.spec.id, f]))
  say(
    'flow logs in the config but not in the state (not created; create them through an API)',
    config.flowLogs.filter((f) => !flowLogs.has(f.id)).map((f) => f.id),
  )
  say(
    'flow logs that differ between the config and the state (the state is used)',
    config.flowLogs.filter((f) => flowLogs.has(f.id) && !same(f, flowLogs.get(f.id)?.spec)).map((f) => f.id),
  )
  const configLogs = new Set(config.flowLogs.map((f) => f.id))
  say(
    'flow logs in the state but not in the config',
    [...flowLogs.keys()].filter((id) => !configLogs.has(id)),
  )

  say(
    "interfaces whose groups were changed through an API (the state's groups are used)",
    config.interfaces
      .filter(
        (i) => state.attachments[i.id] !== undefined && !same(state.attachments[i.id], i.securityGroups),
      )
      .map((i) => i.id),
  )
  if (warnings.length > 0)
    warnings.push(
      'the state is the truth for groups, flow logs, tags and attachments; `flowlog export-config --state DIR` writes it as a config',
    )
  return warnings
}
