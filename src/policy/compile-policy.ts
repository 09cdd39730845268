import { parseAddress, parseCidr } from '../core/address.js'
import type { NetworkConfig, Protocol, SecurityGroupRule } from '../core/network.js'
import type { PacketView } from '../core/packet-view.js'
import { DIRECTION, type Direction } from '../core/verdict.js'
import { PLATFORM_GROUP, PLATFORM_RULE_ID, platformRules, vpcResolvers } from './platform-services.js'

/**
 * Security groups compiled for the packet path (DESIGN 3): per interface and direction, the union
 * of the allow rules of all its groups as flat typed arrays, scanned linearly. Rules are evaluated
 * once per new connection, so a plain scan is fast enough and easy to check; it allocates nothing.
 *
 * Which rule is named when several allow a packet: the first in the interface's group order, then
 * in the group's rule order. AWS unions the rules and names none, so any choice is faithful; this
 * one is stable and easy to predict from the config.
 */

/** Any protocol (AWS `all` / -1). */
export const ANY_PROTOCOL = -1

export interface CompiledRule {
  /** The rule id (cause index → this). */
  readonly id: string
  /** The security group it belongs to. */
  readonly group: string
  readonly direction: 'inbound' | 'outbound'
  readonly rule: SecurityGroupRule
  /** The platform services' allowance (platform-services.ts): no group's rule, nothing to audit. */
  readonly implicit?: true
}

/** One matchable line: a rule with one peer prefix (a group reference expands to one per member address). */
interface Entry {
  rule: number
  protocol: number
  family: 4 | 6
  portFrom: number
  portTo: number
  icmpType: number
  icmpCode: number
  net: Uint32Array
  prefix: number
}

/**
 * One match entry as plain values (CompiledPolicy.entries): for code that restates the policy in
 * another form, such as SQL (policy-sql.ts), and must see exactly what evaluate scans.
 */
export interface PolicyEntry {
  /** The rule index (ruleIds) this entry answers with. */
  readonly rule: number
  /** The protocol number, or ANY_PROTOCOL. */
  readonly protocol: number
  readonly family: 4 | 6
  /** The destination ports allowed, inclusive (checked for TCP and UDP only). */
  readonly portFrom: number
  readonly portTo: number
  /** ICMP type and code, -1 for any (checked for ICMP and ICMPv6 only). */
  readonly icmpType: number
  readonly icmpCode: number
  /** The peer prefix as evaluate compares it: word w matches when (address[w] & mask[w]) === net[w]. */
  readonly net: readonly [number, number, number, number]
  readonly mask: readonly [number, number, number, number]
}

const PROTOCOL_NUMBERS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58, all: ANY_PROTOCOL }

export function protocolNumber(protocol: Protocol): number {
  return typeof protocol === 'number' ? protocol : (PROTOCOL_NUMBERS[protocol] ?? ANY_PROTOCOL)
}

export class CompiledPolicy {
  /** Rule index → rule id; the cause index of accepted records points here. */
  readonly ruleIds: readonly string[]
  /** Rule index → the rule, its group and direction (for audit and what-if). */
  readonly rules: readonly CompiledRule[]
  readonly interfaceCount: number

  // Entry e of interface i, direction d (0 inbound, 1 outbound) lies in [offsets[2i+d], offsets[2i+d+1]).
  readonly #offsets: Int32Array
  readonly #rule: Int32Array
  readonly #protocol: Int16Array
  readonly #family: Uint8Array
  readonly #portFrom: Int32Array
  readonly #portTo: Int32Array
  readonly #icmpType: Int16Array
  readonly #icmpCode: Int16Array
  /** Four network words and four mask words per entry. */
  readonly #net: Uint32Array
  readonly #mask: Uint32Array
  /**
   * The first later entry that differs from entry e in anything but the peer address: when e
   * fails on protocol or ports, so do all entries before that one (the members of a group
   * reference, say), and the scan jumps over them.
   */
  readonly #nextDifferent: Int32Array

  constructor(rules: readonly CompiledRule[], perInterface: readonly (readonly [Entry[], Entry[]])[]) {
    this.rules = rules
    this.ruleIds = rules.map((r) => r.id)
    this.interfaceCount = perInterface.length
    const all = perInterface.flatMap(([inbound, outbound]) => [...inbound, ...outbound])
    const n = all.length
    this.#offsets = new Int32Array(perInterface.length * 2 + 1)
    let at = 0
    perInterface.forEach(([inbound, outbound], i) => {
      this.#offsets[2 * i] = at
      at += inbound.length
      this.#offsets[2 * i + 1] = at
      at += outbound.length
    })
    this.#offsets[perInterface.length * 2] = at
    this.#rule = new Int32Array(n)
    this.#protocol = new Int16Array(n)
    this.#family = new Uint8Array(n)
    this.#portFrom = new Int32Array(n)
    this.#portTo = new Int32Array(n)
    this.#icmpType = new Int16Array(n)
    this.#icmpCode = new Int16Array(n)
    this.#net = new Uint32Array(n * 4)
    this.#mask = new Uint32Array(n * 4)
    all.forEach((e, k) => {
      this.#rule[k] = e.rule
      this.#protocol[k] = e.protocol
      this.#family[k] = e.family
      this.#portFrom[k] = e.portFrom
      this.#portTo[k] = e.portTo
      this.#icmpType[k] = e.icmpType
      this.#icmpCode[k] = e.icmpCode
      for (let w = 0; w < 4; w++) {
        const bits = Math.max(0, Math.min(32, e.prefix - 32 * w))
        const mask = bits === 0 ? 0 : bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0
        this.#mask[4 * k + w] = mask
        this.#net[4 * k + w] = ((e.net[w] ?? 0) & mask) >>> 0
      }
    })
    this.#nextDifferent = new Int32Array(n)
    for (let k = n - 1; k >= 0; k--) {
      const a = all[k]!
      const b = all[k + 1]
      const same =
        b !== undefined &&
        b.rule === a.rule &&
        b.protocol === a.protocol &&
        b.family === a.family &&
        b.portFrom === a.portFrom &&
        b.portTo === a.portTo &&
        b.icmpType === a.icmpType &&
        b.icmpCode === a.icmpCode
      this.#nextDifferent[k] = same ? (this.#nextDifferent[k + 1] ?? n) : k + 1
    }
  }

  /** Number of match entries (rules after group references are expanded), for stats. */
  get entryCount(): number {
    return this.#rule.length
  }

  /**
   * The entries evaluate scans for interface `iface` in one direction, in scan order, as fresh
   * plain objects (empty for an unknown interface). A read-only copy for other forms of the policy:
   * evaluate itself keeps to the typed arrays and allocates nothing.
   */
  entries(iface: number, outbound: boolean): PolicyEntry[] {
    if (!Number.isInteger(iface) || iface < 0 || iface >= this.interfaceCount) return []
    const d = outbound ? 1 : 0
    const from = this.#offsets[2 * iface + d] ?? 0
    const to = this.#offsets[2 * iface + d + 1] ?? 0
    const words = (array: Uint32Array, e: number) =>
      [array[4 * e] ?? 0, array[4 * e + 1] ?? 0, array[4 * e + 2] ?? 0, array[4 * e + 3] ?? 0] as const
    const list: PolicyEntry[] = []
    for (let e = from; e < to; e++) {
      list.push({
        rule: this.#rule[e] ?? -1,
        protocol: this.#protocol[e] ?? ANY_PROTOCOL,
        family: this.#family[e] === 6 ? 6 : 4,
        portFrom: this.#portFrom[e] ?? 0,
        portTo: this.#portTo[e] ?? 65535,
        icmpType: this.#icmpType[e] ?? -1,
        icmpCode: this.#icmpCode[e] ?? -1,
        net: words(this.#net, e),
        mask: words(this.#mask, e),
      })
    }
    return list
  }

  /**
   * The index of the first rule of interface `iface` that allows `view` as new traffic in
   * `direction`, or -1. Ingress (and unknown) use the inbound rules with the packet's source as
   * the peer; egress the outbound rules with its destination. Ports match the destination port.
   */
  evaluate(iface: number, direction: Direction, view: PacketView): number {
    if (iface < 0 || iface >= this.interfaceCount) return -1
    const outbound = direction === DIRECTION.EGRESS ? 1 : 0
    const peer = outbound === 1 ? view.dst : view.src
    const protocol = view.protocol
    const family = view.ipVersion
    const p0 = peer[0] ?? 0
    const p1 = peer[1] ?? 0
    const p2 = peer[2] ?? 0
    const p3 = peer[3] ?? 0
    const rules = this.#rule
    const net = this.#net
    const mask = this.#mask
    const end = this.#offsets[2 * iface + outbound + 1] ?? 0
    const nextDifferent = this.#nextDifferent
    for (let e = this.#offsets[2 * iface + outbound] ?? 0; e < end; e++) {
      if (!this.#admits(e, family, protocol, view)) {
        e = (nextDifferent[e] ?? end) - 1
        continue
      }
      const m = 4 * e
      if (
        (p0 & (mask[m] ?? 0)) >>> 0 === net[m] &&
        (p1 & (mask[m + 1] ?? 0)) >>> 0 === net[m + 1] &&
        (p2 & (mask[m + 2] ?? 0)) >>> 0 === net[m + 2] &&
        (p3 & (mask[m + 3] ?? 0)) >>> 0 === net[m + 3]
      ) {
        return rules[e] ?? -1
      }
    }
    return -1
  }

  /** Whether entry `e` lets in this family, protocol and port or ICMP type (its peer aside). */
  #admits(e: number, family: number, protocol: number, view: PacketView): boolean {
    if (this.#family[e] !== family) return false
    const p = this.#protocol[e] ?? ANY_PROTOCOL
    if (p === ANY_PROTOCOL) return true
    if (p !== protocol) return false
    if (p === 6 || p === 17) {
      const port = view.dstPort
      return port >= (this.#portFrom[e] ?? 0) && port <= (this.#portTo[e] ?? 65535)
    }
    if (p === 1 || p === 58) {
      const type = this.#icmpType[e] ?? -1
      const code = this.#icmpCode[e] ?? -1
      return (type === -1 || type === view.icmpType) && (code === -1 || code === view.icmpCode)
    }
    return true
  }
}

function portRange(ports: string | null): [number, number] {
  if (ports === null) return [0, 65535]
  const dash = ports.indexOf('-')
  return dash < 0
    ? [Number(ports), Number(ports)]
    : [Number(ports.slice(0, dash)), Number(ports.slice(dash + 1))]
}

/**
 * Compiles the security groups of a validated config. Interface index = position in
 * network.interfaces, as everywhere on the packet path. A group reference (`source: sg-web`)
 * becomes one /32 or /128 per address of every interface that has the group, itself included.
 * Every interface also allows the platform services (platform-services.ts), after its groups'
 * rules, as one more rule: `implicit:platform-services`.
 *
 * With `previous` (a live reload), every rule id keeps its index and new ids are appended, so the
 * causes cached in tracked connections and in open windows still name the right rule; a removed
 * rule keeps its slot but no longer matches anything.
 */
export function compilePolicy(network: NetworkConfig, previous?: CompiledPolicy): CompiledPolicy {
  const rules: CompiledRule[] = previous === undefined ? [] : [...previous.rules]
  const indexOfId = new Map(rules.map((r, i) => [r.id, i]))
  const ruleIndex = new Map<SecurityGroupRule, number>()
  for (const group of network.securityGroups) {
    for (const [direction, list] of [
      ['inbound', group.inbound],
      ['outbound', group.outbound],
    ] as const) {
      for (const rule of list) {
        const index = indexOfId.get(rule.id) ?? rules.length
        ruleIndex.set(rule, index)
        rules[index] = { id: rule.id, group: group.id, direction, rule }
      }
    }
  }

  // After the groups' rules on a first compile; where it was on a reload, like every rule.
  const platformIndex = indexOfId.get(PLATFORM_RULE_ID) ?? rules.length
  const resolvers = vpcResolvers(network)
  const platform = network.interfaces.map((_, i) => platformRules(resolvers[i] ?? null))
  rules[platformIndex] = {
    id: PLATFORM_RULE_ID,
    group: PLATFORM_GROUP,
    direction: 'outbound',
    // What audits and what-if show for it: the first line, the metadata block (every interface has it).
    rule: platformRules(null).outbound[0]!,
    implicit: true,
  }
  for (const { inbound, outbound } of platform) {
    for (const rule of [...inbound, ...outbound]) ruleIndex.set(rule, platformIndex)
  }

  const members = new Map<string, string[]>()
  for (const nic of network.interfaces) {
    for (const g of nic.securityGroups) {
      const list = members.get(g) ?? []
      list.push(...nic.addresses)
      members.set(g, list)
    }
  }

  const entriesOf = (rule: SecurityGroupRule): Entry[] => {
    const index = ruleIndex.get(rule) ?? -1
    const protocol = protocolNumber(rule.protocol)
    const [portFrom, portTo] = portRange(rule.ports)
    const make = (text: string): Entry | null => {
      const cidr = parseCidr(text)
      if (typeof cidr === 'string') return null
      // An IPv4 CIDR is an IPv4-mapped prefix (≥ 96) written with dots; ::/0 must not match IPv4.
      const family = cidr.prefix >= 96 && !cidr.text.includes(':') ? 4 : 6
      return {
        rule: index,
        protocol,
        family,
        portFrom,
        portTo,
        icmpType: rule.icmpType,
        icmpCode: rule.icmpCode,
        net: cidr.words,
        prefix: cidr.prefix,
      }
    }
    const scratch = new Uint32Array(4)
    const peers = parseAddress(rule.peer.split('/')[0] ?? '', scratch)
      ? [rule.peer]
      : (members.get(rule.peer) ?? [])
    return peers.map(make).filter((e): e is Entry => e !== null)
  }

  const groups = new Map(network.securityGroups.map((g) => [g.id, g]))
  const perInterface = network.interfaces.map((nic, i) => {
    const inbound: Entry[] = []
    const outbound: Entry[] = []
    for (const groupId of nic.securityGroups) {
      const group = groups.get(groupId)
      if (group === undefined) continue
      for (const rule of group.inbound) inbound.push(...entriesOf(rule))
      for (const rule of group.outbound) outbound.push(...entriesOf(rule))
    }
    // Last: a group rule that also allows the traffic is the one named.
    for (const rule of platform[i]?.inbound ?? []) inbound.push(...entriesOf(rule))
    for (const rule of platform[i]?.outbound ?? []) outbound.push(...entriesOf(rule))
    return [inbound, outbound] as const
  })
  return new CompiledPolicy(rules, perInterface)
}
