import { isCidrLike } from '../config/rules.js'
import type { NetworkConfig, SecurityGroupRule } from '../core/network.js'
import { DIRECTION } from '../core/verdict.js'
import {
  type CompiledPolicy,
  type CompiledRule,
  compilePolicy,
  protocolNumber,
} from '../policy/compile-policy.js'
import { platformRules, vpcResolvers } from '../policy/platform-services.js'
import {
  auditSingleColumns,
  creditSingles,
  peersOfSingles,
  type SinglesCredit,
  shadowsOfSingles,
} from './audit-singles.js'
import { FirstSeenCounts } from './first-seen-counts.js'
import type { FlowRows } from './flow-row.js'
import {
  addTuple,
  DEFAULT_LEAST_PRIVILEGE_LIMITS,
  emptyUsage,
  type LeastPrivilegeLimits,
  leastPrivilege,
  type RuleUsage,
  rangesRead,
} from './least-privilege.js'
import { type JudgeProgress, type PlacedFlow, PROGRESS_STEP, Replay } from './rejudge.js'
import { type ReplayOptions, type ReplaySource, replaySource } from './replay-order.js'
import { portRange, RuleMatcher } from './rule-match.js'
import { ruleText } from './rule-text.js'

/**
 * `flowlog audit`: what the recorded traffic says about the security groups of a config.
 * - which rules carried traffic: from the records' `rule-id` when every accepted record has one,
 *   else by re-judging the records with the policy engine (rejudge.ts);
 * - rules that carried nothing: unused, or shadowed (an earlier rule of the interface's groups
 *   already accepted all they would have);
 * - rules open to the whole internet on ports that give a shell or hold data;
 * - for every rule that carried traffic, the narrowest rules that carry the same (least-privilege.ts).
 * A rule counts the records of its own direction only: answers ride on the connection, not the rule.
 * Groups none of whose interfaces appear in the records are reported as not covered, not as unused.
 */

/** Ports that give a shell or a desktop, or hold data: never to be open to the internet. */
export const SENSITIVE_PORTS: ReadonlyMap<number, string> = new Map([
  [22, 'ssh'],
  [23, 'telnet'],
  [3389, 'rdp'],
  [5900, 'vnc'],
  [5985, 'winrm'],
  [5986, 'winrm-https'],
  [1433, 'mssql'],
  [1521, 'oracle'],
  [3306, 'mysql'],
  [5432, 'postgresql'],
  [6379, 'redis'],
  [9200, 'elasticsearch'],
  [11211, 'memcached'],
  [27017, 'mongodb'],
])

export type RuleStatus = 'used' | 'unused' | 'shadowed' | 'not-covered'

export interface RuleAudit {
  id: string
  group: string
  direction: 'inbound' | 'outbound'
  rule: SecurityGroupRule
  /** `inbound tcp 22 from 0.0.0.0/0`. */
  text: string
  status: RuleStatus
  /** Interfaces that have the rule's group. */
  interfaces: string[]
  usage: RuleUsage | null
  /** Unused rules whose traffic an earlier rule took: that rule's id → records. */
  shadowedBy: Record<string, number>
  /** `open to 0.0.0.0/0 on tcp 22 (ssh)`, ... */
  exposure: string[]
  /** Why the least-privilege rules are narrower; empty when the rule is already as narrow as its traffic. */
  narrower: string[]
  /** The rules to replace it with (empty: remove it; the rule itself when nothing is known). */
  leastPrivilege: SecurityGroupRule[]
  /** Why the rule is kept as it is though its traffic is narrower (public by intent); else null. */
  kept: string | null
}

export interface AuditResult {
  /** How rules were attributed to records. */
  method: 'rule-id' | 're-judged'
  records: number
  placed: number
  /**
   * Accepted records of the cloud's own services (DNS to the VPC resolver, metadata, DHCP, ...),
   * which security groups never filter: credited to no rule, so no rule is kept or proposed for them.
   */
  platform: number
  skipped: { unknownInterface: number; noTime: number; noAddresses: number }
  /** Rule ids in records that the config does not have (records of another config?). */
  unknownRuleIds: Record<string, number>
  first: number | null
  last: number | null
  rules: RuleAudit[]
}

export interface AuditOptions extends ReplayOptions {
  limits?: LeastPrivilegeLimits
  /** Told how far the re-judging replay is (a progress bar), when the records carry no rule-id. */
  onProgress?: JudgeProgress
  /** Narrow rules that are public by intent too (publicIntent); by default they are kept. */
  narrowPublic?: boolean
}

export async function audit(
  rows: FlowRows,
  network: NetworkConfig,
  options: AuditOptions = {},
): Promise<AuditResult> {
  const policy = compilePolicy(network)
  const source = await replaySource(rows, network, policy, {
    ...options,
    singles: options.singles ?? true,
    singleColumns: auditSingleColumns(network, policy),
  })
  try {
    return await auditReplay(source, network, policy, options)
  } finally {
    source.close()
  }
}

/**
 * Goes once through the records in replay order, keeping per rule what it carried (least-privilege
 * tuples) and, for each rule that has carried nothing yet, how many accepted records of each other
 * rule of its interfaces it would have matched (for shadowing): counts per pair of rules, never
 * the records, so memory does not grow with them.
 */
async function auditReplay(
  source: ReplaySource,
  network: NetworkConfig,
  policy: CompiledPolicy,
  options: AuditOptions,
): Promise<AuditResult> {
  const ruleIndex = new Map(policy.ruleIds.map((id, i) => [id, i]))
  const method = source.namesRules ? 'rule-id' : 're-judged'
  const replay = method === 're-judged' ? new Replay(source.index, [policy]) : null
  // The rule each record is attributed to (-1: none, rejected).
  const unknownRuleIds = new FirstSeenCounts()
  let group = Number.NaN
  const causeOf = (p: PlacedFlow): number => {
    if (replay !== null) {
      // The records come a conversation group at a time: the next group's connections are new.
      if (p.group !== group) {
        group = p.group
        replay.clear()
      }
      return replay.judge(p)
    }
    if (p.flow.action !== 'ACCEPT' || p.flow.ruleId === null) return -1
    const i = ruleIndex.get(p.flow.ruleId)
    if (i === undefined) unknownRuleIds.add(p.flow.ruleId, p)
    return i ?? -1
  }

  const ownDirection = (p: PlacedFlow): 'inbound' | 'outbound' =>
    p.direction === DIRECTION.EGRESS ? 'outbound' : 'inbound'
  const usage = new Map<number, RuleUsage>()
  const matcher = new RuleMatcher(network)
  const platformOf = platformMatcher(network, matcher)
  let platform = 0
  // The audited rules of each interface's groups, inbound and outbound: what its records may shadow.
  const auditedOn = network.interfaces.map((nic) =>
    (['inbound', 'outbound'] as const).map((direction) =>
      policy.rules.flatMap((c, r) =>
        !c.implicit && c.direction === direction && nic.securityGroups.includes(c.group) ? [r] : [],
      ),
    ),
  )
  // Rule → the rules whose accepted records it would have matched → records, in order first seen.
  // A rule that carries traffic is never shadowed: its counts stop (and are dropped) then.
  const shadows = new Map<number, FirstSeenCounts>()
  // Interfaces that have records: a flag per interface, set for every record.
  const covered = new Uint8Array(network.interfaces.length)
  let first = Number.POSITIVE_INFINITY
  let last = Number.NEGATIVE_INFINITY
  const singles = source.singles
  let singlePeers: SinglesCredit['peers'] = new Map()
  if (singles !== null) {
    // The records alone in their connection, counted by DuckDB; the replay adds the others.
    const credit = await creditSingles(singles)
    for (const [r, u] of credit.usage) usage.set(r, u)
    singlePeers = credit.peers
    for (const i of credit.covered) covered[i] = 1
    platform += credit.platform
    first = credit.first
    last = credit.last
  }
  let judged = 0
  for await (const batch of source.batches()) {
    for (const p of batch) {
      const r = causeOf(p)
      judged++
      if (replay !== null && options.onProgress !== undefined && judged % PROGRESS_STEP === 0)
        options.onProgress(judged, source.expected)
      covered[p.iface] = 1
      first = Math.min(first, p.time)
      last = Math.max(last, p.flow.end ?? p.time)
      const rule = policy.rules[r]
      if (r < 0 || rule === undefined || rule.direction !== ownDirection(p)) continue
      if (platformOf(p, rule.direction)) {
        platform++
        continue
      }
      const f = p.flow
      const by = policy.ruleIds[r] ?? '?'
      for (const other of auditedOn[p.iface]?.[rule.direction === 'inbound' ? 0 : 1] ?? []) {
        if (other === r || usage.has(other)) continue
        const shadowed = policy.rules[other]
        if (shadowed === undefined || !matcher.matches(shadowed.rule, rule.direction, f, p.words)) continue
        let counts = shadows.get(other)
        if (counts === undefined) {
          counts = new FirstSeenCounts()
          shadows.set(other, counts)
        }
        counts.add(by, p)
      }
      let u = usage.get(r)
      if (u === undefined) {
        u = emptyUsage()
        usage.set(r, u)
        shadows.delete(r)
      }
      addUsage(u, p, rule.direction)
    }
  }
  if (replay !== null) options.onProgress?.(judged, judged)
  replay?.finish()
  if (singles !== null) {
    // A rule that carried nothing, in either part, may have been shadowed by single records too.
    const unused = policy.rules.flatMap((_, r) => (usage.has(r) ? [] : [r]))
    for (const s of await shadowsOfSingles(singles, network, policy, unused)) {
      let counts = shadows.get(s.rule)
      if (counts === undefined) {
        counts = new FirstSeenCounts()
        shadows.set(s.rule, counts)
      }
      counts.addCount(policy.ruleIds[s.by] ?? '?', s.records, s.first)
    }
  }

  const limits = options.limits ?? DEFAULT_LEAST_PRIVILEGE_LIMITS
  // The platform services' allowance is no group's rule: nothing to narrow, keep or remove.
  const audited = policy.rules.flatMap((compiled, r) => (compiled.implicit ? [] : [{ compiled, r }]))
  // A used rule is kept as it is when it is public by intent (unless asked), else narrowed.
  const keptOf = ({ rule, direction }: CompiledRule): string | null => {
    const intent = publicIntent(rule, direction)
    return intent !== null && options.narrowPublic !== true ? intent : null
  }
  if (singles !== null) {
    // The single records' peers of each port range the narrowed rules will have.
    const narrowed = audited.flatMap(({ compiled, r }) => {
      const u = usage.get(r)
      return u === undefined || keptOf(compiled) !== null
        ? []
        : [{ rule: r, ranges: rangesRead(compiled.rule, u, limits) }]
    })
    await peersOfSingles(singles, usage, narrowed, singlePeers)
  }
  const rules: RuleAudit[] = audited.map(({ compiled, r }) => {
    const { rule, group, direction } = compiled
    const members = network.interfaces.flatMap((nic, i) => (nic.securityGroups.includes(group) ? [i] : []))
    const u = usage.get(r) ?? null
    const shadowedBy: Record<string, number> = {}
    let status: RuleStatus
    if (u !== null) status = 'used'
    else if (!members.some((i) => covered[i] === 1)) status = 'not-covered'
    else {
      for (const [by, records] of shadows.get(r)?.entries() ?? []) shadowedBy[by] = records
      status = Object.keys(shadowedBy).length > 0 ? 'shadowed' : 'unused'
    }
    const kept = status === 'used' ? keptOf(compiled) : null
    const lp = u === null || kept !== null ? null : leastPrivilege(rule, direction, u, limits)
    return {
      id: rule.id,
      group,
      direction,
      rule,
      text: ruleText(rule, direction),
      status,
      interfaces: members.map((i) => network.interfaces[i]?.id ?? '?'),
      usage: u,
      shadowedBy,
      exposure: exposureOf(rule, direction),
      narrower: lp?.narrower ?? [],
      kept,
      leastPrivilege:
        status === 'not-covered' || kept !== null
          ? [rule]
          : lp === null
            ? []
            : lp.rules.map((x, k) => ({ ...x, id: k === 0 ? rule.id : `${rule.id}-${k + 1}` })),
    }
  })
  uniqueIds(rules)

  return {
    method,
    records: source.records,
    placed: source.placed,
    platform,
    skipped: source.skipped,
    unknownRuleIds: Object.fromEntries(unknownRuleIds.entries()),
    first: source.placed > 0 ? first : null,
    last: source.placed > 0 ? last : null,
    rules,
  }
}

function addUsage(u: RuleUsage, p: PlacedFlow, direction: 'inbound' | 'outbound'): void {
  const f = p.flow
  u.records++
  u.packets += f.packets
  u.bytes += f.bytes
  u.first = Math.min(u.first, p.time)
  u.last = Math.max(u.last, f.end ?? p.time)
  const peer = RuleMatcher.peerOf(f, direction)
  const protocol = f.protocol ?? 0
  // A record without a port, or with one no packet has (70000, 1.5: a malformed record), keeps
  // its rule's ports in least privilege: which port it used is unknown.
  const dstport = f.dstport
  const known = dstport !== null && Number.isInteger(dstport) && dstport >= 0 && dstport <= 65535
  const port = (protocol === 6 || protocol === 17) && known ? dstport : -1
  if (peer === null) return
  // An IPv4 peer's key is its address word, parsed already (and written as IPv4: no ':').
  const at = direction === 'inbound' ? 3 : 7
  addTuple(u, protocol, port, peer.includes(':') ? peer : (p.words[at] ?? 0) | 0)
}

/**
 * A rule public by intent, which least privilege must not narrow to the visitors one log happened
 * to see: open to the whole internet on HTTP or HTTPS, or described as public. Null otherwise.
 */
export function publicIntent(rule: SecurityGroupRule, direction: 'inbound' | 'outbound'): string | null {
  if (direction !== 'inbound') return null
  const everyone = rule.peer === '0.0.0.0/0' || rule.peer === '::/0'
  const web = protocolNumber(rule.protocol) === 6 && (rule.ports === '80' || rule.ports === '443')
  if (everyone && web) return `open to ${rule.peer} on tcp ${rule.ports}: a public web service`
  if (rule.description !== null && /\b(public|internet|world|everyone|anyone)\b/i.test(rule.description))
    return `described as public ("${rule.description}")`
  return null
}

/**
 * Whether a record is traffic of the cloud's own services on its interface (platform-services.ts):
 * what the platform allowance would accept in the rule's direction.
 */
function platformMatcher(
  network: NetworkConfig,
  matcher: RuleMatcher,
): (p: PlacedFlow, direction: 'inbound' | 'outbound') => boolean {
  const resolvers = vpcResolvers(network)
  const tests = network.interfaces.map((_, i) => {
    const rules = platformRules(resolvers[i] ?? null)
    return {
      inbound: matcher.anyOf(rules.inbound, 'inbound'),
      outbound: matcher.anyOf(rules.outbound, 'outbound'),
    }
  })
  return (p, direction) => tests[p.iface]?.[direction](p.flow, p.words) ?? false
}

/** Inbound rules that let the whole internet reach a sensitive port. */
function exposureOf(rule: SecurityGroupRule, direction: 'inbound' | 'outbound'): string[] {
  if (direction !== 'inbound' || !isCidrLike(rule.peer) || !/\/0$/.test(rule.peer)) return []
  const protocol = protocolNumber(rule.protocol)
  if (protocol !== -1 && protocol !== 6 && protocol !== 17) return []
  const [from, to] = rule.ports === null || protocol === -1 ? [0, 65535] : portRange(rule.ports)
  const exposed = [...SENSITIVE_PORTS].filter(([port]) => port >= from && port <= to)
  // A UDP rule exposes none of these TCP services; RDP also speaks UDP 3389.
  const relevant = protocol === 17 ? exposed.filter(([port]) => port === 3389) : exposed
  if (relevant.length === 0) return []
  const name = protocol === -1 ? 'all traffic' : `${rule.protocol} ${rule.ports ?? 'all ports'}`
  const only = relevant[0]
  if (relevant.length === 1 && only !== undefined && rule.ports === String(only[0])) {
    return [`open to ${rule.peer} on ${name} (${only[1]})`]
  }
  const named = relevant.map(([p, n]) => `${p} (${n})`)
  const list =
    named.length > 4 ? `${named.slice(0, 4).join(', ')} and ${named.length - 4} more` : named.join(', ')
  return [`open to ${rule.peer} on ${name}, including ${list}`]
}

/** A replacement id may collide with another rule's: suffix until unique (ids are global in a config). */
function uniqueIds(rules: RuleAudit[]): void {
  const taken = new Set(rules.map((r) => r.id))
  for (const r of rules) {
    r.leastPrivilege = r.leastPrivilege.map((x, k) => {
      if (k === 0) return x
      let id = x.id
      let n = k + 1
      while (taken.has(id)) id = `${r.id}-${++n}`
      taken.add(id)
      return { ...x, id }
    })
  }
}
