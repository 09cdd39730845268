import { type Cidr, cidrContains, parseAddress, parseCidr } from '../core/address.js'
import type { NetworkConfig, SecurityGroupRule } from '../core/network.js'
import { protocolNumber } from '../policy/compile-policy.js'
import type { Flow } from './flow.js'

/**
 * Does one rule allow one record as new traffic? The engine answers per interface ("the first
 * rule that allows it"); audit also asks about each rule on its own, to tell a rule that nothing
 * needs from one whose traffic an earlier rule already carried (shadowed). A record has no ICMP
 * type, so an ICMP rule of any type is taken to match ICMP.
 */
export class RuleMatcher {
  readonly #members = new Map<string, Cidr[]>()
  readonly #cidrs = new Map<string, Cidr | null>()
  /** Each rule worked out once (matches runs for every record, for several rules). */
  readonly #compiled = new Map<SecurityGroupRule, CompiledRule>()
  readonly #scratch = new Uint32Array(4)

  constructor(network: NetworkConfig) {
    for (const nic of network.interfaces) {
      for (const g of nic.securityGroups) {
        const list = this.#members.get(g) ?? []
        for (const a of nic.addresses) {
          const c = parseCidr(a)
          if (typeof c !== 'string') list.push(c)
        }
        this.#members.set(g, list)
      }
    }
  }

  /** The peer of a record for a rule of `direction`: the source inbound, the destination outbound. */
  static peerOf(flow: Flow, direction: 'inbound' | 'outbound'): string | null {
    return direction === 'inbound' ? flow.srcaddr : flow.dstaddr
  }

  /** `words`: the record's addresses already parsed (parseWords: source, then destination), if at hand. */
  matches(
    rule: SecurityGroupRule,
    direction: 'inbound' | 'outbound',
    flow: Flow,
    words: Uint32Array | null = null,
  ): boolean {
    const peer = RuleMatcher.peerOf(flow, direction)
    if (peer === null) return false
    let address: Uint32Array = this.#scratch
    let offset = 0
    if (words !== null) {
      address = words
      offset = direction === 'inbound' ? 0 : 4
    } else if (!parseAddress(peer, this.#scratch)) return false
    // The family as the record writes it (::ffff:a.b.c.d is written as IPv6).
    return matchesCompiled(
      this.#compiled.get(rule) ?? this.#compile(rule),
      flow,
      address,
      offset,
      !peer.includes(':'),
    )
  }

  /**
   * Whether any of `rules` allows a record (its addresses parsed: parseWords), the rules worked out
   * once: for a test run on every record (audit's platform services).
   */
  anyOf(
    rules: readonly SecurityGroupRule[],
    direction: 'inbound' | 'outbound',
  ): (flow: Flow, words: Uint32Array) => boolean {
    const compiled = rules.map((rule) => this.#compiled.get(rule) ?? this.#compile(rule))
    const offset = direction === 'inbound' ? 0 : 4
    return (flow, words) => {
      const peer = RuleMatcher.peerOf(flow, direction)
      if (peer === null) return false
      const v4 = !peer.includes(':')
      for (let i = 0; i < compiled.length; i++)
        if (matchesCompiled(compiled[i] as CompiledRule, flow, words, offset, v4)) return true
      return false
    }
  }

  #compile(rule: SecurityGroupRule): CompiledRule {
    const protocol = protocolNumber(rule.protocol)
    // No port range (or a protocol without ports): any port, whatever the record says.
    const [from, to] =
      (protocol === 6 || protocol === 17) && rule.ports !== null
        ? portRange(rule.ports)
        : [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]
    const cidrs = this.#peerCidrs(rule.peer)
    const compiled = { protocol, from, to, cidrs, families: cidrs.map(isV4) }
    this.#compiled.set(rule, compiled)
    return compiled
  }

  #peerCidrs(peer: string): Cidr[] {
    const members = this.#members.get(peer)
    if (members !== undefined) return members
    let cidr = this.#cidrs.get(peer)
    if (cidr === undefined) {
      const parsed = parseCidr(peer)
      cidr = typeof parsed === 'string' ? null : parsed
      this.#cidrs.set(peer, cidr)
    }
    return cidr === null ? [] : [cidr]
  }
}

/** Whether a compiled rule allows a record whose peer is at `offset` in `address` (of the family `v4`). */
function matchesCompiled(
  compiled: CompiledRule,
  flow: Flow,
  address: Uint32Array,
  offset: number,
  v4: boolean,
): boolean {
  const protocol = compiled.protocol
  if (protocol !== -1) {
    if (flow.protocol !== protocol) return false
    if (protocol === 6 || protocol === 17) {
      const port = flow.dstport ?? 0
      if (port < compiled.from || port > compiled.to) return false
    }
  }
  const { cidrs, families } = compiled
  for (let i = 0; i < cidrs.length; i++) {
    if (families[i] === v4 && cidrContains(cidrs[i] as Cidr, address, offset)) return true
  }
  return false
}

/** A rule's protocol, port range and peer CIDRs (with each one's family: true for IPv4). */
interface CompiledRule {
  protocol: number
  from: number
  to: number
  cidrs: readonly Cidr[]
  families: readonly boolean[]
}

export function isV4(cidr: Cidr): boolean {
  return cidr.prefix >= 96 && !cidr.text.includes(':')
}

export function portRange(ports: string): [number, number] {
  const dash = ports.indexOf('-')
  return dash < 0
    ? [Number(ports), Number(ports)]
    : [Number(ports.slice(0, dash)), Number(ports.slice(dash + 1))]
}
