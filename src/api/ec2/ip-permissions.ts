import { checkCidr, checkPorts, checkProtocol } from '../../config/rules.js'
import { ControlError } from '../../control/control-error.js'
import type { RuleDraft } from '../../control/control-plane.js'
import type { Protocol, SecurityGroupRule } from '../../core/network.js'
import { invalidValue, missingParameter, type Params } from './query-params.js'
import type { OutputStruct } from './xml-response.js'

/**
 * EC2's IpPermission ↔ flowlog's rules (one peer per rule, as AWS's security-group-rule objects).
 * IpProtocol `-1` is all, numbers are protocols (6 is tcp); FromPort/ToPort are the port range
 * of tcp and udp (-1/-1 or 0/65535: all ports), ICMP type and code for icmp and icmpv6 (-1: any),
 * and ignored for every other protocol, as AWS ignores them.
 */
export interface GroupResolver {
  /** The id of the group with this name in the VPC the rules are for, or undefined. */
  groupIdByName(name: string): string | undefined
}

function portsOf(p: Params, protocol: Protocol): Pick<RuleDraft, 'ports' | 'icmpType' | 'icmpCode'> {
  const from = p.integer('FromPort')
  const to = p.integer('ToPort')
  if (protocol === 'tcp' || protocol === 'udp') {
    if (from === undefined || to === undefined)
      throw missingParameter(from === undefined ? p.nameOf('FromPort') : p.nameOf('ToPort'))
    if ((from === -1 && to === -1) || (from === 0 && to === 65535))
      return { ports: null, icmpType: -1, icmpCode: -1 }
    const checked = checkPorts(`${from}-${to}`)
    if (!checked.ok || from < 0)
      throw invalidValue(
        p.nameOf('FromPort'),
        `${from}-${to}`,
        'The port range must be 0-65535 with FromPort <= ToPort.',
      )
    return { ports: checked.value, icmpType: -1, icmpCode: -1 }
  }
  if (protocol === 'icmp' || protocol === 'icmpv6') {
    const type = from ?? -1
    const code = to ?? -1
    if (type < -1 || type > 255)
      throw invalidValue(p.nameOf('FromPort'), String(type), 'The ICMP type must be -1 (any) or 0-255.')
    if (code < -1 || code > 255)
      throw invalidValue(p.nameOf('ToPort'), String(code), 'The ICMP code must be -1 (any) or 0-255.')
    // AWS: all types means all codes.
    return { ports: null, icmpType: type, icmpCode: type === -1 ? -1 : code }
  }
  return { ports: null, icmpType: -1, icmpCode: -1 }
}

function protocolOf(p: Params): Protocol {
  const text = p.requiredString('IpProtocol')
  const checked = checkProtocol(text)
  if (!checked.ok) throw invalidValue(p.nameOf('IpProtocol'), text, `It ${checked.rule}.`)
  return checked.value
}

function cidrOf(p: Params, member: string, family: 4 | 6): string {
  const text = p.requiredString(member)
  const checked = checkCidr(text, false)
  const isV6 = text.includes(':')
  if (!checked.ok || isV6 !== (family === 6))
    throw invalidValue(p.nameOf(member), text, `It is not an IPv${family} CIDR block.`)
  return checked.value
}

/** One IpPermission → one rule per peer (IpRanges, Ipv6Ranges, UserIdGroupPairs). */
export function rulesOfPermission(p: Params, groups: GroupResolver): RuleDraft[] {
  const protocol = protocolOf(p)
  const match = portsOf(p, protocol)
  const rules: RuleDraft[] = []
  const add = (peer: string, description: string | undefined) =>
    rules.push({ protocol, ...match, peer, description: description ?? null })
  for (const r of p.structs('IpRanges')) add(cidrOf(r, 'CidrIp', 4), r.string('Description'))
  for (const r of p.structs('Ipv6Ranges')) add(cidrOf(r, 'CidrIpv6', 6), r.string('Description'))
  for (const pair of p.structs('UserIdGroupPairs')) {
    const id = pair.string('GroupId')
    const name = pair.string('GroupName')
    if (id !== undefined) add(id, pair.string('Description'))
    else if (name !== undefined) {
      const resolved = groups.groupIdByName(name)
      if (resolved === undefined) throw new InvalidGroupName(name)
      add(resolved, pair.string('Description'))
    } else throw missingParameter(pair.nameOf('GroupId'))
  }
  if (p.structs('PrefixListIds').length > 0)
    throw invalidValue(
      p.nameOf('PrefixListIds'),
      'PrefixListIds',
      'Prefix lists are not supported by flowlog.',
    )
  if (rules.length === 0)
    throw missingParameter(
      `${p.nameOf('IpRanges')}, ${p.nameOf('Ipv6Ranges')} or ${p.nameOf('UserIdGroupPairs')}`,
    )
  return rules
}

export class InvalidGroupName extends ControlError {
  constructor(name: string) {
    super('InvalidGroup.NotFound', `The security group '${name}' does not exist in the VPC`)
  }
}

/**
 * The rules of an Authorize/Revoke call: IpPermissions, or the legacy top-level form
 * (IpProtocol, FromPort, ToPort, CidrIp, SourceSecurityGroupName) older SDKs send.
 */
export function rulesOfRequest(params: Params, groups: GroupResolver): RuleDraft[] {
  const legacy = ['IpProtocol', 'FromPort', 'ToPort', 'CidrIp', 'SourceSecurityGroupName'].filter((m) =>
    params.has(m),
  )
  const permissions = params.structs('IpPermissions')
  if (legacy.length > 0 && permissions.length > 0)
    throw new ControlError(
      'InvalidParameterCombination',
      `IpPermissions cannot be combined with ${legacy.join(', ')}`,
    )
  if (permissions.length > 0) return permissions.flatMap((p) => rulesOfPermission(p, groups))
  if (legacy.length === 0) return []
  const protocol = params.has('IpProtocol') ? protocolOf(params) : 'all'
  const match = portsOf(params, protocol)
  const peers: string[] = []
  if (params.has('CidrIp')) {
    const text = params.requiredString('CidrIp')
    const checked = checkCidr(text, false)
    if (!checked.ok) throw invalidValue('CidrIp', text, 'It is not a CIDR block.')
    peers.push(checked.value)
  }
  const sourceName = params.string('SourceSecurityGroupName')
  if (sourceName !== undefined) {
    const id = groups.groupIdByName(sourceName)
    if (id === undefined) throw new InvalidGroupName(sourceName)
    peers.push(id)
  }
  if (peers.length === 0) throw missingParameter('CidrIp or SourceSecurityGroupName')
  return peers.map((peer) => ({ protocol, ...match, peer, description: null }))
}

// ── output ──────────────────────────────────────────────────────────────

export function ipProtocolName(protocol: Protocol): string {
  return protocol === 'all' ? '-1' : String(protocol)
}

/** FromPort/ToPort as EC2 shows them, or nothing for protocols without ports. */
export function portFields(
  rule: Pick<RuleDraft, 'protocol' | 'ports' | 'icmpType' | 'icmpCode'>,
): OutputStruct {
  if (rule.protocol === 'tcp' || rule.protocol === 'udp') {
    if (rule.ports === null) return { FromPort: 0, ToPort: 65535 }
    const [from, to] = rule.ports.split('-').map(Number)
    return { FromPort: from, ToPort: to ?? from }
  }
  if (rule.protocol === 'icmp' || rule.protocol === 'icmpv6')
    return { FromPort: rule.icmpType, ToPort: rule.icmpCode }
  return {}
}

type PeerKind = 'ipv4' | 'ipv6' | 'group'
export function peerKind(peer: string): PeerKind {
  if (/^[\d.]+(\/\d+)?$/.test(peer)) return 'ipv4'
  if (peer.includes(':')) return 'ipv6'
  return 'group'
}

/** A group's rules as EC2's IpPermissions: rules of one protocol and port range share an entry. */
export function ipPermissionsOf(rules: readonly SecurityGroupRule[], account: string): OutputStruct[] {
  const byMatch = new Map<
    string,
    { head: SecurityGroupRule; v4: OutputStruct[]; v6: OutputStruct[]; groups: OutputStruct[] }
  >()
  for (const rule of rules) {
    const key = `${rule.protocol}|${rule.ports}|${rule.icmpType}|${rule.icmpCode}`
    let entry = byMatch.get(key)
    if (entry === undefined) {
      entry = { head: rule, v4: [], v6: [], groups: [] }
      byMatch.set(key, entry)
    }
    const description = rule.description ?? undefined
    const kind = peerKind(rule.peer)
    if (kind === 'ipv4') entry.v4.push({ CidrIp: rule.peer, Description: description })
    else if (kind === 'ipv6') entry.v6.push({ CidrIpv6: rule.peer, Description: description })
    else entry.groups.push({ GroupId: rule.peer, UserId: account, Description: description })
  }
  return [...byMatch.values()].map(({ head, v4, v6, groups }) => ({
    IpProtocol: ipProtocolName(head.protocol),
    ...portFields(head),
    IpRanges: v4,
    Ipv6Ranges: v6,
    UserIdGroupPairs: groups,
    PrefixListIds: [],
  }))
}

/** One rule as EC2's SecurityGroupRule. */
export function securityGroupRuleOf(
  rule: SecurityGroupRule,
  groupId: string,
  egress: boolean,
  account: string,
): OutputStruct {
  const kind = peerKind(rule.peer)
  return {
    SecurityGroupRuleId: rule.id,
    GroupId: groupId,
    GroupOwnerId: account,
    IsEgress: egress,
    IpProtocol: ipProtocolName(rule.protocol),
    ...portFields(rule),
    CidrIpv4: kind === 'ipv4' ? rule.peer : undefined,
    CidrIpv6: kind === 'ipv6' ? rule.peer : undefined,
    ReferencedGroupInfo: kind === 'group' ? { GroupId: rule.peer, UserId: account } : undefined,
    Description: rule.description ?? undefined,
    Tags: [],
  }
}
