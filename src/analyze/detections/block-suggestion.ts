import type { Suggestion } from './finding.js'
import type { NamedRule } from './rule-namer.js'

/**
 * The blocks a finding suggests. Security groups only allow, so an address is denied one level
 * out: a network ACL entry (stateless, evaluated lowest number first, so it must come before the
 * allow entries) or a host firewall line. When a rule let the traffic in, narrowing that rule is
 * the security-group fix.
 */

function hostCidr(address: string): { cidr: string; v6: boolean } {
  const v6 = address.includes(':')
  return { cidr: `${address}/${v6 ? 128 : 32}`, v6 }
}

/** Deny traffic from `address` (inbound) or to it (outbound). */
export function denyAddress(address: string, side: 'from' | 'to'): Suggestion[] {
  const { cidr, v6 } = hostCidr(address)
  const nacl = [
    'aws ec2 create-network-acl-entry --network-acl-id <acl-id>',
    side === 'from' ? '--ingress' : '--egress',
    '--rule-number <below your allow entries> --protocol -1 --rule-action deny',
    v6 ? `--ipv6-cidr-block ${cidr}` : `--cidr-block ${cidr}`,
  ].join(' ')
  const family = v6 ? 'ip6' : 'ip'
  const chain = side === 'from' ? 'input' : 'output'
  const match = side === 'from' ? 'saddr' : 'daddr'
  return [
    { kind: 'nacl', text: nacl },
    { kind: 'nftables', text: `nft insert rule inet filter ${chain} ${family} ${match} ${address} drop` },
  ]
}

/** "Narrow the rule that let it in", once per rule. */
export function narrowRules(
  rules: ReadonlyMap<string, { rule: NamedRule; count: number }>,
  what: string,
): Suggestion[] {
  return [...rules.values()].map(({ rule, count }) => ({
    kind: 'security-group' as const,
    text: `rule ${rule.text === rule.id ? rule.id : `${rule.id} (${rule.text})`} accepted ${count} ${what}: narrow its ${
      rule.text.includes(' outbound ') ? 'destination' : 'source'
    } to the addresses that need it, or remove it`,
  }))
}

/** Counts the rules that accepted records, for narrowRules. */
export class AcceptingRules {
  readonly map = new Map<string, { rule: NamedRule; count: number }>()
  /** `count` records accepted by `rule` (null: none that a rule is known for). */
  add(rule: NamedRule | null, count = 1): void {
    if (rule === null) return
    const entry = this.map.get(rule.id)
    if (entry === undefined) this.map.set(rule.id, { rule, count })
    else entry.count += count
  }
  mergeFrom(other: AcceptingRules): void {
    for (const { rule, count } of other.map.values()) {
      const entry = this.map.get(rule.id)
      if (entry === undefined) this.map.set(rule.id, { rule, count })
      else entry.count += count
    }
  }
}
