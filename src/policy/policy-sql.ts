import { type Cidr, parseCidr, V4_MAPPED_MARK } from '../core/address.js'
import type { NetworkConfig, SecurityGroupRule } from '../core/network.js'
import { ANY_PROTOCOL, type CompiledPolicy, type PolicyEntry, protocolNumber } from './compile-policy.js'

/**
 * The policy engine's answers as DuckDB SQL expressions, so that an analysis can judge millions of
 * flow records inside DuckDB rather than one at a time in JavaScript.
 *
 * The expressions give exactly the JavaScript answers (CompiledPolicy.evaluate, RuleMatcher.matches
 * in analyze/rule-match.ts) on their domain: IPv4 records of protocol TCP or UDP, whose destination
 * port is 0..65535 and whose addresses are given as their 32-bit values. Within that domain an
 * address is the IPv4-mapped ::ffff:a.b.c.d, so of the four words the engine compares only the last
 * varies, and a prefix is a range of values: `peer BETWEEN lo AND hi`, no bitwise arithmetic.
 *
 * The SQL is kept small because DuckDB evaluates it per row: unmatchable entries are left out,
 * interfaces with the same rules share one expression, and the entries a group reference expands to
 * become one `peer IN (...)`.
 */

const TCP = 6
const UDP = 17
const MAX_PORT = 65535
const MAX_V4 = 0xffffffff

/**
 * A condition being written: true or false when known already (and() and or() fold them away), else
 * its SQL and its operator at the top, which tells where it needs parentheses.
 */
type Condition = boolean | { readonly sql: string; readonly top: 'atom' | 'and' | 'or' }

/**
 * SQL expressions of one record's values, in the expression's domain (IPv4, TCP or UDP). Pass
 * column names (or a subquery's): an expression is repeated in the SQL, once per rule that tests it.
 */
export interface RecordSql {
  /** INTEGER: the record's interface, its index in network.interfaces (any other value allows nothing). */
  iface: string
  /**
   * BOOLEAN: true for egress (outbound rules, the peer is the destination), false for ingress or
   * unknown (inbound rules, the peer is the source), as CompiledPolicy.evaluate maps DIRECTION.
   */
  outbound: string
  /** INTEGER: 6 or 17. */
  protocol: string
  /** INTEGER: the destination port, 0..65535. */
  dstport: string
  /** BIGINT or UBIGINT: the peer's IPv4 address as its value, 0..2^32-1. */
  peer: string
}

/**
 * SQL expressions of the record values RuleMatcher.matches reads. It takes the peer from the
 * rule's direction, whatever the record's own: the source for an inbound rule, the destination for
 * an outbound one (RuleMatcher.peerOf), so both addresses are given.
 */
export interface RuleRecordSql {
  /** INTEGER: the protocol number (the answer is exact for every protocol, see ruleMatchSql). */
  protocol: string
  /** INTEGER: the destination port, 0..65535. */
  dstport: string
  /** BIGINT or UBIGINT: the source's IPv4 address as its value, 0..2^32-1. */
  src: string
  /** BIGINT or UBIGINT: the destination's IPv4 address as its value. */
  dst: string
}

/** An inclusive range of IPv4 values. */
type Range = readonly [number, number]

/**
 * CompiledPolicy.evaluate(iface, direction, view) as SQL: an INTEGER, the index of the first rule
 * of the interface that allows the record as new traffic (policy.ruleIds), or -1.
 */
export function evaluateSql(policy: CompiledPolicy, record: RecordSql): string {
  const r = parenthesized(record)
  const inbound = dispatchSql(policy, false, r)
  const outbound = dispatchSql(policy, true, r)
  // A NULL direction takes the inbound rules, as an unknown direction does in evaluate.
  return inbound === outbound ? inbound : `CASE WHEN ${r.outbound} THEN ${outbound} ELSE ${inbound} END`
}

/**
 * RuleMatcher.matches(rule, direction, flow) as SQL (a BOOLEAN) for IPv4 records: exact for TCP and
 * UDP and, since RuleMatcher compares only the protocol of any other (an ICMP rule of any type
 * matches ICMP), for every protocol.
 */
export function ruleMatchSql(
  network: NetworkConfig,
  rule: SecurityGroupRule,
  direction: 'inbound' | 'outbound',
  record: RuleRecordSql,
): string {
  const r = parenthesized(record)
  const protocol = protocolNumber(rule.protocol)
  let transport: Condition | null
  if (protocol === ANY_PROTOCOL) transport = true
  // No record has a protocol that is not a whole number: RuleMatcher's comparison always fails.
  else if (!Number.isInteger(protocol)) transport = null
  else if ((protocol === TCP || protocol === UDP) && rule.ports !== null) {
    // RuleMatcher compares `port < from || port > to` on the numbers as written: a bound that is
    // not a number (NaN) rejects nothing, and on whole ports `port >= 1.5` is `port >= 2`.
    const [from, to] = rulePortRange(rule.ports)
    const lo = Number.isNaN(from) ? 0 : Math.ceil(from)
    const hi = Number.isNaN(to) ? MAX_PORT : Math.floor(to)
    transport = transportSql(r, protocol, lo, hi)
  } else {
    // Without ports, or a protocol without them: the protocol alone, any port.
    transport = atom(`${r.protocol} = ${protocol}`)
  }
  if (transport === null) return 'false'
  const ranges: Range[] = []
  for (const cidr of rulePeerCidrs(network, rule.peer)) {
    // Only an IPv4 CIDR can match a record written in IPv4 (RuleMatcher's isV4).
    if (!(cidr.prefix >= 96 && !cidr.text.includes(':'))) continue
    const range = cidrRange(cidr)
    if (range !== null) ranges.push(range)
  }
  const peer = direction === 'inbound' ? r.src : r.dst
  const condition = and(transport, peerSql(peer, ranges))
  return typeof condition === 'boolean' ? String(condition) : `(${condition.sql})`
}

/** One octet as flowlog writes it: 0..255 in decimal, without leading zeros. */
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'

/**
 * Whether a text column holds an IPv4 address exactly as flowlog writes one (a dotted quad, no
 * leading zeros, each octet 0..255; core/address.ts ipv4Value): the texts whose value ipv4ValueSql
 * gives and for which parseAddress gives the same words. A BOOLEAN, false for NULL. Other spellings
 * of the same address (::ffff:1.2.3.4) are IPv6 to the engine's family checks, so false here.
 */
export function canonicalIpv4Sql(text: string): string {
  // `[.]` rather than `\.`: the pattern passes through JavaScript and SQL quoting unchanged.
  return `coalesce(regexp_full_match(${parenthesize(text)}, '${OCTET}([.]${OCTET}){3}'), false)`
}

/**
 * The value of a canonical IPv4 text (see canonicalIpv4Sql) as a BIGINT, 0..2^32-1. For any other
 * text it is NULL or some number, never an error: test canonicalIpv4Sql first.
 */
export function ipv4ValueSql(text: string): string {
  const t = parenthesize(text)
  const octet = (i: number) => `TRY_CAST(split_part(${t}, '.', ${i}) AS BIGINT)`
  return `(${octet(1)} * 16777216 + ${octet(2)} * 65536 + ${octet(3)} * 256 + ${octet(4)})`
}

/** The record's expressions in parentheses, so that an expression of any precedence can be passed. */
function parenthesized<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, parenthesize(String(v))])) as T
}

/** `sql` as an operand: names and numbers as they are, anything else in parentheses. */
function parenthesize(sql: string): string {
  return /^([A-Za-z_][A-Za-z0-9_.]*|-?[0-9]+)$/.test(sql) ? sql : `(${sql})`
}

/**
 * One direction of evaluateSql: the rule index of the record's interface, dispatching on the
 * interface. Interfaces whose entries give the same SQL share one branch: a fleet of interfaces
 * in one group costs one expression, not one per interface.
 */
function dispatchSql(policy: CompiledPolicy, outbound: boolean, r: RecordSql): string {
  const shared = new Map<string, number[]>()
  for (let i = 0; i < policy.interfaceCount; i++) {
    const sql = entriesSql(policy.entries(i, outbound), r)
    if (sql === '-1') continue // the ELSE below
    const list = shared.get(sql)
    if (list === undefined) shared.set(sql, [i])
    else list.push(i)
  }
  if (shared.size === 0) return '-1'
  const whens = [...shared].map(([sql, ifaces]) => `WHEN ${memberSql(r.iface, ifaces)} THEN ${sql}`)
  // An interface outside the config (or NULL) allows nothing, as in evaluate.
  return `CASE ${whens.join(' ')} ELSE -1 END`
}

/** `expr` is one of the ascending `values`: a range when they are consecutive. */
function memberSql(expr: string, values: readonly number[]): string {
  const first = values[0] ?? 0
  const last = values[values.length - 1] ?? 0
  if (values.length === 1) return `${expr} = ${first}`
  if (values.length > 2 && last - first === values.length - 1) return `${expr} BETWEEN ${first} AND ${last}`
  return `${expr} IN (${values.join(', ')})`
}

/**
 * The first-match scan of one interface's entries as a CASE. Entries that cannot match an IPv4 TCP
 * or UDP record are left out; leaving them out changes no first match. Consecutive entries of one
 * rule become one WHEN, their conditions ORed: whichever of them matches first, the answer is that
 * rule, so the order among them does not matter, while the order of the rules is kept.
 */
function entriesSql(entries: readonly PolicyEntry[], r: RecordSql): string {
  const whens: { rule: number; condition: Condition }[] = []
  let rule = -1
  // The current run of one rule's entries: per protocol and port test (its SQL), the test and the
  // peers it allows.
  let run = new Map<string, { transport: Condition; ranges: Range[] }>()
  const flush = () => {
    const parts = [...run.values()].map(({ transport, ranges }) => and(transport, peerSql(r.peer, ranges)))
    if (parts.length > 0) whens.push({ rule, condition: or(...parts) })
    run = new Map()
  }
  for (const e of entries) {
    if (e.family !== 4) continue
    const transport = entryTransportSql(e, r)
    const range = transport === null ? null : v4Range(e.net, e.mask)
    if (transport === null || range === null) continue
    if (e.rule !== rule) {
      flush()
      // After a WHEN that always holds no entry is reached.
      if (whens[whens.length - 1]?.condition === true) break
      rule = e.rule
    }
    const key = sqlOf(transport)
    const same = run.get(key)
    if (same === undefined) run.set(key, { transport, ranges: [range] })
    else same.ranges.push(range)
  }
  flush()
  const last = whens[whens.length - 1]
  if (last === undefined) return '-1'
  // A last WHEN that always holds is the ELSE.
  const always = last.condition === true
  const tested = always ? whens.slice(0, -1) : whens
  const otherwise = always ? String(last.rule) : '-1'
  if (tested.length === 0) return otherwise
  return `CASE ${tested.map((w) => `WHEN ${sqlOf(w.condition)} THEN ${w.rule}`).join(' ')} ELSE ${otherwise} END`
}

/**
 * The protocol and port test of an entry (CompiledPolicy's #admits) for a TCP or UDP record, or
 * null when it admits none: an entry of another protocol (ICMP, 50, ...) never does.
 */
function entryTransportSql(e: PolicyEntry, r: RecordSql): Condition | null {
  if (e.protocol === ANY_PROTOCOL) return true
  if (e.protocol !== TCP && e.protocol !== UDP) return null
  return transportSql(r, e.protocol, e.portFrom, e.portTo)
}

/**
 * `protocol = p` and a destination port in [lo, hi] (whole numbers), or null when no port of
 * 0..65535 is in it. A range over every port needs no test, ports being 0..65535 in the domain.
 */
function transportSql(
  r: { protocol: string; dstport: string },
  protocol: number,
  lo: number,
  hi: number,
): Condition | null {
  const from = Math.max(lo, 0)
  const to = Math.min(hi, MAX_PORT)
  if (from > to) return null
  const is = atom(`${r.protocol} = ${protocol}`)
  if (from === 0 && to === MAX_PORT) return is
  return and(is, atom(from === to ? `${r.dstport} = ${from}` : `${r.dstport} BETWEEN ${from} AND ${to}`))
}

/**
 * The IPv4 values whose mapped words a prefix admits, word by word (address[w] & mask[w]) ===
 * net[w], as evaluate compares them: null when words 0..2 of every IPv4 address (0, 0, 0xffff)
 * fail, else the range of word 3.
 */
function v4Range(net: readonly number[], mask: readonly number[]): Range | null {
  for (let w = 0; w < 3; w++) {
    const word = w === 2 ? V4_MAPPED_MARK : 0
    if ((word & (mask[w] ?? 0)) >>> 0 !== (net[w] ?? 0)) return null
  }
  const m = (mask[3] ?? 0) >>> 0
  const n = (net[3] ?? 0) >>> 0
  const host = ~m >>> 0
  // The engine only builds prefix masks (ones, then zeros), which is what makes a range exact.
  if ((host & (host + 1)) !== 0) throw new Error(`policy-sql: mask ${m.toString(16)} is not a prefix mask`)
  // A network word with host bits set never equals a masked address.
  if ((n & host) !== 0) return null
  return [n, n + host]
}

/**
 * A CIDR as cidrContains compares it: the words of the first `prefix` bits, the rest not at all.
 * The words past the prefix count as a mask of 0 and a network of 0, which every address passes.
 */
function cidrRange(cidr: Cidr): Range | null {
  const net: number[] = []
  const mask: number[] = []
  let remaining = cidr.prefix
  for (let w = 0; w < 4; w++) {
    const bits = Math.max(0, Math.min(remaining, 32))
    remaining -= bits
    const m = bits === 0 ? 0 : bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0
    mask.push(m)
    net.push(m === 0 ? 0 : (cidr.words[w] ?? 0))
  }
  return v4Range(net, mask)
}

/**
 * `peer` in any of `ranges`: the ranges joined where they touch, single addresses (the members of
 * a group reference) in one IN list, the others as BETWEEN; all of 0..2^32-1 is `true`.
 */
function peerSql(peer: string, ranges: readonly Range[]): Condition {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0])
  const merged: [number, number][] = []
  for (const [lo, hi] of sorted) {
    const previous = merged[merged.length - 1]
    if (previous !== undefined && lo <= previous[1] + 1) previous[1] = Math.max(previous[1], hi)
    else merged.push([lo, hi])
  }
  if (merged.some(([lo, hi]) => lo === 0 && hi === MAX_V4)) return true
  const singles = merged.filter(([lo, hi]) => lo === hi).map(([lo]) => lo)
  const spans = merged.filter(([lo, hi]) => lo !== hi)
  const parts = spans.map(([lo, hi]) => `${peer} BETWEEN ${lo} AND ${hi}`)
  if (singles.length === 1) parts.unshift(`${peer} = ${singles[0]}`)
  else if (singles.length > 1) parts.unshift(`${peer} IN (${singles.join(', ')})`)
  return or(...parts.map(atom))
}

function atom(sql: string): Condition {
  return { sql, top: 'atom' }
}

function sqlOf(c: Condition): string {
  return typeof c === 'boolean' ? String(c) : c.sql
}

function and(...parts: Condition[]): Condition {
  if (parts.includes(false)) return false
  const open = parts.filter((c) => c !== true)
  if (open.length <= 1) return open[0] ?? true
  return { sql: open.map((c) => operand(c, 'or')).join(' AND '), top: 'and' }
}

function or(...parts: Condition[]): Condition {
  if (parts.includes(true)) return true
  const open = parts.filter((c) => c !== false)
  if (open.length <= 1) return open[0] ?? false
  // An AND needs none inside an OR (it binds tighter) but reads more easily with them, next to BETWEEN.
  return { sql: open.map((c) => operand(c, 'and')).join(' OR '), top: 'or' }
}

/** `c` as an operand of another operator: in parentheses when its own operator is `wrapped`. */
function operand(c: Condition, wrapped: 'and' | 'or'): string {
  return typeof c !== 'boolean' && c.top === wrapped ? `(${c.sql})` : sqlOf(c)
}

/** A rule's port range as RuleMatcher reads it (analyze/rule-match.ts portRange). */
function rulePortRange(ports: string): [number, number] {
  const dash = ports.indexOf('-')
  return dash < 0
    ? [Number(ports), Number(ports)]
    : [Number(ports.slice(0, dash)), Number(ports.slice(dash + 1))]
}

/**
 * A rule's peer as RuleMatcher reads it: a group that some interface lists stands for the addresses
 * of those interfaces (whatever parses of them); anything else is a CIDR, or nothing.
 */
function rulePeerCidrs(network: NetworkConfig, peer: string): Cidr[] {
  let listed = false
  const members: Cidr[] = []
  for (const nic of network.interfaces) {
    if (!nic.securityGroups.includes(peer)) continue
    listed = true
    for (const a of nic.addresses) {
      const c = parseCidr(a)
      if (typeof c !== 'string') members.push(c)
    }
  }
  if (listed) return members
  const cidr = parseCidr(peer)
  return typeof cidr === 'string' ? [] : [cidr]
}
