import { InputError } from '../core/errors.js'

/**
 * Turns what `aws ec2 describe-security-groups`, `describe-network-interfaces`, `describe-vpcs` and
 * `describe-subnets` print (awscli's JSON: botocore's EC2 model, member names as written there) into
 * a flowlog config: the security groups with their rules, the interfaces with their addresses and
 * groups, the VPCs and subnets they sit in. audit, what-if and detect then judge real AWS flow logs
 * by the groups that judged them.
 *
 * What a config cannot say is left out and said so in `notes`, never guessed silently: rules on
 * prefix lists (their CIDRs are not in these outputs), interfaces without security groups (a NAT
 * gateway's, a Gateway Load Balancer endpoint's: groups do not filter them), and the CIDRs of VPCs
 * and subnets not given (an interface's own addresses stand in for them).
 */

/** The parsed JSON of each describe-* output; vpcs and subnets are optional. */
export interface AwsDescribeOutputs {
  securityGroups: Named<unknown>
  networkInterfaces: Named<unknown>
  vpcs?: Named<unknown>
  subnets?: Named<unknown>
}

/** A parsed JSON document and the name to quote in errors (its file name). */
export interface Named<T> {
  name: string
  json: T
}

export interface ImportOptions {
  /** Overrides the account (else the OwnerId of the groups and interfaces). */
  account?: string
  /** Overrides the region (else the Availability Zones of the interfaces and subnets). */
  region?: string
}

/** A config as plain data, in the config file's own keys (docs/config.md). */
export interface ImportedConfig {
  account: string
  region: string
  vpcs: { id: string; cidrs: string[]; subnets: { id: string; cidrs: string[]; az?: string }[] }[]
  securityGroups: {
    id: string
    vpc?: string
    description?: string
    inbound: ImportedRule[]
    outbound: ImportedRule[]
  }[]
  interfaces: {
    id: string
    instance?: string
    subnet: string
    mac?: string
    addresses: string[]
    securityGroups: string[]
  }[]
}

export interface ImportedRule {
  protocol: string | number
  ports?: string
  icmpType?: number
  icmpCode?: number
  source?: string
  destination?: string
  description?: string
}

export interface ImportResult {
  config: ImportedConfig
  /** What was left out or stood in for, one sentence each. */
  notes: string[]
}

type Json = Record<string, unknown>

/** Reads a JSON value at `path` in a named document, with errors that name both. */
class Reader {
  constructor(readonly name: string) {}

  fail(path: string, value: unknown, rule: string): never {
    throw new InputError(`${this.name}: ${path}: ${JSON.stringify(value)} ${rule}`)
  }

  /** The list under `key` of awscli's output object (or the document itself when it is a list). */
  top(json: unknown, key: string): [string, Json][] {
    const list = Array.isArray(json) ? json : isObject(json) ? json[key] : undefined
    if (!Array.isArray(list)) {
      this.fail(
        key,
        isObject(json) ? Object.keys(json) : json,
        `is not there: expected the JSON of aws ec2 describe-* (an object with "${key}": [...])`,
      )
    }
    return this.objects(list, Array.isArray(json) ? '' : key)
  }

  objects(list: unknown, path: string): [string, Json][] {
    if (list === undefined || list === null) return []
    if (!Array.isArray(list)) this.fail(path, list, 'is not a list')
    return list.map((item, i) => {
      const at = `${path}[${i}]`
      if (!isObject(item)) this.fail(at, item, 'is not an object')
      return [at, item]
    })
  }

  text(o: Json, key: string, at: string): string {
    const v = o[key]
    if (typeof v !== 'string' || v === '') this.fail(`${at}.${key}`, v, 'is not a non-empty string')
    return v
  }

  optionalText(o: Json, key: string, at: string): string | undefined {
    const v = o[key]
    if (v === undefined || v === null || v === '') return undefined
    if (typeof v !== 'string') this.fail(`${at}.${key}`, v, 'is not a string')
    return v
  }

  optionalInteger(o: Json, key: string, at: string): number | undefined {
    const v = o[key]
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(`${at}.${key}`, v, 'is not a whole number')
    return v
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** awscli's IpProtocol ("-1", "tcp", "6", "icmpv6", "50") in the config's words. */
const PROTOCOLS: Readonly<Record<string, string>> = {
  '-1': 'all',
  all: 'all',
  tcp: 'tcp',
  '6': 'tcp',
  udp: 'udp',
  '17': 'udp',
  icmp: 'icmp',
  '1': 'icmp',
  icmpv6: 'icmpv6',
  '58': 'icmpv6',
}

function convertRules(
  r: Reader,
  list: unknown,
  path: string,
  group: string,
  peerKey: 'source' | 'destination',
  notes: string[],
): ImportedRule[] {
  const rules: ImportedRule[] = []
  for (const [at, p] of r.objects(list, path)) {
    const written = r.text(p, 'IpProtocol', at)
    const named = PROTOCOLS[written.toLowerCase()]
    let protocol: string | number
    if (named !== undefined) protocol = named
    else if (/^\d{1,3}$/.test(written) && Number(written) <= 255) protocol = Number(written)
    else r.fail(`${at}.IpProtocol`, written, 'is not a protocol (-1, tcp, udp, icmp, icmpv6 or 0-255)')
    const from = r.optionalInteger(p, 'FromPort', at)
    const to = r.optionalInteger(p, 'ToPort', at)
    const match: Pick<ImportedRule, 'ports' | 'icmpType' | 'icmpCode'> = {}
    if (protocol === 'tcp' || protocol === 'udp') {
      // AWS writes "all ports" as 0-65535 (or leaves the range out); -1 appears for protocol -1 only.
      if (from !== undefined && from >= 0 && !(from === 0 && (to ?? 65535) === 65535)) {
        const end = to === undefined || to < 0 ? from : to
        if (from > 65535 || end > 65535 || end < from)
          r.fail(`${at}.FromPort`, [from, to], 'is not a port range 0-65535')
        match.ports = end === from ? String(from) : `${from}-${end}`
      }
    } else if (protocol === 'icmp' || protocol === 'icmpv6') {
      // For ICMP, FromPort is the type and ToPort the code (-1: any).
      if (from !== undefined && from >= 0) {
        match.icmpType = from
        if (to !== undefined && to >= 0) match.icmpCode = to
      }
    }
    const push = (peer: string, description: string | undefined) =>
      rules.push({
        protocol,
        ...match,
        [peerKey]: peer,
        ...(description === undefined ? {} : { description: description.slice(0, 255) }),
      })
    for (const [rat, range] of r.objects(p.IpRanges, `${at}.IpRanges`))
      push(r.text(range, 'CidrIp', rat), r.optionalText(range, 'Description', rat))
    for (const [rat, range] of r.objects(p.Ipv6Ranges, `${at}.Ipv6Ranges`))
      push(r.text(range, 'CidrIpv6', rat), r.optionalText(range, 'Description', rat))
    for (const [rat, pair] of r.objects(p.UserIdGroupPairs, `${at}.UserIdGroupPairs`))
      push(r.text(pair, 'GroupId', rat), r.optionalText(pair, 'Description', rat))
    for (const [rat, prefixList] of r.objects(p.PrefixListIds, `${at}.PrefixListIds`)) {
      notes.push(
        `${group}: an ${peerKey === 'source' ? 'inbound' : 'outbound'} rule on prefix list ${r.text(prefixList, 'PrefixListId', rat)} is left out (its CIDRs are not in these outputs; add them as CIDR rules to judge by it)`,
      )
    }
  }
  return rules
}

/** `us-east-1a` → `us-east-1`; Local Zones (`us-west-2-lax-1a`) → `us-west-2`. */
export function regionOfZone(zone: string): string | null {
  const m = /^([a-z]{2}(?:-gov)?-[a-z]+-\d+)/.exec(zone)
  return m?.[1] ?? null
}

export function importAwsDescribe(outputs: AwsDescribeOutputs, options: ImportOptions = {}): ImportResult {
  const notes: string[] = []
  const owners = new Set<string>()
  const regions = new Set<string>()

  // Security groups.
  const sg = new Reader(outputs.securityGroups.name)
  const groups: ImportedConfig['securityGroups'] = []
  const groupIds = new Set<string>()
  for (const [at, g] of sg.top(outputs.securityGroups.json, 'SecurityGroups')) {
    const id = sg.text(g, 'GroupId', at)
    const owner = sg.optionalText(g, 'OwnerId', at)
    if (owner !== undefined) owners.add(owner)
    const name = sg.optionalText(g, 'GroupName', at)
    const text = sg.optionalText(g, 'Description', at)
    const description =
      name === undefined || name === text ? text : text === undefined ? name : `${name}: ${text}`
    const vpc = sg.optionalText(g, 'VpcId', at)
    groups.push({
      id,
      ...(vpc === undefined ? {} : { vpc }),
      ...(description === undefined ? {} : { description: description.slice(0, 255) }),
      inbound: convertRules(sg, g.IpPermissions, `${at}.IpPermissions`, id, 'source', notes),
      outbound: convertRules(
        sg,
        g.IpPermissionsEgress,
        `${at}.IpPermissionsEgress`,
        id,
        'destination',
        notes,
      ),
    })
    groupIds.add(id)
  }
  // A rule may name a group that is not in the output (another account's, or filtered out by the
  // describe call): it stays, on an empty group, so it matches nobody rather than being dropped.
  const referenced = new Map<string, string>()
  for (const g of groups)
    for (const rule of [...g.inbound, ...g.outbound]) {
      const peer = rule.source ?? rule.destination ?? ''
      if (peer.startsWith('sg-') && !groupIds.has(peer) && !referenced.has(peer)) referenced.set(peer, g.id)
    }
  for (const [id, by] of referenced) {
    groups.push({
      id,
      description: `referenced by ${by}; not in the describe-security-groups output`,
      inbound: [],
      outbound: [],
    })
    notes.push(
      `${id} (named by a rule of ${by}) is not in ${sg.name}: it is added without rules or members, so the rule matches no address`,
    )
  }

  // VPCs and subnets, when given.
  const vpcs = new Map<string, { cidrs: string[]; given: boolean }>()
  if (outputs.vpcs !== undefined) {
    const vr = new Reader(outputs.vpcs.name)
    for (const [at, v] of vr.top(outputs.vpcs.json, 'Vpcs')) {
      const cidrs: string[] = []
      for (const [cat, c] of vr.objects(v.CidrBlockAssociationSet, `${at}.CidrBlockAssociationSet`)) {
        const state = isObject(c.CidrBlockState) ? c.CidrBlockState.State : undefined
        if (state === undefined || state === 'associated') cidrs.push(vr.text(c, 'CidrBlock', cat))
      }
      if (cidrs.length === 0) cidrs.push(vr.text(v, 'CidrBlock', at))
      for (const [cat, c] of vr.objects(v.Ipv6CidrBlockAssociationSet, `${at}.Ipv6CidrBlockAssociationSet`)) {
        const state = isObject(c.Ipv6CidrBlockState) ? c.Ipv6CidrBlockState.State : undefined
        if (state === undefined || state === 'associated') cidrs.push(vr.text(c, 'Ipv6CidrBlock', cat))
      }
      const owner = vr.optionalText(v, 'OwnerId', at)
      if (owner !== undefined) owners.add(owner)
      vpcs.set(vr.text(v, 'VpcId', at), { cidrs, given: true })
    }
  }
  const subnets = new Map<string, { vpc: string; cidrs: string[]; az?: string; given: boolean }>()
  if (outputs.subnets !== undefined) {
    const sr = new Reader(outputs.subnets.name)
    for (const [at, s] of sr.top(outputs.subnets.json, 'Subnets')) {
      const cidrs: string[] = []
      const v4 = sr.optionalText(s, 'CidrBlock', at)
      if (v4 !== undefined) cidrs.push(v4)
      for (const [cat, c] of sr.objects(s.Ipv6CidrBlockAssociationSet, `${at}.Ipv6CidrBlockAssociationSet`)) {
        const state = isObject(c.Ipv6CidrBlockState) ? c.Ipv6CidrBlockState.State : undefined
        if (state === undefined || state === 'associated') cidrs.push(sr.text(c, 'Ipv6CidrBlock', cat))
      }
      const zone = sr.optionalText(s, 'AvailabilityZone', at)
      const region = zone === undefined ? null : regionOfZone(zone)
      if (region !== null) regions.add(region)
      const az = sr.optionalText(s, 'AvailabilityZoneId', at) ?? zone
      subnets.set(sr.text(s, 'SubnetId', at), {
        vpc: sr.text(s, 'VpcId', at),
        cidrs,
        ...(az === undefined ? {} : { az }),
        given: true,
      })
    }
  }

  // Interfaces.
  const nr = new Reader(outputs.networkInterfaces.name)
  const interfaces: ImportedConfig['interfaces'] = []
  for (const [at, n] of nr.top(outputs.networkInterfaces.json, 'NetworkInterfaces')) {
    const id = nr.text(n, 'NetworkInterfaceId', at)
    const groupsOf = nr.objects(n.Groups, `${at}.Groups`).map(([gat, g]) => nr.text(g, 'GroupId', gat))
    if (groupsOf.length === 0) {
      const type = nr.optionalText(n, 'InterfaceType', at) ?? 'interface'
      notes.push(`${id} (${type}) has no security groups: left out, as groups do not filter its traffic`)
      continue
    }
    const owner = nr.optionalText(n, 'OwnerId', at)
    if (owner !== undefined) owners.add(owner)
    const zone = nr.optionalText(n, 'AvailabilityZone', at)
    const region = zone === undefined ? null : regionOfZone(zone)
    if (region !== null) regions.add(region)
    const primary = nr.optionalText(n, 'PrivateIpAddress', at)
    const addresses: string[] = primary === undefined ? [] : [primary]
    for (const [aat, a] of nr.objects(n.PrivateIpAddresses, `${at}.PrivateIpAddresses`)) {
      const address = nr.text(a, 'PrivateIpAddress', aat)
      if (!addresses.includes(address)) addresses.push(address)
    }
    for (const [aat, a] of nr.objects(n.Ipv6Addresses, `${at}.Ipv6Addresses`)) {
      const address = nr.text(a, 'Ipv6Address', aat)
      if (!addresses.includes(address)) addresses.push(address)
    }
    if (addresses.length === 0) nr.fail(`${at}.PrivateIpAddresses`, n.PrivateIpAddresses, 'holds no address')
    const subnet = nr.text(n, 'SubnetId', at)
    const vpc = nr.text(n, 'VpcId', at)
    for (const g of groupsOf) {
      if (!groupIds.has(g)) {
        nr.fail(
          `${at}.Groups`,
          g,
          `is not a security group of ${sg.name} (describe the groups of every interface)`,
        )
      }
    }
    const attachment = isObject(n.Attachment) ? n.Attachment : {}
    const instance = nr.optionalText(attachment, 'InstanceId', `${at}.Attachment`)
    const mac = nr.optionalText(n, 'MacAddress', at)
    interfaces.push({
      id,
      ...(instance === undefined ? {} : { instance }),
      subnet,
      ...(mac === undefined ? {} : { mac }),
      addresses,
      securityGroups: groupsOf,
    })
    // Subnets and VPCs not described: the interface's own addresses stand in for their CIDRs.
    const hosts = addresses.map((a) => (a.includes(':') ? `${a}/128` : `${a}/32`))
    const known = subnets.get(subnet)
    if (known === undefined) {
      subnets.set(subnet, { vpc, cidrs: hosts, ...(zone === undefined ? {} : { az: zone }), given: false })
    } else if (!known.given) known.cidrs.push(...hosts)
    const knownVpc = vpcs.get(vpc)
    if (knownVpc === undefined) vpcs.set(vpc, { cidrs: [], given: false })
  }

  // Every VPC lists its subnets; a VPC not described has its subnets' CIDRs.
  const standIns = [...subnets].filter(([, s]) => !s.given).map(([id]) => id)
  if (standIns.length > 0)
    notes.push(
      `subnet(s) ${standIns.join(', ')} not described (--subnets): their CIDRs are their interfaces' addresses`,
    )
  for (const [id, s] of subnets) {
    if (!vpcs.has(s.vpc)) vpcs.set(s.vpc, { cidrs: [], given: false })
    const v = vpcs.get(s.vpc)
    if (v !== undefined && !v.given) for (const c of s.cidrs) if (!v.cidrs.includes(c)) v.cidrs.push(c)
    if (s.cidrs.length === 0) notes.push(`subnet ${id} has no CIDR in the output`)
  }
  const vpcStandIns = [...vpcs].filter(([, v]) => !v.given).map(([id]) => id)
  if (vpcStandIns.length > 0)
    notes.push(
      `VPC(s) ${vpcStandIns.join(', ')} not described (--vpcs): their CIDRs are their subnets', so addresses elsewhere in them count as outside`,
    )

  const account = options.account ?? single(owners, 'account', 'OwnerId', '--account')
  const region = options.region ?? single(regions, 'region', 'AvailabilityZone', '--region')
  return {
    config: {
      account,
      region,
      vpcs: [...vpcs]
        .filter(([, v]) => v.cidrs.length > 0)
        .map(([id, v]) => ({
          id,
          cidrs: v.cidrs,
          subnets: [...subnets]
            .filter(([, s]) => s.vpc === id && s.cidrs.length > 0)
            .map(([sid, s]) => ({ id: sid, cidrs: s.cidrs, ...(s.az === undefined ? {} : { az: s.az }) })),
        })),
      securityGroups: groups,
      interfaces,
    },
    notes,
  }
}

function single(values: Set<string>, what: string, key: string, option: string): string {
  const [first, ...rest] = values
  if (first === undefined) throw new InputError(`no ${what} in the outputs (no ${key}): give ${option}`)
  if (rest.length > 0)
    throw new InputError(
      `the outputs span ${values.size} ${what}s (${[...values].join(', ')}): give ${option}`,
    )
  return first
}
