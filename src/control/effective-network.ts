import { crossCheck } from '../config/cross-checks.js'
import { takesLogFormat } from '../config/flow-log-fields.js'
import { formatIssue, ruleOfIssue, sortProblems } from '../config/problems.js'
import { configSchema, DEFAULT_DELIVERY_TIMEOUT, DEFAULT_LIMITS } from '../config/schema.js'
import type {
  DeliverySettings,
  FlowLogSpec,
  Limits,
  NetworkConfig,
  SecurityGroupRule,
} from '../core/network.js'
import { ControlError } from './control-error.js'
import type { Topology } from './control-plane.js'
import type { ControlState, SecurityGroupResource } from './resources.js'

/**
 * The network the daemon runs (DESIGN 10): the config's topology joined with the control state.
 * It goes through the config file's own form and the config loader's schema and cross-checks, so
 * what the API leaves in the state is exactly what a config file could say, and `export-config`
 * writes a file `validate` accepts.
 */

/** The daemon settings of the config file, which the state does not hold. */
export interface DaemonSettings {
  limits: Limits
  delivery: DeliverySettings
}

export const DEFAULT_SETTINGS: Readonly<DaemonSettings> = {
  limits: DEFAULT_LIMITS,
  delivery: {
    spoolDir: null,
    timeout: DEFAULT_DELIVERY_TIMEOUT,
    s3: { endpoint: null, region: null, forcePathStyle: false },
  },
}

/** The topology part of a loaded config (its interfaces with the config's groups; one host). */
export function topologyOfConfig(config: NetworkConfig): Topology {
  return {
    account: config.account,
    region: config.region,
    vpcs: config.vpcs,
    interfaces: config.interfaces.map((i) => ({ ...i, host: i.host ?? null })),
  }
}

export function settingsOfConfig(config: NetworkConfig): DaemonSettings {
  return { limits: config.limits, delivery: config.delivery ?? DEFAULT_SETTINGS.delivery }
}

/** The interfaces with their effective groups: the state's attachment, else the config's. */
export function effectiveTopology(topology: Topology, state: Pick<ControlState, 'attachments'>): Topology {
  return {
    ...topology,
    interfaces: topology.interfaces.map((i) => ({
      ...i,
      securityGroups: state.attachments[i.id] ?? i.securityGroups,
    })),
  }
}

type Doc = Record<string, unknown>

/** Keys with a null or undefined value are left out, as a person would write the file. */
function compact(entries: Record<string, unknown>): Doc {
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== null && v !== undefined))
}

function ruleDocument(rule: SecurityGroupRule, peerKey: 'source' | 'destination'): Doc {
  const icmp = rule.protocol === 'icmp' || rule.protocol === 'icmpv6'
  return compact({
    id: rule.id,
    protocol: rule.protocol,
    ports: rule.ports,
    icmpType: icmp && rule.icmpType !== -1 ? rule.icmpType : null,
    icmpCode: icmp && rule.icmpCode !== -1 ? rule.icmpCode : null,
    [peerKey]: rule.peer,
    description: rule.description,
  })
}

function groupDocument(resource: SecurityGroupResource): Doc {
  const g = resource.group
  return compact({
    id: g.id,
    vpc: g.vpc,
    description: g.description,
    inbound: g.inbound.map((r) => ruleDocument(r, 'source')),
    outbound: g.outbound.map((r) => ruleDocument(r, 'destination')),
  })
}

/** `${a} ${b}` for text and parquet (the caller's own text when it gave one), a list otherwise. */
export function flowLogDocument(spec: FlowLogSpec, logFormat: string | null): Doc {
  const fieldKeys = takesLogFormat(spec.fileFormat)
    ? { logFormat: logFormat ?? spec.fields.map((f) => `\${${f}}`).join(' ') }
    : { fields: spec.fields }
  return compact({
    id: spec.id,
    resource: spec.resource,
    trafficType: spec.trafficType,
    aggregationInterval: spec.aggregationInterval,
    ...fieldKeys,
    fileFormat: spec.fileFormat,
    destination: spec.destination,
    layout: spec.layout,
    perHourPartition: spec.perHourPartition,
    compression: spec.compression,
    fileNameTemplate: spec.layout === 'nhn' ? spec.fileNameTemplate : null,
    platformTraffic: spec.platformTraffic,
  })
}

/**
 * The config file that says the same as topology + state: every group, the enabled flow logs
 * (a config has no pause switch), the interfaces with their effective groups.
 */
export function configDocument(
  topology: Topology,
  state: ControlState,
  settings: DaemonSettings = DEFAULT_SETTINGS,
  flowLogs: 'enabled' | 'all' = 'enabled',
): Doc {
  const effective = effectiveTopology(topology, state)
  const s3 = settings.delivery.s3
  return {
    account: topology.account,
    region: topology.region,
    vpcs: topology.vpcs.map((v) => ({
      id: v.id,
      cidrs: v.cidrs,
      subnets: v.subnets.map((s) => compact({ id: s.id, cidrs: s.cidrs, az: s.az })),
    })),
    securityGroups: state.securityGroups.map(groupDocument),
    interfaces: effective.interfaces.map((i) =>
      compact({
        id: i.id,
        instance: i.instance,
        subnet: i.subnet,
        mac: i.mac,
        addresses: i.addresses,
        device: i.device,
        host: i.host,
        securityGroups: i.securityGroups,
      }),
    ),
    flowLogs: state.flowLogs
      .filter((f) => flowLogs === 'all' || f.enabled)
      .map((f) => flowLogDocument(f.spec, f.logFormat)),
    limits: { ...settings.limits },
    ...compact({ spoolDir: settings.delivery.spoolDir }),
    deliveryTimeout: settings.delivery.timeout,
    s3: compact({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: s3.forcePathStyle }),
  }
}

/**
 * The problems the config loader would report for this document (schema, then cross-checks),
 * or the network it would load.
 */
export function checkDocument(doc: Doc): { network: NetworkConfig | null; problems: string[] } {
  const result = configSchema.safeParse(doc, { reportInput: true, error: ruleOfIssue })
  const problems = result.success ? [] : result.error.issues.flatMap(formatIssue)
  problems.push(...crossCheck(doc))
  const unique = sortProblems([...new Set(problems)])
  return { network: result.success && unique.length === 0 ? result.data : null, problems: unique }
}

/** What the config loader would say about topology + state (every flow log, paused ones too). */
export function networkProblems(
  topology: Topology,
  state: ControlState,
  settings: DaemonSettings = DEFAULT_SETTINGS,
): string[] {
  return checkDocument(configDocument(topology, state, settings, 'all')).problems
}

/**
 * The NetworkConfig the pipeline runs. Every flow log (paused ones too) must be valid; only the
 * enabled ones run. Throws ControlError('InvalidParameterValue') listing what the loader found.
 */
export function effectiveNetwork(
  topology: Topology,
  state: ControlState,
  settings: DaemonSettings = DEFAULT_SETTINGS,
): NetworkConfig {
  const { network, problems } = checkDocument(configDocument(topology, state, settings, 'all'))
  if (network === null) {
    throw new ControlError(
      'InvalidParameterValue',
      `the change would leave a network the config loader refuses: ${problems.join('; ')}`,
    )
  }
  const enabled = new Set(state.flowLogs.filter((f) => f.enabled).map((f) => f.spec.id))
  return { ...network, flowLogs: network.flowLogs.filter((f) => enabled.has(f.id)) }
}
