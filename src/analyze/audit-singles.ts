import type { NetworkConfig, SecurityGroupRule } from '../core/network.js'
import type { CompiledPolicy } from '../policy/compile-policy.js'
import { platformRules, vpcResolvers } from '../policy/platform-services.js'
import { type RuleRecordSql, ruleMatchSql } from '../policy/policy-sql.js'
import { emptyUsage, portsOf, type RuleUsage } from './least-privilege.js'
import type { PortPeers } from './port-peers.js'
import type { SingleRecords } from './single-records.js'

/**
 * audit's accounting (audit.ts) of the records that are each the only record of their connection
 * (single-records.ts), done by DuckDB: each is judged as new traffic by the rules (policy-sql.ts),
 * credited to the rule that accepts it when that rule is of its own direction, and counted as the
 * replay would count it, the sums and sets being the same in any order. The rest of the audit
 * replays the other records in JavaScript and adds to these counts.
 */

/** What the single records add to an audit: the same quantities audit.ts keeps for each record. */
export interface SinglesCredit {
  /** Rule index → what the single records it accepted carried (not the platform services' traffic). */
  usage: Map<number, RuleUsage>
  /** Credited records of the platform services. */
  platform: number
  /** Interfaces with single records. */
  covered: number[]
  /** Their earliest start and latest end (±Infinity when there are none). */
  first: number
  last: number
  /** Rule index → protocol → the peers (PeerKeys) of its single records, for peersOfSingles. */
  peers: Map<number, Map<number, number[]>>
}

/** A shadow count: records rule `by` accepted that the unused rule would have matched, and the first. */
export interface ShadowCount {
  rule: number
  by: number
  records: number
  first: { time: number; rank: number; seq: number }
}

/**
 * A record of the relation, as policy-sql.ts reads one. An inbound rule tests the source, an
 * outbound one the destination: each is the record's peer where the rule is asked (an egress
 * record by outbound rules, the others by inbound ones).
 */
const RECORD: RuleRecordSql = {
  protocol: 'protocol',
  dstport: 'coalesce(dstport, 0)',
  src: 'peer',
  dst: 'peer',
}

/**
 * The columns audit has DuckDB work out as the records are placed (ReplayOptions.singleColumns),
 * over a single record: `credits`, whether it is credited to the rule that accepts it (its cause),
 * which it is when that rule is of its own direction (answers ride on the connection, not the
 * rule); `platform`, whether it is credited and the platform services' rules of its interface
 * allow it too. Each statement below reads them rather than working them out again (the platform
 * services' rules alone took 0.5 s a statement at 10 M records); the credited rule is `credited`
 * (CREDITED), the cause of a record that credits it.
 */
export function auditSingleColumns(network: NetworkConfig, policy: CompiledPolicy): Record<string, string> {
  const outboundRules = policy.rules.flatMap((r, i) => (r.direction === 'outbound' ? [i] : []))
  const ruleOutbound = outboundRules.length === 0 ? 'false' : `cause IN (${outboundRules.join(', ')})`
  const credits = `cause >= 0 AND (${ruleOutbound}) = outbound`
  return {
    credits,
    platform: `${credits} AND ${platformSql(network)}`,
  }
}

/** The rule a single record is credited to (SQL over the single records' relation), else NULL. */
const CREDITED = 'CASE WHEN credits THEN cause END'

/** SQL of the credited single records, the platform services' among them. */
function creditedSql(singles: SingleRecords): string {
  return `(SELECT * FROM ${singles.relation} WHERE credits)`
}

/**
 * Whether the platform services' rules of a candidate's interface (one the config has), in its
 * direction, allow it (SQL).
 */
function platformSql(network: NetworkConfig): string {
  // Interfaces of one resolver have the same platform rules.
  const byResolver = new Map<string, number[]>()
  const resolvers = vpcResolvers(network)
  resolvers.forEach((resolver, i) => {
    const key = resolver === null ? '' : Array.from(resolver).join('.')
    byResolver.set(key, [...(byResolver.get(key) ?? []), i])
  })
  const anyOf = (rules: readonly SecurityGroupRule[], direction: 'inbound' | 'outbound') =>
    rules.length === 0
      ? 'false'
      : rules.map((r) => `(${ruleMatchSql(network, r, direction, RECORD)})`).join(' OR ')
  const tests = [...byResolver.values()].map((ifaces) => {
    const rules = platformRules(resolvers[ifaces[0] ?? 0] ?? null)
    return {
      ifaces,
      sql: `CASE WHEN outbound THEN ${anyOf(rules.outbound, 'outbound')} ELSE ${anyOf(rules.inbound, 'inbound')} END`,
    }
  })
  const last = tests.pop()
  if (last === undefined) return 'false'
  // A candidate's interface is one of the config's: the last resolver's need not be listed (a
  // list of every interface, tested on each record, cost more than the rules).
  const cases = tests.map((t) => `WHEN iface IN (${t.ifaces.join(', ')}) THEN ${t.sql}`)
  return cases.length === 0 ? last.sql : `CASE ${cases.join(' ')} ELSE ${last.sql} END`
}

/**
 * The single records' share of an audit's counts (audit.ts, auditReplay). The single records
 * carry auditSingleColumns, as every function here expects.
 */
export async function creditSingles(singles: SingleRecords): Promise<SinglesCredit> {
  const credit: SinglesCredit = {
    usage: new Map(),
    platform: 0,
    covered: [],
    first: Number.POSITIVE_INFINITY,
    last: Number.NEGATIVE_INFINITY,
    peers: new Map(),
  }
  if (singles.count === 0) return credit
  const usageOf = (rule: number): RuleUsage => {
    let u = credit.usage.get(rule)
    if (u === undefined) {
      u = emptyUsage()
      credit.usage.set(rule, u)
    }
    return u
  }
  // Two scans. One groups the records three ways at once: per interface (what is covered, and
  // when); per credited rule, and whether it is the platform's traffic (what each rule carried);
  // and each rule's ports per protocol (of its own traffic). The other gives each rule's peers per
  // protocol: the rows least privilege starts from rather than one a (protocol, port, peer) tuple
  // (millions for a rule open to all ports), as few columns as they need (a fourth grouping of
  // the first scan made a million rows of thirteen columns, slower to make and to read). Which
  // peers used which ports comes later, per port range (peersOfSingles). An IPv4 peer's key is
  // its value as a signed word.
  const ruled = 'credits AND NOT platform'
  const own = `WITH own AS (SELECT iface, start, last, packets, bytes, ${CREDITED} AS credited, platform,
        CASE WHEN ${ruled} THEN cause END AS rule,
        CASE WHEN ${ruled} THEN protocol END AS protocol,
        CASE WHEN ${ruled} THEN coalesce(dstport, -1) END AS port,
        CASE WHEN ${ruled} THEN peer END AS peer FROM ${singles.relation})`
  const BY_INTERFACE = 1
  const BY_RULE = 2
  for await (const [
    set,
    iface,
    credited,
    platform,
    rule,
    protocol,
    port,
    records,
    packets,
    bytes,
    first,
    last,
  ] of singles.numbers(
    `${own} SELECT CASE WHEN GROUPING(iface) = 0 THEN 1 WHEN GROUPING(credited) = 0 THEN 2 ELSE 3 END,
      iface, credited, platform, rule, protocol, port, count(*), sum(packets), sum(bytes), min(start), max(last)
    FROM own GROUP BY GROUPING SETS ((iface), (credited, platform), (rule, protocol, port))`,
  )) {
    for (let row = 0; row < (set?.length ?? 0); row++) {
      const grouping = set?.[row]
      if (grouping === BY_INTERFACE) {
        credit.covered.push(iface?.[row] ?? 0)
        credit.first = Math.min(credit.first, first?.[row] ?? Number.POSITIVE_INFINITY)
        credit.last = Math.max(credit.last, last?.[row] ?? Number.NEGATIVE_INFINITY)
      } else if (grouping === BY_RULE) {
        const r = credited?.[row] ?? Number.NaN
        if (Number.isNaN(r)) continue
        if (platform?.[row] === 1) {
          credit.platform += records?.[row] ?? 0
          continue
        }
        const u = usageOf(r)
        u.records = records?.[row] ?? 0
        u.packets = packets?.[row] ?? 0
        u.bytes = bytes?.[row] ?? 0
        u.first = first?.[row] ?? Number.POSITIVE_INFINITY
        u.last = last?.[row] ?? Number.NEGATIVE_INFINITY
      } else {
        const r = rule?.[row] ?? Number.NaN
        if (!Number.isNaN(r)) portsOf(usageOf(r), protocol?.[row] ?? 0).addPort(port?.[row] ?? -1)
      }
    }
  }
  for await (const [rule, protocol, peer] of singles.numbers(
    `${own} SELECT DISTINCT rule, protocol, peer FROM own WHERE rule IS NOT NULL`,
  )) {
    for (let row = 0; row < (rule?.length ?? 0); row++) {
      const r = rule?.[row] ?? 0
      const p = protocol?.[row] ?? 0
      const key = (peer?.[row] ?? 0) | 0
      usageOf(r).peers.add(key)
      let byProtocol = credit.peers.get(r)
      if (byProtocol === undefined) {
        byProtocol = new Map()
        credit.peers.set(r, byProtocol)
      }
      let list = byProtocol.get(p)
      if (list === undefined) {
        list = []
        byProtocol.set(p, list)
      }
      list.push(key)
    }
  }
  return credit
}

/**
 * For each of `rules` (indices of audited rules that carried nothing), the single records other
 * rules accepted that it would have matched on the interfaces that have its group: per accepting
 * rule, how many, and the first in replay order.
 */
export async function shadowsOfSingles(
  singles: SingleRecords,
  network: NetworkConfig,
  policy: CompiledPolicy,
  rules: readonly number[],
): Promise<ShadowCount[]> {
  const branches = rules.flatMap((r) => {
    const compiled = policy.rules[r]
    if (compiled === undefined || compiled.implicit) return []
    const ifaces = network.interfaces.flatMap((nic, i) =>
      nic.securityGroups.includes(compiled.group) ? [i] : [],
    )
    if (ifaces.length === 0) return []
    return [
      `SELECT ${r} AS shadowed, cause, start, rank, seq FROM credited
        WHERE outbound = ${compiled.direction === 'outbound'} AND iface IN (${ifaces.join(', ')}) AND cause <> ${r}
          AND (${ruleMatchSql(network, compiled.rule, compiled.direction, RECORD)})`,
    ]
  })
  const counts: ShadowCount[] = []
  if (singles.count === 0 || branches.length === 0) return counts
  const sql = `WITH credited AS (SELECT * FROM ${creditedSql(singles)} WHERE NOT platform),
      matched AS (${branches.join(' UNION ALL ')}),
      firsts AS (SELECT shadowed, cause, count(*) AS n, min({'t': start, 'r': rank, 's': seq}) AS f
        FROM matched GROUP BY ALL)
    SELECT CAST(shadowed AS DOUBLE), CAST(cause AS DOUBLE), CAST(n AS DOUBLE), f.t, f.r, f.s FROM firsts`
  for await (const [shadowed, by, n, time, rank, seq] of singles.numbers(sql)) {
    for (let row = 0; row < (shadowed?.length ?? 0); row++) {
      counts.push({
        rule: shadowed?.[row] ?? -1,
        by: by?.[row] ?? -1,
        records: n?.[row] ?? 0,
        first: { time: time?.[row] ?? 0, rank: rank?.[row] ?? 0, seq: seq?.[row] ?? 0 },
      })
    }
  }
  return counts
}

/** A rule whose least privilege is worked out, with the port ranges it will ask for the peers of. */
export interface RangedRule {
  rule: number
  /** Protocol → its port ranges, [from, to] each (least-privilege.ts: rangesRead). */
  ranges: Map<number, [number, number][]>
}

/**
 * Adds the single records' peers to the (port, peer) pairs of each of `rules`' usage, per port
 * range: a peer of a range is added at the range's first port, which is all least privilege asks
 * of them (the peers of each range, never of one port). creditSingles gave the ports and the
 * peers of each protocol apart (`peers`); the ranges are known only once the replay has added its
 * ports too. A protocol in one range takes its peers from `peers`; only protocols of several
 * ranges need DuckDB to tell which single records' peers go in which.
 */
export async function peersOfSingles(
  singles: SingleRecords,
  usage: ReadonlyMap<number, RuleUsage>,
  rules: readonly RangedRule[],
  peers: SinglesCredit['peers'],
): Promise<void> {
  const asked: RangedRule[] = []
  for (const { rule, ranges } of rules) {
    const several = new Map<number, [number, number][]>()
    for (const [protocol, list] of ranges) {
      const own = peers.get(rule)?.get(protocol)
      // No single record of the protocol (or, of the replay's records, no port to range).
      if (own === undefined || list.length === 0) continue
      const [range] = list
      // One range holds every port of the protocol: its single records' peers, as creditSingles
      // gave them.
      if (list.length === 1 && range !== undefined) {
        const pairs = usage.get(rule)?.protocols.get(protocol)
        pairs?.addAll(range[0], own)
      } else several.set(protocol, list)
    }
    if (several.size > 0) asked.push({ rule, ranges: several })
  }
  const branches = asked.flatMap(({ rule, ranges }) =>
    [...ranges].map(([protocol, list]) => {
      const from = list.map(([a, b]) => `WHEN port BETWEEN ${a} AND ${b} THEN ${a}`).join(' ')
      return `WHEN cause = ${rule} AND protocol = ${protocol} THEN CASE ${from} END`
    }),
  )
  if (singles.count === 0 || branches.length === 0) return
  const wanted = asked.map((r) => r.rule).join(', ')
  for await (const [cause, protocol, from, peer] of singles.numbers(
    `SELECT DISTINCT CAST(cause AS DOUBLE), protocol, CASE ${branches.join(' ')} END AS range_from, peer
      FROM (SELECT cause, protocol, coalesce(dstport, -1) AS port, peer
        FROM ${creditedSql(singles)} WHERE NOT platform AND cause IN (${wanted}))
      WHERE range_from IS NOT NULL`,
  )) {
    let rule = Number.NaN
    let ofProtocol = Number.NaN
    let pairs: PortPeers | undefined
    for (let row = 0; row < (cause?.length ?? 0); row++) {
      const r = cause?.[row] ?? -1
      const p = protocol?.[row] ?? 0
      if (r !== rule || p !== ofProtocol) {
        rule = r
        ofProtocol = p
        pairs = usage.get(r)?.protocols.get(p)
      }
      pairs?.add(from?.[row] ?? -1, (peer?.[row] ?? 0) | 0)
    }
  }
}
