import { type Cidr, cidrContains, parseAddress, parseCidr, parseMac } from '../core/address.js'
import type { FileFormat } from '../core/network.js'
import { resolveFields } from './flow-log-fields.js'
import { formatPath, type Path, problem } from './problems.js'
import { checkCidr, checkProtocol, isCidrLike } from './rules.js'
import { defaultRuleId, normaliseRule } from './security-group-rule.js'

/**
 * Checks that span keys or parts of the config: unique ids, references (subnet, groups, flow-log
 * resources), addresses inside their subnet, and the multi-key rules of rules and flow logs.
 * They read the raw document defensively, so they run even when the schema found problems
 * elsewhere and one run lists every problem; a value the schema rejects is skipped here.
 */

type Raw = Record<string, unknown>

const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

/** The objects of a list, each with its index (non-objects are the schema's to report). */
function items(v: unknown): [number, Raw][] {
  if (!Array.isArray(v)) return []
  const out: [number, Raw][] = []
  v.forEach((item, i) => {
    if (isObject(item)) out.push([i, item])
  })
  return out
}

function strings(v: unknown): [number, string][] {
  if (!Array.isArray(v)) return []
  const out: [number, string][] = []
  v.forEach((item, i) => {
    if (typeof item === 'string') out.push([i, item])
  })
  return out
}

/** The valid CIDRs of a list, and whether every entry was one (a bad one is the schema's to report). */
function cidrs(v: unknown): { list: [number, Cidr][]; complete: boolean } {
  const list: [number, Cidr][] = []
  for (const [i, text] of strings(v)) {
    const c = checkCidr(text, false).ok ? parseCidr(text) : 'invalid'
    if (typeof c !== 'string') list.push([i, c])
  }
  return { list, complete: Array.isArray(v) && list.length === v.length }
}

const isV4 = (c: Cidr) => c.prefix >= 96 && !c.text.includes(':')

function overlaps(a: Cidr, b: Cidr): boolean {
  return a.prefix <= b.prefix ? cidrContains(a, b.words) : cidrContains(b, a.words)
}

function within(inner: Cidr, outers: readonly Cidr[]): boolean {
  return outers.some(
    (o) => o.prefix <= inner.prefix && isV4(o) === isV4(inner) && cidrContains(o, inner.words),
  )
}

/**
 * The ids of one namespace: reports the second use of one, and answers whether an id is defined.
 * When part of the namespace could not be read (a list that is not a list, an item without an id)
 * every id counts as defined, so one broken part does not bury the config in follow-on problems.
 */
class IdRegistry {
  readonly #where = new Map<string, string>()
  #complete = true
  constructor(private readonly problems: string[]) {}
  add(id: unknown, path: Path, label: string): void {
    if (typeof id !== 'string') {
      this.#complete = false
      return
    }
    const first = this.#where.get(id)
    if (first !== undefined) this.problems.push(problem(path, id, `is already the id of ${first}`))
    else this.#where.set(id, label)
  }
  /** Items of a list that the schema rejects as a whole. */
  readList(list: unknown): void {
    if (list !== undefined && (!Array.isArray(list) || list.some((x) => !isObject(x)))) this.#complete = false
  }
  get complete(): boolean {
    return this.#complete
  }
  defines(id: string): boolean {
    return !this.#complete || this.#where.has(id)
  }
}

const label = formatPath

export function crossCheck(raw: unknown): string[] {
  const problems: string[] = []
  if (!isObject(raw)) return problems

  // VPCs, subnets and interfaces share one namespace: a flow log's resource names any of them.
  const resources = new IdRegistry(problems)
  const groups = new IdRegistry(problems)
  const ruleIds = new IdRegistry(problems)
  const flowLogs = new IdRegistry(problems)
  const vpcs = new IdRegistry(problems)
  const subnetInfo = new Map<string, { vpc: string | undefined; cidrs: Cidr[] | null; label: string }>()

  resources.readList(raw.vpcs)
  vpcs.readList(raw.vpcs)
  for (const [v, vpc] of items(raw.vpcs)) {
    const vpcPath = ['vpcs', v]
    resources.add(vpc.id, [...vpcPath, 'id'], label(vpcPath))
    vpcs.add(vpc.id, [...vpcPath, 'id'], label(vpcPath))
    const vpcId = str(vpc.id)
    const vpcCidrs = cidrs(vpc.cidrs)
    const seen: { cidr: Cidr; label: string }[] = []
    resources.readList(vpc.subnets)
    for (const [s, subnet] of items(vpc.subnets)) {
      const subnetPath = [...vpcPath, 'subnets', s]
      resources.add(subnet.id, [...subnetPath, 'id'], label(subnetPath))
      const subnetCidrs = cidrs(subnet.cidrs)
      for (const [c, cidr] of subnetCidrs.list) {
        const path = [...subnetPath, 'cidrs', c]
        // AWS: a subnet lies inside its VPC; the IPv6 blocks are checked only if the VPC lists any.
        const sameFamily = vpcCidrs.list.map(([, o]) => o).filter((o) => isV4(o) === isV4(cidr))
        if (vpcCidrs.complete && (isV4(cidr) || sameFamily.length > 0) && !within(cidr, sameFamily)) {
          problems.push(
            problem(
              path,
              cidr.text,
              `is not inside the VPC's CIDRs (${sameFamily.map((o) => o.text).join(', ') || 'none of its family'})`,
            ),
          )
        }
        const clash = seen.find((o) => isV4(o.cidr) === isV4(cidr) && overlaps(o.cidr, cidr))
        if (clash !== undefined)
          problems.push(problem(path, cidr.text, `overlaps ${clash.label} (${clash.cidr.text})`))
        seen.push({ cidr, label: label(path) })
      }
      const subnetId = str(subnet.id)
      if (subnetId !== undefined && !subnetInfo.has(subnetId)) {
        const known = subnetCidrs.complete ? subnetCidrs.list.map(([, c]) => c) : null
        subnetInfo.set(subnetId, { vpc: vpcId, cidrs: known, label: subnetId })
      }
    }
  }

  // The VPC of each group, when it names one that exists.
  const groupVpc = new Map<string, string | undefined>()
  groups.readList(raw.securityGroups)
  for (const [g, group] of items(raw.securityGroups)) {
    groups.add(group.id, ['securityGroups', g, 'id'], label(['securityGroups', g]))
    const groupId = str(group.id)
    let vpc = str(group.vpc)
    if (vpc !== undefined && !vpcs.defines(vpc)) {
      problems.push(problem(['securityGroups', g, 'vpc'], vpc, 'is not a VPC defined in vpcs'))
      vpc = undefined
    }
    if (groupId !== undefined && !groupVpc.has(groupId)) groupVpc.set(groupId, vpc)
  }

  const groupRefs: { path: Path; id: string }[] = []
  for (const [g, group] of items(raw.securityGroups)) {
    const groupId = str(group.id)
    for (const [kind, key, peerKey] of [
      ['in', 'inbound', 'source'],
      ['out', 'outbound', 'destination'],
    ] as const) {
      for (const [r, rule] of items(group[key])) {
        const rulePath = ['securityGroups', g, key, r]
        const ruleId = rule.id ?? (groupId !== undefined ? defaultRuleId(groupId, kind, r) : undefined)
        ruleIds.add(ruleId, [...rulePath, 'id'], label(rulePath))
        const peer = str(rule[peerKey])
        if (peer !== undefined && !isCidrLike(peer))
          groupRefs.push({ path: [...rulePath, peerKey], id: peer })
        const protocol =
          typeof rule.protocol === 'string' || typeof rule.protocol === 'number'
            ? checkProtocol(rule.protocol)
            : null
        if (protocol?.ok !== true) continue
        const ports =
          typeof rule.ports === 'string' || typeof rule.ports === 'number' ? rule.ports : undefined
        const icmp = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? v : undefined)
        const { problems: ruleProblems } = normaliseRule({
          protocol: protocol.value,
          ports,
          icmpType: icmp(rule.icmpType),
          icmpCode: icmp(rule.icmpCode),
        })
        for (const p of ruleProblems) problems.push(problem([...rulePath, p.key], p.value, p.rule))
      }
    }
  }
  for (const ref of groupRefs) {
    if (!groups.defines(ref.id))
      problems.push(problem(ref.path, ref.id, 'is not a security group defined in securityGroups'))
  }

  const addressOwner = new Map<string, string>()
  const macOwner = new Map<number, string>()
  const scratch = new Uint32Array(4)
  resources.readList(raw.interfaces)
  for (const [n, nic] of items(raw.interfaces)) {
    const nicPath = ['interfaces', n]
    resources.add(nic.id, [...nicPath, 'id'], label(nicPath))
    const subnetId = str(nic.subnet)
    const subnet = subnetId !== undefined ? subnetInfo.get(subnetId) : undefined
    if (subnetId !== undefined && subnet === undefined && resources.complete) {
      problems.push(problem([...nicPath, 'subnet'], subnetId, 'is not a subnet defined in vpcs[].subnets'))
    }
    for (const [a, text] of strings(nic.addresses)) {
      if (!parseAddress(text, scratch)) continue
      const path = [...nicPath, 'addresses', a]
      const host = parseCidr(text) as Cidr
      const v4 = scratch[0] === 0 && scratch[1] === 0 && scratch[2] === 0xffff
      // Addresses are unique within a VPC (another VPC may reuse the same private range).
      const key = `${subnet?.vpc ?? ''} ${host.text}`
      const owner = addressOwner.get(key)
      if (owner !== undefined) problems.push(problem(path, text, `is already an address of ${owner}`))
      else addressOwner.set(key, label(nicPath))
      if (subnet?.cidrs == null) continue
      const family = subnet.cidrs.filter((c) => isV4(c) === v4)
      if ((v4 || family.length > 0) && !family.some((c) => cidrContains(c, scratch))) {
        const list = family.map((c) => c.text).join(', ') || `no IPv${v4 ? 4 : 6} CIDR`
        problems.push(problem(path, text, `is not inside subnet ${subnet.label} (${list})`))
      }
    }
    const mac = str(nic.mac)
    if (mac !== undefined && parseMac(mac) >= 0) {
      const owner = macOwner.get(parseMac(mac))
      if (owner !== undefined)
        problems.push(problem([...nicPath, 'mac'], mac, `is already the MAC of ${owner}`))
      else macOwner.set(parseMac(mac), label(nicPath))
    }
    const listed = new Set<string>()
    for (const [i, groupId] of strings(nic.securityGroups)) {
      const path = [...nicPath, 'securityGroups', i]
      if (listed.has(groupId)) problems.push(problem(path, groupId, 'is listed twice'))
      listed.add(groupId)
      if (!groups.defines(groupId)) {
        problems.push(problem(path, groupId, 'is not a security group defined in securityGroups'))
        continue
      }
      const groupVpcId = groupVpc.get(groupId)
      if (groupVpcId !== undefined && subnet?.vpc !== undefined && groupVpcId !== subnet.vpc) {
        problems.push(
          problem(path, groupId, `belongs to ${groupVpcId}, but the interface is in ${subnet.vpc}`),
        )
      }
    }
  }

  for (const [f, log] of items(raw.flowLogs)) {
    const logPath = ['flowLogs', f]
    flowLogs.add(log.id, [...logPath, 'id'], label(logPath))
    const resource = str(log.resource)
    if (resource !== undefined && !resources.defines(resource)) {
      problems.push(
        problem(
          [...logPath, 'resource'],
          resource,
          'is not a VPC, subnet or interface defined in this config',
        ),
      )
    }
    const layout = log.layout ?? 'aws'
    if (log.fileNameTemplate !== undefined && layout !== 'nhn' && typeof layout === 'string') {
      problems.push(
        problem(
          [...logPath, 'fileNameTemplate'],
          log.fileNameTemplate,
          `applies only to layout nhn (this flow log has layout ${layout})`,
        ),
      )
    }
    const format = log.fileFormat ?? 'text'
    if (format !== 'text' && format !== 'nhn-csv' && format !== 'jsonl' && format !== 'parquet') continue
    const logFormat = str(log.logFormat)
    const fields = Array.isArray(log.fields)
      ? log.fields.filter((x): x is string => typeof x === 'string')
      : undefined
    // A list with non-strings is the schema's problem; its string entries would be misnumbered here.
    if (fields !== undefined && Array.isArray(log.fields) && fields.length !== log.fields.length) continue
    if (log.logFormat !== undefined && logFormat === undefined) continue
    const resolved = resolveFields(format as FileFormat, logFormat, fields)
    for (const p of resolved.problems) problems.push(problem([...logPath, ...p.path], p.value, p.rule))
  }
  return problems
}
