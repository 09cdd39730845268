import { ControlError } from '../../../control/control-error.js'
import type { ControlPlane, Direction, RevokeRequest } from '../../../control/control-plane.js'
import type { SecurityGroupResource } from '../../../control/resources.js'
import type { SecurityGroupRule } from '../../../core/network.js'
import type { Action } from '../action.js'
import { dryRunSucceeded } from '../dry-run.js'
import { compileFilters } from '../filters.js'
import {
  type GroupResolver,
  ipPermissionsOf,
  rulesOfRequest,
  securityGroupRuleOf,
} from '../ip-permissions.js'
import { paginate } from '../paging.js'
import { invalidValue, missingParameter, type Params } from '../query-params.js'
import { tagList, tagSpecificationTags } from '../tag-params.js'
import type { OutputStruct } from '../xml-response.js'

/**
 * The security-group actions onto the control plane: groups by GroupId (or GroupName, unique
 * across the VPCs here), rules as IpPermissions in and out, `sgr-…` rule ids.
 */
function groupNotFound(what: string): ControlError {
  return new ControlError('InvalidGroup.NotFound', `The security group '${what}' does not exist`)
}

/** GroupId, else GroupName (which must name one group). MissingParameter when neither is given. */
async function targetGroup(control: ControlPlane, params: Params): Promise<SecurityGroupResource> {
  const id = params.string('GroupId')
  if (id !== undefined) return control.getSecurityGroup(id)
  const name = params.string('GroupName')
  if (name === undefined) throw missingParameter('GroupId')
  const named = (await control.listSecurityGroups()).filter((g) => g.name === name)
  if (named.length === 0) throw groupNotFound(name)
  if (named.length > 1)
    throw invalidValue('GroupName', name, 'Groups of this name exist in several VPCs; give GroupId.')
  return named[0] as SecurityGroupResource
}

async function resolverFor(control: ControlPlane, vpc: string | null): Promise<GroupResolver> {
  const groups = await control.listSecurityGroups()
  return { groupIdByName: (name) => groups.find((g) => g.name === name && g.group.vpc === vpc)?.group.id }
}

function groupOutput(g: SecurityGroupResource, account: string): OutputStruct {
  return {
    Description: g.group.description ?? '',
    GroupName: g.name,
    IpPermissions: ipPermissionsOf(g.group.inbound, account),
    OwnerId: account,
    GroupId: g.group.id,
    IpPermissionsEgress: ipPermissionsOf(g.group.outbound, account),
    Tags: tagList(g.tags),
    VpcId: g.group.vpc ?? undefined,
  }
}

export const createSecurityGroup: Action = async ({ control }, params) => {
  const name = params.requiredString('GroupName')
  const description = params.requiredString('Description')
  if (name.length === 0 || name.length > 255 || name.toLowerCase().startsWith('sg-'))
    throw invalidValue('GroupName', name, 'Group names are 1-255 characters and do not start with sg-.')
  if (description.length > 255)
    throw invalidValue('GroupDescription', `${description.slice(0, 20)}...`, 'At most 255 characters.')
  const group = await control.createSecurityGroup({
    name,
    description,
    vpc: params.string('VpcId') ?? null,
    tags: tagSpecificationTags(params, 'security-group'),
    dryRun: params.boolean('DryRun') ?? false,
  })
  return { GroupId: group.group.id, Tags: tagList(group.tags) }
}

export const deleteSecurityGroup: Action = async ({ control }, params) => {
  const group = await targetGroup(control, params)
  if (params.boolean('DryRun') === true) throw dryRunSucceeded()
  await control.deleteSecurityGroup(group.group.id)
  return {}
}

export const describeSecurityGroups: Action = async ({ control, account }, params) => {
  const all = await control.listSecurityGroups()
  const ids = params.strings('GroupIds')
  const names = params.strings('GroupNames')
  for (const id of ids) if (!all.some((g) => g.group.id === id)) throw groupNotFound(id)
  for (const name of names) if (!all.some((g) => g.name === name)) throw groupNotFound(name)
  const matches = compileFilters<SecurityGroupResource>(
    params.structs('Filters'),
    {
      'group-id': (g) => [g.group.id],
      'group-name': (g) => [g.name],
      'vpc-id': (g) => [g.group.vpc],
      description: (g) => [g.group.description],
      'owner-id': () => [],
    },
    (g) => g.tags,
  )
  const selected = all.filter(
    (g) =>
      (ids.length === 0 || ids.includes(g.group.id)) &&
      (names.length === 0 || names.includes(g.name)) &&
      matches(g),
  )
  const page = paginate(selected, (g) => g.group.id, params.integer('MaxResults'), params.string('NextToken'))
  const owner = await account()
  return { SecurityGroups: page.items.map((g) => groupOutput(g, owner)), NextToken: page.nextToken }
}

interface RuleOfGroup {
  rule: SecurityGroupRule
  group: SecurityGroupResource
  egress: boolean
}

export const describeSecurityGroupRules: Action = async ({ control, account }, params) => {
  const rules: RuleOfGroup[] = (await control.listSecurityGroups()).flatMap((group) => [
    ...group.group.inbound.map((rule) => ({ rule, group, egress: false })),
    ...group.group.outbound.map((rule) => ({ rule, group, egress: true })),
  ])
  const ids = params.strings('SecurityGroupRuleIds')
  for (const id of ids)
    if (!rules.some((r) => r.rule.id === id))
      throw new ControlError(
        'InvalidSecurityGroupRuleId.NotFound',
        `The security group rule ID '${id}' does not exist`,
      )
  const matches = compileFilters<RuleOfGroup>(
    params.structs('Filters'),
    { 'group-id': (r) => [r.group.group.id], 'security-group-rule-id': (r) => [r.rule.id] },
    null,
  )
  const selected = rules.filter((r) => (ids.length === 0 || ids.includes(r.rule.id)) && matches(r))
  const page = paginate(selected, (r) => r.rule.id, params.integer('MaxResults'), params.string('NextToken'))
  const owner = await account()
  return {
    SecurityGroupRules: page.items.map((r) => securityGroupRuleOf(r.rule, r.group.group.id, r.egress, owner)),
    NextToken: page.nextToken,
  }
}

function authorize(direction: Direction): Action {
  return async ({ control, account }, params) => {
    const group = await targetGroup(control, params)
    if (params.structs('TagSpecifications').length > 0)
      throw invalidValue(
        'TagSpecification.1.ResourceType',
        'security-group-rule',
        'Tags on rules are not supported by flowlog.',
      )
    const rules = rulesOfRequest(params, await resolverFor(control, group.group.vpc))
    if (rules.length === 0) throw missingParameter('IpPermissions')
    if (params.boolean('DryRun') === true) throw dryRunSucceeded()
    const added = await control.authorize(group.group.id, direction, rules)
    const owner = await account()
    return {
      Return: true,
      SecurityGroupRules: added.map((r) =>
        securityGroupRuleOf(r, group.group.id, direction === 'outbound', owner),
      ),
    }
  }
}

function revoke(direction: Direction): Action {
  return async ({ control }, params) => {
    const group = await targetGroup(control, params)
    const rules = rulesOfRequest(params, await resolverFor(control, group.group.vpc))
    const ruleIds = params.strings('SecurityGroupRuleIds')
    if (rules.length === 0 && ruleIds.length === 0)
      throw missingParameter('IpPermissions or SecurityGroupRuleId')
    if (params.boolean('DryRun') === true) throw dryRunSucceeded()
    const which: RevokeRequest = {}
    if (rules.length > 0) which.rules = rules
    if (ruleIds.length > 0) which.ruleIds = ruleIds
    await control.revoke(group.group.id, direction, which)
    return { Return: true, UnknownIpPermissions: [] }
  }
}

export const authorizeSecurityGroupIngress = authorize('inbound')
export const authorizeSecurityGroupEgress = authorize('outbound')
export const revokeSecurityGroupIngress = revoke('inbound')
export const revokeSecurityGroupEgress = revoke('outbound')
