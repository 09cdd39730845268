import { formatMac, parseCidr, parseMac } from '../core/address.js'
import { InputError } from '../core/errors.js'
import type { NetworkConfig, SecurityGroupRule } from '../core/network.js'
import type { CompiledPolicy } from '../policy/compile-policy.js'
import { PLATFORM_RULE_ID, platformRules, vpcResolvers } from '../policy/platform-services.js'
import { type DeviceLayout, unsupportedReason } from './device-layout.js'
import { NO_MATCHING_RULE, NOT_ESTABLISHED, verdictPrefix } from './verdict-prefix.js'

export interface RulesetOptions {
  /** nftables table name (family inet). */
  table: string
  /** NFLOG group of accepted packets. */
  acceptGroup: number
  /** NFLOG group of dropped packets. */
  dropGroup: number
  /** Bytes of each packet copied to NFLOG: the headers are all flowlog reads. */
  snaplen?: number
}

export const DEFAULT_RULESET: RulesetOptions = { table: 'flowlog', acceptGroup: 27001, dropGroup: 27002 }

/** ct mark halves: the originator's cause in the low 16 bits, the responder's in the high 16 (index + 1). */
const MAX_RULES = 0xfffe

/**
 * The nftables ruleset that enforces the interfaces' security groups (DESIGN 3, enforce mode), as
 * the text `nft -f` loads in one transaction. For every interface with a `device`:
 *
 * - `ifN_out` judges what the instance sends (hook forward and input), `ifN_in` what it receives
 *   (forward and output). A routed device is found by name (`iifname`, `oifname`); a port of a
 *   Linux bridge (`layouts`) by its MAC or addresses behind the bridge's name (bridgeChains).
 * - Stateful as the engine is: a packet of an established connection is accepted by the rule that
 *   accepted the connection on that interface. That rule's index is kept in the connection's ct
 *   mark (originator's side in the low half, responder's in the high half), and a verdict map on
 *   it jumps to the rule's logging chain, so even established packets are logged with their rule.
 * - Anything else (new, related, invalid) goes through the allow rules in the engine's order; the
 *   first match marks a new connection and logs to the accept group; no match logs to the drop
 *   group and drops. ICMP errors (related) are judged by the rules, as in the engine.
 *
 * Every logged packet carries `verdictPrefix`: interface, side, cause, then ids for people.
 */
export function renderRuleset(
  network: NetworkConfig,
  policy: CompiledPolicy,
  options: RulesetOptions,
  layouts: ReadonlyMap<string, DeviceLayout> = new Map(),
): string {
  if (policy.ruleIds.length > MAX_RULES) {
    throw new InputError(
      `securityGroups: ${policy.ruleIds.length} rules; enforce mode marks connections with at most ${MAX_RULES}`,
    )
  }
  const index = new Map(policy.ruleIds.map((id, i) => [id, i]))
  const groups = new Map(network.securityGroups.map((g) => [g.id, g]))
  const members = new Map<string, string[]>()
  for (const nic of network.interfaces) {
    for (const g of nic.securityGroups) members.set(g, [...(members.get(g) ?? []), ...nic.addresses])
  }
  const resolvers = vpcResolvers(network)
  // Rules a reload took away (a reloaded policy keeps every id it had): the connections they
  // accepted keep their state, as the engine's tracker keeps their verdict, so their marks still
  // lead to a logging chain on every interface.
  const current = new Set([
    PLATFORM_RULE_ID,
    ...network.securityGroups.flatMap((g) => [...g.inbound, ...g.outbound].map((r) => r.id)),
  ])
  const retiredInbound: [SecurityGroupRule, number][] = []
  const retiredOutbound: [SecurityGroupRule, number][] = []
  policy.rules.forEach((r, i) => {
    if (current.has(r.id)) return
    ;(r.direction === 'inbound' ? retiredInbound : retiredOutbound).push([r.rule, i])
  })
  const snaplen = options.snaplen ?? 256
  // queue-threshold 1: the kernel otherwise batches up to 100 packets or 1 s per NFLOG message,
  // which delays verdicts past a window's close and loses the last batch at shutdown.
  const log = (group: number, prefix: string) =>
    `log prefix "${prefix}" group ${group} snaplen ${snaplen} queue-threshold 1`

  const chains: string[] = []
  const egressMap: string[] = []
  const ingressMap: string[] = []
  const bridges = new Map<string, BridgePorts>()
  network.interfaces.forEach((nic, n) => {
    if (nic.device === null) return
    const layout = layouts.get(nic.device) ?? { kind: 'routed' }
    if (layout.kind === 'unsupported') {
      throw new InputError(unsupportedReason(nic.device, layout) ?? `${nic.device}: unsupported device`)
    }
    const inbound: [SecurityGroupRule, number][] = []
    const outbound: [SecurityGroupRule, number][] = []
    for (const id of nic.securityGroups) {
      const group = groups.get(id)
      if (group === undefined) continue
      for (const r of group.inbound) inbound.push([r, index.get(r.id) ?? -1])
      for (const r of group.outbound) outbound.push([r, index.get(r.id) ?? -1])
    }
    // The platform services after the groups' rules, as the engine has them: several match lines,
    // one cause.
    const platform = platformRules(resolvers[n] ?? null)
    const platformIndex = index.get(PLATFORM_RULE_ID) ?? -1
    for (const r of platform.inbound) inbound.push([r, platformIndex])
    for (const r of platform.outbound) outbound.push([r, platformIndex])
    const established = {
      inbound: unique([...inbound, ...retiredInbound].filter(([, i]) => i >= 0)),
      outbound: unique([...outbound, ...retiredOutbound].filter(([, i]) => i >= 0)),
    }
    const all = unique([...established.inbound, ...established.outbound])
    if (layout.kind === 'bridged') {
      const ports = bridges.get(layout.bridge) ?? { index: bridges.size, byMac: [], byAddress: [] }
      bridges.set(layout.bridge, ports)
      const mac = nic.mac === null ? -1 : parseMac(nic.mac)
      if (mac >= 0) ports.byMac.push({ n, mac: formatMac(mac), addresses: nic.addresses })
      else ports.byAddress.push({ n, addresses: nic.addresses })
    } else {
      egressMap.push(`"${nic.device}" : jump if${n}_out`)
      ingressMap.push(`"${nic.device}" : jump if${n}_in`)
    }

    // One logging chain per rule and side: marks a new connection, logs, returns to the hook.
    for (const [rule, i] of all) {
      for (const egress of [true, false]) {
        const side = egress ? 'e' : 'i'
        const mark = egress
          ? `ct mark and 0xffff0000 or ${i + 1}`
          : `ct mark and 0x0000ffff or ${(i + 1) * 0x10000}`
        chains.push(
          chain(`a${n}_${side}_${i}`, [
            `ct state new ct mark set ${mark}`,
            log(options.acceptGroup, verdictPrefix(n, egress, i, nic.id, rule.id)),
          ]),
        )
      }
    }

    for (const egress of [true, false]) {
      const side = egress ? 'e' : 'i'
      const own = egress ? outbound : inbound
      // Established: this side originated the connection (egress original, ingress reply) → low half.
      const low = established.outbound.map(([, i]) => `${i + 1} : goto a${n}_${side}_${i}`)
      const high = established.inbound.map(([, i]) => `${(i + 1) * 0x10000} : goto a${n}_${side}_${i}`)
      const originated = egress ? 'original' : 'reply'
      const responded = egress ? 'reply' : 'original'
      const lines: string[] = []
      if (low.length > 0) {
        lines.push(
          `ct state established ct direction ${originated} ct mark and 0x0000ffff vmap { ${low.join(', ')} }`,
        )
      }
      if (high.length > 0) {
        lines.push(
          `ct state established ct direction ${responded} ct mark and 0xffff0000 vmap { ${high.join(', ')} }`,
        )
      }
      for (const [rule, i] of own) {
        if (i < 0) continue
        for (const match of ruleMatches(rule, egress ? 'daddr' : 'saddr', members)) {
          lines.push(`${match} goto a${n}_${side}_${i}`)
        }
      }
      lines.push(
        `ct state invalid ${log(options.dropGroup, verdictPrefix(n, egress, NOT_ESTABLISHED, nic.id, null))} drop`,
      )
      lines.push(`${log(options.dropGroup, verdictPrefix(n, egress, NO_MATCHING_RULE, nic.id, null))} drop`)
      chains.push(chain(`if${n}_${egress ? 'out' : 'in'}`, lines))
    }
  })

  // Neighbour discovery is IPv6's ARP: never judged, never logged, as the engine has it.
  const hook = (name: string, hookName: string, lines: string[]) =>
    chain(name, [
      `type filter hook ${hookName} priority filter; policy accept;`,
      `icmpv6 type { ${NEIGHBOUR_DISCOVERY} } accept`,
      ...lines,
    ])
  const egressVmap = egressMap.length > 0 ? [`iifname vmap { ${egressMap.join(', ')} }`] : []
  const ingressVmap = ingressMap.length > 0 ? [`oifname vmap { ${ingressMap.join(', ')} }`] : []
  const egressBridged: string[] = []
  const ingressBridged: string[] = []
  for (const [bridge, ports] of bridges) {
    egressBridged.push(`iifname "${bridge}" jump bridge${ports.index}_out`)
    ingressBridged.push(`oifname "${bridge}" jump bridge${ports.index}_in`)
    chains.push(...bridgeChains(ports))
  }
  const body = [
    hook('forward', 'forward', [...egressVmap, ...egressBridged, ...ingressVmap, ...ingressBridged]),
    hook('input', 'input', [...egressVmap, ...egressBridged]),
    hook('output', 'output', [...ingressVmap, ...ingressBridged]),
    ...chains,
  ]
  return [
    `# flowlog enforce mode: security groups of ${network.interfaces.filter((i) => i.device !== null).length} device(s).`,
    `# NFLOG group ${options.acceptGroup}: accepted packets; group ${options.dropGroup}: dropped packets.`,
    `# Loaded atomically: the add/delete pair replaces an older copy in the same transaction.`,
    `add table inet ${options.table}`,
    `delete table inet ${options.table}`,
    `table inet ${options.table} {`,
    ...body,
    '}',
    '',
  ].join('\n')
}

/** ICMPv6 neighbour discovery, router solicitation 133 to redirect 137. */
const NEIGHBOUR_DISCOVERY =
  'nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect'

/** The configured interfaces on one Linux bridge: by MAC where the config gives one, else by address. */
interface BridgePorts {
  index: number
  byMac: { n: number; mac: string; addresses: readonly string[] }[]
  byAddress: { n: number; addresses: readonly string[] }[]
}

/**
 * The dispatch chains of one bridge. With br_netfilter, bridged frames pass the inet hooks named
 * after the bridge, not the port, so the port is found from the frame:
 *
 * - what an instance sends (`iifname` the bridge: bridged, routed through the bridge's address, or
 *   for the host itself) carries its MAC as Ethernet source, whatever its IP source (DHCP, a
 *   link-local or secondary address): `ether saddr`;
 * - what an instance receives across the bridge carries its MAC as Ethernet destination; what the
 *   kernel routes or the host sends to it through the bridge does not (that header is the one it
 *   arrived with, or none in the output hook), and is found by its IP destination. `goto` leaves
 *   the chain at the first match, so no packet is judged twice for one interface;
 * - an interface without a MAC is found by its addresses both ways (docs/live.md says what that
 *   leaves unjudged, and the start log names such interfaces).
 */
function bridgeChains(ports: BridgePorts): string[] {
  const vmap = (selector: string, entries: string[]) =>
    entries.length === 0 ? [] : [`${selector} vmap { ${entries.join(', ')} }`]
  const byFamily = (
    list: { n: number; addresses: readonly string[] }[],
    field: 'saddr' | 'daddr',
    side: 'out' | 'in',
  ) => [
    ...vmap(
      `ip ${field}`,
      list.flatMap(({ n, addresses }) =>
        addresses.filter((a) => !a.includes(':')).map((a) => `${a} : goto if${n}_${side}`),
      ),
    ),
    ...vmap(
      `ip6 ${field}`,
      list.flatMap(({ n, addresses }) =>
        addresses.filter((a) => a.includes(':')).map((a) => `${a} : goto if${n}_${side}`),
      ),
    ),
  ]
  const out = [
    ...vmap(
      'ether saddr',
      ports.byMac.map(({ n, mac }) => `${mac} : goto if${n}_out`),
    ),
    ...byFamily(ports.byAddress, 'saddr', 'out'),
  ]
  const into = [
    ...vmap(
      'ether daddr',
      ports.byMac.map(({ n, mac }) => `${mac} : goto if${n}_in`),
    ),
    ...byFamily([...ports.byMac, ...ports.byAddress], 'daddr', 'in'),
  ]
  return [chain(`bridge${ports.index}_out`, out), chain(`bridge${ports.index}_in`, into)]
}

/** The first rule of each cause: one logging chain and one verdict-map entry per cause. */
function unique(rules: [SecurityGroupRule, number][]): [SecurityGroupRule, number][] {
  const seen = new Set<number>()
  return rules.filter(([, i]) => {
    if (seen.has(i)) return false
    seen.add(i)
    return true
  })
}

function chain(name: string, lines: string[]): string {
  return [`  chain ${name} {`, ...lines.map((l) => `    ${l}`), '  }'].join('\n')
}

/**
 * The match expressions of one rule, one line each (a group reference may need an IPv4 and an
 * IPv6 line); none when the rule can match nothing (a group without members).
 */
export function ruleMatches(
  rule: SecurityGroupRule,
  field: 'saddr' | 'daddr',
  members: ReadonlyMap<string, string[]>,
): string[] {
  const proto = protocolMatch(rule)
  const peers: string[] = []
  const cidr = parseCidr(rule.peer)
  if (typeof cidr !== 'string') {
    const v6 = cidr.text.includes(':')
    const length = Number(cidr.text.slice(cidr.text.indexOf('/') + 1))
    peers.push(
      length === 0 ? `meta nfproto ${v6 ? 'ipv6' : 'ipv4'}` : `${v6 ? 'ip6' : 'ip'} ${field} ${cidr.text}`,
    )
  } else {
    const addresses = members.get(rule.peer) ?? []
    const v4 = addresses.filter((a) => !a.includes(':'))
    const v6 = addresses.filter((a) => a.includes(':'))
    if (v4.length > 0) peers.push(`ip ${field} { ${v4.join(', ')} }`)
    if (v6.length > 0) peers.push(`ip6 ${field} { ${v6.join(', ')} }`)
  }
  return peers.map((p) => (proto === '' ? p : `${p} ${proto}`))
}

function protocolMatch(rule: SecurityGroupRule): string {
  const p = rule.protocol
  const icmp = (family: 'icmp' | 'icmpv6') => {
    const parts = [`meta l4proto ${family === 'icmp' ? 'icmp' : 'ipv6-icmp'}`]
    if (rule.icmpType >= 0) parts.push(`${family} type ${rule.icmpType}`)
    if (rule.icmpCode >= 0) parts.push(`${family} code ${rule.icmpCode}`)
    return parts.join(' ')
  }
  switch (p) {
    case 'all':
      return ''
    case 'tcp':
    case 'udp':
      return rule.ports === null ? `meta l4proto ${p}` : `${p} dport ${rule.ports}`
    case 'icmp':
      return icmp('icmp')
    case 'icmpv6':
      return icmp('icmpv6')
    default:
      return `meta l4proto ${p}`
  }
}
