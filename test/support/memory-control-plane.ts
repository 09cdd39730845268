import { resolveFields } from '../../src/config/flow-log-fields.js'
import { DEFAULT_FILE_NAME_TEMPLATE } from '../../src/config/rules.js'
import { ControlError } from '../../src/control/control-error.js'
import type {
  ControlPlane,
  CreateFlowLogsRequest,
  CreateFlowLogsResult,
  CreateSecurityGroupRequest,
  Direction,
  FlowLogPatch,
  RevokeRequest,
  RuleDraft,
  Topology,
  Unsuccessful,
} from '../../src/control/control-plane.js'
import type {
  DeliveryStatus,
  FlowLogResource,
  SecurityGroupResource,
  Tags,
} from '../../src/control/resources.js'
import type { NetworkConfig, NetworkInterface, SecurityGroupRule } from '../../src/core/network.js'

/**
 * A ControlPlane in memory: a test double for the EC2 adapter's protocol tests only (the end-to-end
 * tests use the real ControlService on SQLite). It keeps AWS's semantics the adapter relies on:
 * per-resource unsuccessful entries, duplicate and not-found codes, idempotent client tokens.
 */
export class MemoryControlPlane implements ControlPlane {
  flowLogs: FlowLogResource[] = []
  groups: SecurityGroupResource[] = []
  attachments = new Map<string, string[]>()
  delivery = new Map<string, DeliveryStatus>()
  private tokens = new Map<string, { request: string; result: CreateFlowLogsResult }>()
  private nextId = 1

  constructor(private readonly network: NetworkConfig) {
    for (const g of network.securityGroups)
      this.groups.push({ group: structuredClone(g), name: g.id, tags: {} })
  }

  private id(prefix: string): string {
    return `${prefix}-${(this.nextId++).toString(16).padStart(17, '0')}`
  }

  private resourceExists(id: string): boolean {
    return (
      this.network.vpcs.some((v) => v.id === id || v.subnets.some((s) => s.id === id)) ||
      this.network.interfaces.some((i) => i.id === id)
    )
  }

  async createFlowLogs(request: CreateFlowLogsRequest): Promise<CreateFlowLogsResult> {
    const key = JSON.stringify({ ...request, clientToken: null, dryRun: false })
    if (request.clientToken !== null) {
      const seen = this.tokens.get(request.clientToken)
      if (seen !== undefined) {
        if (seen.request !== key)
          throw new ControlError(
            'IdempotentParameterMismatch',
            'The client token was used with other parameters',
          )
        return seen.result
      }
    }
    const { draft } = request
    const { fields, problems } = resolveFields(draft.fileFormat, draft.logFormat ?? undefined, undefined)
    if (problems.length > 0)
      throw new ControlError('InvalidParameterValue', `logFormat: ${problems[0]?.rule}`)
    if (request.dryRun)
      throw new ControlError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.')
    const result: CreateFlowLogsResult = { clientToken: request.clientToken, flowLogs: [], unsuccessful: [] }
    const now = new Date().toISOString()
    for (const resource of request.resourceIds) {
      if (!this.resourceExists(resource)) {
        result.unsuccessful.push({
          resourceId: resource,
          code: 'InvalidVpcID.NotFound',
          message: `${resource} does not exist`,
        })
        continue
      }
      const same = this.flowLogs.find(
        (f) =>
          f.spec.resource === resource &&
          f.spec.trafficType === draft.trafficType &&
          f.spec.destination === draft.destination,
      )
      if (same !== undefined) {
        result.unsuccessful.push({ resourceId: resource, code: 'FlowLogAlreadyExists', message: 'exists' })
        continue
      }
      const flowLog: FlowLogResource = {
        spec: {
          id: this.id('fl'),
          resource,
          trafficType: draft.trafficType,
          aggregationInterval: draft.aggregationInterval,
          fields,
          fileFormat: draft.fileFormat,
          destination: draft.destination,
          layout: draft.layout,
          perHourPartition: draft.perHourPartition,
          compression: draft.compression,
          fileNameTemplate: draft.fileNameTemplate ?? DEFAULT_FILE_NAME_TEMPLATE,
          platformTraffic: 'exclude',
        },
        resourceType: draft.resourceType,
        logFormat: draft.logFormat,
        name: draft.name,
        description: draft.description,
        enabled: draft.enabled,
        tags: { ...draft.tags },
        createdAt: now,
        updatedAt: now,
      }
      this.flowLogs.push(flowLog)
      result.flowLogs.push(flowLog)
    }
    if (request.clientToken !== null) this.tokens.set(request.clientToken, { request: key, result })
    return result
  }

  async listFlowLogs(): Promise<FlowLogResource[]> {
    return structuredClone(this.flowLogs)
  }

  async getFlowLog(id: string): Promise<FlowLogResource> {
    const found = this.flowLogs.find((f) => f.spec.id === id)
    if (found === undefined)
      throw new ControlError('InvalidFlowLogId.NotFound', `Flow log ${id} does not exist`)
    return structuredClone(found)
  }

  async deleteFlowLogs(ids: readonly string[]): Promise<{ deleted: string[]; unsuccessful: Unsuccessful[] }> {
    const deleted: string[] = []
    const unsuccessful: Unsuccessful[] = []
    for (const id of ids) {
      const before = this.flowLogs.length
      this.flowLogs = this.flowLogs.filter((f) => f.spec.id !== id)
      if (this.flowLogs.length < before) deleted.push(id)
      else
        unsuccessful.push({
          resourceId: id,
          code: 'InvalidFlowLogId.NotFound',
          message: `${id} does not exist`,
        })
    }
    return { deleted, unsuccessful }
  }

  async updateFlowLog(id: string, patch: FlowLogPatch): Promise<FlowLogResource> {
    const f = this.flowLogs.find((x) => x.spec.id === id)
    if (f === undefined) throw new ControlError('InvalidFlowLogId.NotFound', id)
    Object.assign(f, patch)
    return structuredClone(f)
  }

  async deliveryStatus(id: string): Promise<DeliveryStatus> {
    return (
      this.delivery.get(id) ?? {
        status: 'SUCCESS',
        error: null,
        lastFile: null,
        lastFileAt: null,
        spooled: 0,
      }
    )
  }

  private tagged(id: string): { tags: Tags } {
    const target = this.flowLogs.find((f) => f.spec.id === id) ?? this.groups.find((g) => g.group.id === id)
    if (target === undefined) throw new ControlError('InvalidID', `The ID '${id}' is not valid`)
    return target
  }

  async createTags(resourceIds: readonly string[], tags: Tags): Promise<void> {
    const targets = resourceIds.map((id) => this.tagged(id))
    for (const t of targets) Object.assign(t.tags, tags)
  }

  async deleteTags(
    resourceIds: readonly string[],
    tags: ReadonlyArray<{ key: string; value?: string }>,
  ): Promise<void> {
    const targets = resourceIds.map((id) => this.tagged(id))
    for (const t of targets)
      for (const { key, value } of tags) if (value === undefined || t.tags[key] === value) delete t.tags[key]
  }

  async createSecurityGroup(request: CreateSecurityGroupRequest): Promise<SecurityGroupResource> {
    const vpc = request.vpc ?? (this.network.vpcs.length === 1 ? (this.network.vpcs[0]?.id ?? null) : null)
    if (vpc === null || !this.network.vpcs.some((v) => v.id === vpc))
      throw new ControlError('InvalidVpcID.NotFound', `The vpc ID '${request.vpc}' does not exist`)
    if (this.groups.some((g) => g.name === request.name && g.group.vpc === vpc))
      throw new ControlError(
        'InvalidGroup.Duplicate',
        `The security group '${request.name}' already exists for VPC '${vpc}'`,
      )
    if (request.dryRun)
      throw new ControlError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.')
    const id = this.id('sg')
    const group: SecurityGroupResource = {
      group: {
        id,
        vpc,
        description: request.description,
        inbound: [],
        outbound: [
          {
            id: this.id('sgr'),
            protocol: 'all',
            ports: null,
            icmpType: -1,
            icmpCode: -1,
            peer: '0.0.0.0/0',
            description: null,
          },
        ],
      },
      name: request.name,
      tags: { ...request.tags },
    }
    this.groups.push(group)
    return structuredClone(group)
  }

  async deleteSecurityGroup(id: string): Promise<void> {
    await this.getSecurityGroup(id)
    const used = this.network.interfaces.some((i) =>
      (this.attachments.get(i.id) ?? i.securityGroups).includes(id),
    )
    if (used) throw new ControlError('DependencyViolation', `resource ${id} has a dependent object`)
    this.groups = this.groups.filter((g) => g.group.id !== id)
  }

  async listSecurityGroups(): Promise<SecurityGroupResource[]> {
    return structuredClone(this.groups)
  }

  async getSecurityGroup(id: string): Promise<SecurityGroupResource> {
    const g = this.groups.find((x) => x.group.id === id)
    if (g === undefined)
      throw new ControlError('InvalidGroup.NotFound', `The security group '${id}' does not exist`)
    return structuredClone(g)
  }

  private rulesOf(groupId: string, direction: Direction): SecurityGroupRule[] {
    const g = this.groups.find((x) => x.group.id === groupId)
    if (g === undefined)
      throw new ControlError('InvalidGroup.NotFound', `The security group '${groupId}' does not exist`)
    return direction === 'inbound' ? g.group.inbound : g.group.outbound
  }

  async authorize(
    groupId: string,
    direction: Direction,
    rules: readonly RuleDraft[],
  ): Promise<SecurityGroupRule[]> {
    const list = this.rulesOf(groupId, direction)
    for (const r of rules)
      if (list.some((x) => same(x, r)))
        throw new ControlError('InvalidPermission.Duplicate', `the rule to ${r.peer} already exists`)
    const added = rules.map((r) => ({ ...r, id: this.id('sgr') }))
    list.push(...added)
    return structuredClone(added)
  }

  async revoke(groupId: string, direction: Direction, which: RevokeRequest): Promise<SecurityGroupRule[]> {
    const list = this.rulesOf(groupId, direction)
    const gone: SecurityGroupRule[] = []
    for (const r of which.rules ?? []) {
      const found = list.find((x) => same(x, r))
      if (found === undefined) throw new ControlError('InvalidPermission.NotFound', `no rule to ${r.peer}`)
      gone.push(found)
    }
    for (const id of which.ruleIds ?? []) {
      const found = list.find((x) => x.id === id)
      if (found === undefined)
        throw new ControlError('InvalidSecurityGroupRuleId.NotFound', `${id} does not exist`)
      gone.push(found)
    }
    for (const r of gone) list.splice(list.indexOf(r), 1)
    return gone
  }

  async topology(): Promise<Topology> {
    return {
      account: this.network.account,
      region: this.network.region,
      vpcs: structuredClone(this.network.vpcs),
      interfaces: this.network.interfaces.map((i) => ({
        ...structuredClone(i),
        securityGroups: this.attachments.get(i.id) ?? i.securityGroups,
        host: null,
      })),
    }
  }

  async setInterfaceGroups(interfaceId: string, groupIds: readonly string[]): Promise<void> {
    if (!this.network.interfaces.some((i) => i.id === interfaceId))
      throw new ControlError(
        'InvalidNetworkInterfaceID.NotFound',
        `The networkInterface ID '${interfaceId}' does not exist`,
      )
    for (const g of groupIds) await this.getSecurityGroup(g)
    this.attachments.set(interfaceId, [...groupIds])
  }

  async coveredInterfaces(): Promise<NetworkInterface[]> {
    return []
  }

  async effectiveNetwork(): Promise<NetworkConfig> {
    return structuredClone(this.network)
  }
}

function same(a: RuleDraft, b: RuleDraft): boolean {
  return (
    a.protocol === b.protocol &&
    a.ports === b.ports &&
    a.icmpType === b.icmpType &&
    a.icmpCode === b.icmpCode &&
    a.peer === b.peer
  )
}
