import type {
  FileFormat,
  KeyLayout,
  NetworkConfig,
  NetworkInterface,
  Protocol,
  SecurityGroupRule,
  TrafficType,
  Vpc,
} from '../core/network.js'
import type {
  DeliveryStatus,
  FlowLogResource,
  FlowLogResourceType,
  SecurityGroupResource,
  Tags,
} from './resources.js'

/**
 * The operations every API adapter calls (DESIGN 10). Adapters translate their protocol's
 * parameters into these inputs and the results (or a ControlError) back into their protocol's
 * shapes; they never touch the store. Every mutating call is one store transaction: it applies
 * whole or not at all, and the daemons watching the store apply it live.
 * Filtering and paging are the adapters' business (each API has its own filter names).
 */
export interface ControlPlane {
  // ── flow logs ────────────────────────────────────────────────────────────
  /**
   * One flow log per resource id. Resource ids that do not exist, or that already have a flow
   * log with the same traffic type and destination, fail alone (`unsuccessful`, AWS's codes);
   * the others are created. With a client token, a repeat of the same request returns the first
   * result; a different request under the same token is IdempotentParameterMismatch.
   * `dryRun` validates and throws ControlError('DryRunOperation') when the call would succeed.
   */
  createFlowLogs(request: CreateFlowLogsRequest): Promise<CreateFlowLogsResult>
  listFlowLogs(): Promise<FlowLogResource[]>
  /** Throws InvalidFlowLogId.NotFound. */
  getFlowLog(id: string): Promise<FlowLogResource>
  /** Each flow log's open window is written, then it stops. Unknown ids go to `unsuccessful`. */
  deleteFlowLogs(ids: readonly string[]): Promise<{ deleted: string[]; unsuccessful: Unsuccessful[] }>
  /** NHN PUT: only name, description and enabled may change (anything else is immutable). */
  updateFlowLog(id: string, patch: FlowLogPatch): Promise<FlowLogResource>
  /** Delivery of a flow log's files as the daemon(s) see it now. */
  deliveryStatus(id: string): Promise<DeliveryStatus>

  // ── tags (flow logs and security groups, by id) ─────────────────────────
  /** Throws the NotFound code of the first unknown id; nothing is tagged then. */
  createTags(resourceIds: readonly string[], tags: Tags): Promise<void>
  /** A tag with value undefined is deleted whatever its value; with a value, only if it matches. */
  deleteTags(
    resourceIds: readonly string[],
    tags: ReadonlyArray<{ key: string; value?: string }>,
  ): Promise<void>

  // ── security groups ──────────────────────────────────────────────────────
  /** InvalidGroup.Duplicate when the name is taken in the VPC; InvalidVpcID.NotFound. */
  createSecurityGroup(request: CreateSecurityGroupRequest): Promise<SecurityGroupResource>
  /** DependencyViolation while an interface has it or another group's rule references it. */
  deleteSecurityGroup(id: string): Promise<void>
  listSecurityGroups(): Promise<SecurityGroupResource[]>
  /** Throws InvalidGroup.NotFound. */
  getSecurityGroup(id: string): Promise<SecurityGroupResource>
  /**
   * Adds rules (new `sgr-…` ids, returned in order). InvalidPermission.Duplicate when a rule
   * matches an existing one (protocol, ports/ICMP, peer); nothing is added then.
   */
  authorize(groupId: string, direction: Direction, rules: readonly RuleDraft[]): Promise<SecurityGroupRule[]>
  /**
   * Removes rules given by match or by id. InvalidPermission.NotFound (for a match) or
   * InvalidSecurityGroupRuleId.NotFound (for an id) when one is not there; nothing is removed then.
   */
  revoke(groupId: string, direction: Direction, which: RevokeRequest): Promise<SecurityGroupRule[]>

  // ── topology (read-only but for an interface's groups) ───────────────────
  topology(): Promise<Topology>
  /** InvalidNetworkInterfaceID.NotFound, InvalidGroup.NotFound; the groups must be in its VPC. */
  setInterfaceGroups(interfaceId: string, groupIds: readonly string[]): Promise<void>
  /** The interfaces a flow log covers now (NHN flowlog-logging-ports). */
  coveredInterfaces(flowLogId: string): Promise<NetworkInterface[]>

  /** The whole effective network (topology + state) the daemon runs, as a config would give it. */
  effectiveNetwork(): Promise<NetworkConfig>
}

export type Direction = 'inbound' | 'outbound'

export interface Unsuccessful {
  /** The resource id (create) or flow log id (delete) that failed. */
  resourceId: string
  code: string
  message: string
}

/** What CreateFlowLogs and NHN's POST carry, after the adapter applied its protocol's defaults. */
export interface FlowLogDraft {
  resourceType: FlowLogResourceType
  trafficType: TrafficType
  /** Seconds, 1..900 (AWS offers 60 and 600; flowlog any whole second). */
  aggregationInterval: number
  /** AWS `${field}` text, or null for the file format's default fields. */
  logFormat: string | null
  /** NHN `customized_field`, field names (nhn-csv and jsonl); null for the default. */
  fields: string[] | null
  fileFormat: FileFormat
  /** s3://bucket/prefix or file:///dir (validated like the config's `destination`). */
  destination: string
  layout: KeyLayout
  perHourPartition: boolean
  compression: 'gzip' | 'none'
  /** NHN layout only; null for the default. */
  fileNameTemplate: string | null
  name: string | null
  description: string | null
  enabled: boolean
  tags: Tags
}

export interface CreateFlowLogsRequest {
  resourceIds: readonly string[]
  draft: FlowLogDraft
  clientToken: string | null
  dryRun: boolean
}

export interface CreateFlowLogsResult {
  clientToken: string | null
  flowLogs: FlowLogResource[]
  unsuccessful: Unsuccessful[]
}

export interface FlowLogPatch {
  name?: string | null
  description?: string | null
  enabled?: boolean
}

export interface CreateSecurityGroupRequest {
  name: string
  description: string
  /** The VPC; null for the config's only VPC when there is one (EC2-Classic has no meaning here). */
  vpc: string | null
  tags: Tags
  dryRun: boolean
}

/** A rule before it has an id: the config's rule shape (one peer per rule, as AWS's rule objects). */
export interface RuleDraft {
  /** As the caller gave it (AWS IpProtocol): tcp, udp, icmp, icmpv6, all, -1 or a number 0-255. */
  protocol: Protocol | string
  /** "22", "80-443"; null for all ports (tcp/udp only). */
  ports: string | null
  icmpType: number
  icmpCode: number
  /** IPv4/IPv6 CIDR or a security-group id. */
  peer: string
  description: string | null
}

export interface RevokeRequest {
  rules?: readonly RuleDraft[]
  ruleIds?: readonly string[]
}

export interface Topology {
  account: string
  region: string
  vpcs: Vpc[]
  /** Interfaces with their effective groups (the state's attachment, else the config's), and host. */
  interfaces: Array<NetworkInterface & { host: string | null }>
}
