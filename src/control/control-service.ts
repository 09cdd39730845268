import { createHash } from 'node:crypto'
import type { NetworkConfig, NetworkInterface, SecurityGroupRule } from '../core/network.js'
import { coveredInterfaces } from '../pipeline/flow-log-coverage.js'
import type { Store, StoreReader, StoreTransaction } from '../store/store.js'
import { ControlError } from './control-error.js'
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
} from './control-plane.js'
import {
  type DaemonSettings,
  DEFAULT_SETTINGS,
  effectiveNetwork,
  effectiveTopology,
  networkProblems,
} from './effective-network.js'
import { checkDraft } from './flow-log-draft.js'
import { checkIdParameter, newId } from './resource-ids.js'
import type {
  ControlState,
  DeliveryStatus,
  FlowLogResource,
  SecurityGroupResource,
  Tags,
} from './resources.js'
import { checkRuleDraft, isGroupPeer, ruleKey } from './rule-draft.js'
import { MAX_TAGS, tagProblems } from './tags.js'

/**
 * The control plane (DESIGN 10): every API adapter calls this one implementation, which keeps its
 * resources in the store. Each mutation is one store transaction that also checks the network it
 * leaves behind with the config loader's rules (effective-network.ts), so a change that would
 * break a reference or a rule is refused whole and the state stays as it was.
 */
export interface ControlServiceOptions {
  store: Store
  /** The config's topology now (SIGHUP may reload it); interfaces carry the config's groups. */
  topology: () => Topology
  /** The config's daemon settings (limits, delivery) for effectiveNetwork; defaults otherwise. */
  settings?: () => DaemonSettings
  /** The daemon's view of a flow log's delivery; the default says SUCCESS with nothing written. */
  deliveryStatus?: (flowLogId: string) => DeliveryStatus | Promise<DeliveryStatus>
  /** The clock, for createdAt/updatedAt. */
  now?: () => Date
}

/** AWS: 60 inbound and 60 outbound rules per group, 5 groups per interface. */
export const MAX_RULES_PER_DIRECTION = 60
export const MAX_GROUPS_PER_INTERFACE = 5
/** AWS: client tokens are up to 64 ASCII characters. */
const CLIENT_TOKEN = /^[\x20-\x7e]{1,64}$/

export const NOTHING_DELIVERED: DeliveryStatus = {
  status: 'SUCCESS',
  error: null,
  lastFile: null,
  lastFileAt: null,
  spooled: 0,
}

interface ClientTokenRecord {
  request: string
  result: CreateFlowLogsResult
  createdAt: string
}

/** AWS keeps a client token at least a day; after a week it is forgotten (and may be used again). */
export const CLIENT_TOKEN_LIFETIME_MS = 7 * 24 * 3600 * 1000

/** Reads the whole control state (ids in order). */
export async function readControlState(reader: StoreReader): Promise<ControlState> {
  const flowLogs = await reader.list<FlowLogResource>('flow-log')
  const groups = await reader.list<SecurityGroupResource>('security-group')
  const attachments = await reader.list<string[]>('attachment')
  return {
    flowLogs: flowLogs.map((i) => i.value),
    securityGroups: groups.map((i) => i.value),
    attachments: Object.fromEntries(attachments.map((i) => [i.id, i.value])),
  }
}

const DRY_RUN = 'Request would have succeeded, but DryRun flag is set.'

export class ControlService implements ControlPlane {
  readonly #store: Store
  readonly #topology: () => Topology
  readonly #settings: () => DaemonSettings
  readonly #deliveryStatus: (id: string) => DeliveryStatus | Promise<DeliveryStatus>
  readonly #now: () => Date

  constructor(options: ControlServiceOptions) {
    this.#store = options.store
    this.#topology = options.topology
    this.#settings = options.settings ?? (() => DEFAULT_SETTINGS)
    this.#deliveryStatus = options.deliveryStatus ?? (() => NOTHING_DELIVERED)
    this.#now = options.now ?? (() => new Date())
  }

  // ── flow logs ──────────────────────────────────────────────────────────

  async createFlowLogs(request: CreateFlowLogsRequest): Promise<CreateFlowLogsResult> {
    const checked = checkDraft(request.draft)
    if (request.resourceIds.length === 0)
      throw new ControlError('MissingParameter', 'resourceIds: names no resource (at least one is needed)')
    if (request.resourceIds.length > 1000)
      throw new ControlError(
        'InvalidParameterValue',
        `resourceIds: ${request.resourceIds.length} ids; at most 1000`,
      )
    for (const [i, id] of request.resourceIds.entries()) checkIdParameter(`resourceIds[${i}]`, id)
    const token = request.clientToken
    if (token !== null && !CLIENT_TOKEN.test(token))
      throw new ControlError('InvalidParameterValue', 'clientToken: is not 1-64 printable ASCII characters')
    if (request.dryRun) throw new ControlError('DryRunOperation', DRY_RUN)
    const fingerprint = canonicalJson({ resourceIds: request.resourceIds, draft: request.draft })
    const tokenKey = token === null ? null : createHash('sha256').update(token).digest('hex')

    return this.#mutate(async (tx) => {
      const nowDate = this.#now()
      if (tokenKey !== null) {
        const expired = (r: ClientTokenRecord) =>
          nowDate.getTime() - Date.parse(r.createdAt) > CLIENT_TOKEN_LIFETIME_MS
        for (const old of await tx.list<ClientTokenRecord>('client-token'))
          if (expired(old.value)) tx.delete('client-token', old.id)
        const found = await tx.get<ClientTokenRecord>('client-token', tokenKey)
        const earlier = found !== undefined && !expired(found) ? found : undefined
        if (earlier !== undefined) {
          if (earlier.request !== fingerprint)
            throw new ControlError(
              'IdempotentParameterMismatch',
              'clientToken: was used before with different parameters (a token names one request)',
            )
          return earlier.result
        }
      }
      const topology = this.#topology()
      const existing = (await tx.list<FlowLogResource>('flow-log')).map((i) => i.value)
      const now = nowDate.toISOString()
      const created: FlowLogResource[] = []
      const unsuccessful: Unsuccessful[] = []
      for (const resourceId of new Set(request.resourceIds)) {
        const missing = resourceProblem(topology, request.draft.resourceType, resourceId)
        if (missing !== null) {
          unsuccessful.push({ resourceId, ...missing })
          continue
        }
        const twin = existing.find(
          (f) =>
            f.spec.resource === resourceId &&
            f.spec.trafficType === checked.trafficType &&
            f.spec.destination === checked.destination,
        )
        if (twin !== undefined) {
          unsuccessful.push({
            resourceId,
            code: 'FlowLogAlreadyExists',
            message: `${resourceId} already has flow log ${twin.spec.id} with traffic type ${checked.trafficType} and destination ${checked.destination}`,
          })
          continue
        }
        const resource: FlowLogResource = {
          spec: { id: newId('fl'), resource: resourceId, ...checked },
          resourceType: request.draft.resourceType,
          logFormat: request.draft.logFormat,
          name: request.draft.name,
          description: request.draft.description,
          enabled: request.draft.enabled,
          tags: { ...request.draft.tags },
          createdAt: now,
          updatedAt: now,
        }
        tx.put('flow-log', resource.spec.id, resource)
        created.push(resource)
      }
      const result: CreateFlowLogsResult = { clientToken: token, flowLogs: created, unsuccessful }
      if (tokenKey !== null)
        tx.put('client-token', tokenKey, {
          request: fingerprint,
          result,
          createdAt: now,
        } satisfies ClientTokenRecord)
      return result
    })
  }

  async listFlowLogs(): Promise<FlowLogResource[]> {
    return this.#store.read(async (r) => (await r.list<FlowLogResource>('flow-log')).map((i) => i.value))
  }

  async getFlowLog(id: string): Promise<FlowLogResource> {
    checkIdParameter('flowLogId', id, 'InvalidFlowLogId.Malformed')
    return this.#store.read((r) => existingFlowLog(r, id))
  }

  async deleteFlowLogs(ids: readonly string[]): Promise<{ deleted: string[]; unsuccessful: Unsuccessful[] }> {
    if (ids.length === 0) throw new ControlError('MissingParameter', 'flowLogIds: names no flow log')
    return this.#mutate(async (tx) => {
      const deleted: string[] = []
      const unsuccessful: Unsuccessful[] = []
      for (const id of new Set(ids)) {
        const found = ID_OK(id) ? await tx.get<FlowLogResource>('flow-log', id) : undefined
        if (found === undefined) {
          unsuccessful.push({
            resourceId: id,
            code: 'InvalidFlowLogId.NotFound',
            message: `flow log ${JSON.stringify(id)} does not exist`,
          })
          continue
        }
        tx.delete('flow-log', id)
        deleted.push(id)
      }
      return { deleted, unsuccessful }
    })
  }

  async updateFlowLog(id: string, patch: FlowLogPatch): Promise<FlowLogResource> {
    checkIdParameter('flowLogId', id, 'InvalidFlowLogId.Malformed')
    const problems: string[] = []
    for (const key of ['name', 'description'] as const) {
      const value = patch[key]
      if (value !== undefined && value !== null && (typeof value !== 'string' || value.length > 255))
        problems.push(`${key}: ${JSON.stringify(value)} is not text of at most 255 characters`)
    }
    if (patch.enabled !== undefined && typeof patch.enabled !== 'boolean')
      problems.push(`enabled: ${JSON.stringify(patch.enabled)} is not true or false`)
    if (problems.length > 0) throw new ControlError('InvalidParameterValue', problems.join('; '))
    return this.#mutate(async (tx) => {
      const current = await existingFlowLog(tx, id)
      const next: FlowLogResource = {
        ...current,
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
        updatedAt: this.#now().toISOString(),
      }
      tx.put('flow-log', id, next)
      return next
    })
  }

  async deliveryStatus(id: string): Promise<DeliveryStatus> {
    await this.getFlowLog(id)
    return this.#deliveryStatus(id)
  }

  // ── tags ───────────────────────────────────────────────────────────────

  async createTags(resourceIds: readonly string[], tags: Tags): Promise<void> {
    const problems = tagProblems(tags)
    if (problems.length > 0) throw new ControlError('InvalidParameterValue', problems.join('; '))
    await this.#retag(resourceIds, (current) => {
      const next = { ...current, ...tags }
      if (Object.keys(next).length > MAX_TAGS)
        throw new ControlError('TagLimitExceeded', `tags: a resource may have at most ${MAX_TAGS} tags`)
      return next
    })
  }

  async deleteTags(
    resourceIds: readonly string[],
    tags: ReadonlyArray<{ key: string; value?: string }>,
  ): Promise<void> {
    await this.#retag(resourceIds, (current) => {
      const next = { ...current }
      for (const t of tags) if (t.value === undefined || next[t.key] === t.value) delete next[t.key]
      return next
    })
  }

  async #retag(resourceIds: readonly string[], change: (current: Tags) => Tags): Promise<void> {
    if (resourceIds.length === 0) throw new ControlError('MissingParameter', 'resourceIds: names no resource')
    for (const [i, id] of resourceIds.entries()) checkIdParameter(`resourceIds[${i}]`, id, 'InvalidID')
    await this.#mutate(async (tx) => {
      for (const id of resourceIds) {
        const flowLog = await tx.get<FlowLogResource>('flow-log', id)
        if (flowLog !== undefined) {
          tx.put('flow-log', id, {
            ...flowLog,
            tags: change(flowLog.tags),
            updatedAt: this.#now().toISOString(),
          })
          continue
        }
        const group = await tx.get<SecurityGroupResource>('security-group', id)
        if (group !== undefined) {
          tx.put('security-group', id, { ...group, tags: change(group.tags) })
          continue
        }
        const code = id.startsWith('fl-')
          ? 'InvalidFlowLogId.NotFound'
          : id.startsWith('sg-')
            ? 'InvalidGroup.NotFound'
            : 'InvalidID'
        throw new ControlError(
          code,
          `resourceIds: ${JSON.stringify(id)} is not a flow log or security group here`,
        )
      }
    })
  }

  // ── security groups ────────────────────────────────────────────────────

  async createSecurityGroup(request: CreateSecurityGroupRequest): Promise<SecurityGroupResource> {
    const problems: string[] = []
    const name = request.name
    if (typeof name !== 'string' || name.length < 1 || name.length > 255)
      problems.push(`groupName: ${JSON.stringify(name)} is not a name of 1-255 characters`)
    else if (name.toLowerCase().startsWith('sg-'))
      problems.push(`groupName: ${JSON.stringify(name)} starts with "sg-", which AWS keeps for group ids`)
    else if (name === 'default')
      problems.push('groupName: "default" is the name AWS keeps for the VPC\'s default group')
    if (typeof request.description !== 'string' || request.description.length > 255)
      problems.push(
        `description: ${JSON.stringify(request.description)} is not text of at most 255 characters`,
      )
    problems.push(...tagProblems(request.tags))
    if (problems.length > 0) throw new ControlError('InvalidParameterValue', problems.join('; '))
    const topology = this.#topology()
    let vpcId = request.vpc
    if (vpcId === null) {
      if (topology.vpcs.length !== 1)
        throw new ControlError(
          'VPCIdNotSpecified',
          `vpcId: needed, the config has ${topology.vpcs.length} VPCs`,
        )
      vpcId = topology.vpcs[0]?.id ?? null
    }
    checkIdParameter('vpcId', vpcId, 'InvalidVpcID.Malformed')
    const vpc = topology.vpcs.find((v) => v.id === vpcId)
    if (vpc === undefined)
      throw new ControlError(
        'InvalidVpcID.NotFound',
        `vpcId: ${JSON.stringify(vpcId)} is not a VPC of the config`,
      )
    if (request.dryRun) throw new ControlError('DryRunOperation', DRY_RUN)
    return this.#mutate(async (tx) => {
      const groups = await tx.list<SecurityGroupResource>('security-group')
      const twin = groups.find((g) => g.value.name === name && g.value.group.vpc === vpc.id)
      if (twin !== undefined)
        throw new ControlError(
          'InvalidGroup.Duplicate',
          `groupName: ${JSON.stringify(name)} is already the name of ${twin.id} in ${vpc.id}`,
        )
      const id = newId('sg')
      // AWS gives a new group one outbound rule allowing everything (IPv6 too when the VPC has it).
      const everywhere = ['0.0.0.0/0', ...(vpc.cidrs.some((c) => c.includes(':')) ? ['::/0'] : [])]
      const resource: SecurityGroupResource = {
        group: {
          id,
          vpc: vpc.id,
          description: request.description,
          inbound: [],
          outbound: everywhere.map((peer) => ({
            id: newId('sgr'),
            protocol: 'all',
            ports: null,
            icmpType: -1,
            icmpCode: -1,
            peer,
            description: null,
          })),
        },
        name,
        tags: { ...request.tags },
      }
      tx.put('security-group', id, resource)
      return resource
    })
  }

  async deleteSecurityGroup(id: string): Promise<void> {
    checkIdParameter('groupId', id, 'InvalidGroupId.Malformed')
    await this.#mutate(async (tx) => {
      await existingGroup(tx, id)
      const state = await readControlState(tx)
      const user = effectiveTopology(this.#topology(), state).interfaces.find((i) =>
        i.securityGroups.includes(id),
      )
      if (user !== undefined)
        throw new ControlError(
          'DependencyViolation',
          `groupId: ${id} is a group of interface ${user.id}; change its groups first`,
        )
      for (const g of state.securityGroups) {
        if (g.group.id === id) continue
        const rule = [...g.group.inbound, ...g.group.outbound].find((r) => r.peer === id)
        if (rule !== undefined)
          throw new ControlError(
            'DependencyViolation',
            `groupId: ${id} is referenced by rule ${rule.id} of ${g.group.id}`,
          )
      }
      tx.delete('security-group', id)
    })
  }

  async listSecurityGroups(): Promise<SecurityGroupResource[]> {
    return this.#store.read(async (r) =>
      (await r.list<SecurityGroupResource>('security-group')).map((i) => i.value),
    )
  }

  async getSecurityGroup(id: string): Promise<SecurityGroupResource> {
    checkIdParameter('groupId', id, 'InvalidGroupId.Malformed')
    return this.#store.read((r) => existingGroup(r, id))
  }

  async authorize(
    groupId: string,
    direction: Direction,
    rules: readonly RuleDraft[],
  ): Promise<SecurityGroupRule[]> {
    checkIdParameter('groupId', groupId, 'InvalidGroupId.Malformed')
    if (rules.length === 0) throw new ControlError('MissingParameter', 'ipPermissions: names no rule')
    const checked = rules.map((r, i) => checkRuleDraft(r, ['ipPermissions', i]))
    return this.#mutate(async (tx) => {
      const resource = await existingGroup(tx, groupId)
      const list = resource.group[direction === 'inbound' ? 'inbound' : 'outbound']
      const keys = new Set(list.map(ruleKey))
      const added: SecurityGroupRule[] = []
      for (const rule of checked) {
        if (
          isGroupPeer(rule.peer) &&
          rule.peer !== groupId &&
          (await tx.get('security-group', rule.peer)) === undefined
        )
          throw new ControlError(
            'InvalidGroup.NotFound',
            `peer: security group ${JSON.stringify(rule.peer)} does not exist`,
          )
        const key = ruleKey(rule)
        if (keys.has(key))
          throw new ControlError(
            'InvalidPermission.Duplicate',
            `the ${direction} rule ${describeRule(rule)} already exists in ${groupId}`,
          )
        keys.add(key)
        added.push({ id: newId('sgr'), ...rule })
      }
      if (list.length + added.length > MAX_RULES_PER_DIRECTION)
        throw new ControlError(
          'RulesPerSecurityGroupLimitExceeded',
          `${groupId} would have ${list.length + added.length} ${direction} rules; at most ${MAX_RULES_PER_DIRECTION}`,
        )
      const next = withRules(resource, direction, [...list, ...added])
      tx.put('security-group', groupId, next)
      return added
    })
  }

  async revoke(groupId: string, direction: Direction, which: RevokeRequest): Promise<SecurityGroupRule[]> {
    checkIdParameter('groupId', groupId, 'InvalidGroupId.Malformed')
    const byMatch = (which.rules ?? []).map((r, i) => checkRuleDraft(r, ['ipPermissions', i]))
    const byId = which.ruleIds ?? []
    for (const [i, id] of byId.entries())
      checkIdParameter(`securityGroupRuleIds[${i}]`, id, 'InvalidSecurityGroupRuleId.Malformed')
    if (byMatch.length === 0 && byId.length === 0)
      throw new ControlError('MissingParameter', 'ipPermissions or securityGroupRuleIds: names no rule')
    return this.#mutate(async (tx) => {
      const resource = await existingGroup(tx, groupId)
      const list = resource.group[direction === 'inbound' ? 'inbound' : 'outbound']
      const removed = new Set<SecurityGroupRule>()
      for (const rule of byMatch) {
        const found = list.find((r) => ruleKey(r) === ruleKey(rule))
        if (found === undefined)
          throw new ControlError(
            'InvalidPermission.NotFound',
            `the ${direction} rule ${describeRule(rule)} does not exist in ${groupId}`,
          )
        removed.add(found)
      }
      for (const id of byId) {
        const found = list.find((r) => r.id === id)
        if (found === undefined)
          throw new ControlError(
            'InvalidSecurityGroupRuleId.NotFound',
            `securityGroupRuleIds: ${id} is not a ${direction} rule of ${groupId}`,
          )
        removed.add(found)
      }
      tx.put(
        'security-group',
        groupId,
        withRules(
          resource,
          direction,
          list.filter((r) => !removed.has(r)),
        ),
      )
      return [...removed]
    })
  }

  // ── topology ───────────────────────────────────────────────────────────

  async topology(): Promise<Topology> {
    const state = await this.#store.read(readControlState)
    return effectiveTopology(this.#topology(), state)
  }

  async setInterfaceGroups(interfaceId: string, groupIds: readonly string[]): Promise<void> {
    checkIdParameter('networkInterfaceId', interfaceId, 'InvalidNetworkInterfaceID.Malformed')
    for (const [i, id] of groupIds.entries()) checkIdParameter(`groups[${i}]`, id, 'InvalidGroupId.Malformed')
    if (groupIds.length === 0)
      throw new ControlError('MissingParameter', 'groups: an interface needs at least one security group')
    if (groupIds.length > MAX_GROUPS_PER_INTERFACE)
      throw new ControlError(
        'SecurityGroupsPerInterfaceLimitExceeded',
        `groups: ${groupIds.length} groups; an interface may have at most ${MAX_GROUPS_PER_INTERFACE}`,
      )
    if (new Set(groupIds).size !== groupIds.length)
      throw new ControlError(
        'InvalidParameterValue',
        `groups: ${JSON.stringify(groupIds)} lists a group twice`,
      )
    const topology = this.#topology()
    const nic = topology.interfaces.find((i) => i.id === interfaceId)
    if (nic === undefined)
      throw new ControlError(
        'InvalidNetworkInterfaceID.NotFound',
        `networkInterfaceId: ${interfaceId} is not an interface of the config`,
      )
    const vpc = topology.vpcs.find((v) => v.subnets.some((s) => s.id === nic.subnet))
    await this.#mutate(async (tx) => {
      for (const id of groupIds) {
        const group = await existingGroup(tx, id)
        if (vpc !== undefined && group.group.vpc !== null && group.group.vpc !== vpc.id)
          throw new ControlError(
            'InvalidGroup.NotFound',
            `groups: ${id} belongs to ${group.group.vpc}, but interface ${interfaceId} is in ${vpc.id}`,
          )
      }
      tx.put('attachment', interfaceId, [...groupIds])
    })
  }

  async coveredInterfaces(flowLogId: string): Promise<NetworkInterface[]> {
    const flowLog = await this.getFlowLog(flowLogId)
    const state = await this.#store.read(readControlState)
    const topology = effectiveTopology(this.#topology(), state)
    const interfaces: NetworkInterface[] = topology.interfaces.map(({ host: _host, ...nic }) => nic)
    const network: NetworkConfig = {
      account: topology.account,
      region: topology.region,
      vpcs: topology.vpcs,
      securityGroups: [],
      interfaces,
      flowLogs: [],
      limits: this.#settings().limits,
    }
    return coveredInterfaces(network, flowLog.spec).flatMap((i) => interfaces[i] ?? [])
  }

  async effectiveNetwork(): Promise<NetworkConfig> {
    const state = await this.#store.read(readControlState)
    return effectiveNetwork(this.#topology(), state, this.#settings())
  }

  /**
   * One transaction that must not add a problem the config loader would report. Problems that
   * were there before (a reloaded config dropped an interface a flow log covers) do not block
   * other changes, least of all the one that repairs them. Indexes are left out of the
   * comparison: they shift as resources come and go.
   */
  #mutate<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return this.#store.transact(async (tx) => {
      const topology = this.#topology()
      const settings = this.#settings()
      const withoutIndexes = (problem: string) => problem.replace(/\[\d+\]/g, '[]')
      const before = new Set(
        networkProblems(topology, await readControlState(tx), settings).map(withoutIndexes),
      )
      const result = await fn(tx)
      const added = networkProblems(topology, await readControlState(tx), settings).filter(
        (p) => !before.has(withoutIndexes(p)),
      )
      if (added.length > 0)
        throw new ControlError(
          'InvalidParameterValue',
          `the change would leave a network the config loader refuses: ${added.join('; ')}`,
        )
      return result
    })
  }
}

const ID_OK = (id: string): boolean => {
  try {
    checkIdParameter('id', id)
    return true
  } catch {
    return false
  }
}

async function existingFlowLog(reader: StoreReader, id: string): Promise<FlowLogResource> {
  const found = await reader.get<FlowLogResource>('flow-log', id)
  if (found === undefined)
    throw new ControlError('InvalidFlowLogId.NotFound', `flowLogId: ${id} does not exist`)
  return found
}

async function existingGroup(reader: StoreReader, id: string): Promise<SecurityGroupResource> {
  const found = await reader.get<SecurityGroupResource>('security-group', id)
  if (found === undefined)
    throw new ControlError('InvalidGroup.NotFound', `groupId: security group ${id} does not exist`)
  return found
}

function withRules(
  resource: SecurityGroupResource,
  direction: Direction,
  rules: SecurityGroupRule[],
): SecurityGroupResource {
  const key = direction === 'inbound' ? 'inbound' : 'outbound'
  return { ...resource, group: { ...resource.group, [key]: rules } }
}

function describeRule(rule: Omit<SecurityGroupRule, 'id'>): string {
  const ports = rule.ports !== null ? ` ports ${rule.ports}` : ''
  const icmp =
    rule.icmpType !== -1
      ? ` type ${rule.icmpType}${rule.icmpCode !== -1 ? ` code ${rule.icmpCode}` : ''}`
      : ''
  return `(${rule.protocol}${ports}${icmp}, ${rule.peer})`
}

/** Null when the topology has a resource of that type and id, else AWS's NotFound for it. */
function resourceProblem(
  topology: Topology,
  type: CreateFlowLogsRequest['draft']['resourceType'],
  id: string,
): { code: string; message: string } | null {
  if (type === 'VPC') {
    return topology.vpcs.some((v) => v.id === id)
      ? null
      : { code: 'InvalidVpcID.NotFound', message: `VPC ${id} is not in the config's topology` }
  }
  if (type === 'Subnet') {
    return topology.vpcs.some((v) => v.subnets.some((s) => s.id === id))
      ? null
      : { code: 'InvalidSubnetID.NotFound', message: `subnet ${id} is not in the config's topology` }
  }
  return topology.interfaces.some((i) => i.id === id)
    ? null
    : {
        code: 'InvalidNetworkInterfaceID.NotFound',
        message: `network interface ${id} is not in the config's topology`,
      }
}

/** JSON with object keys sorted, so one request has one text whatever order its keys came in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}
