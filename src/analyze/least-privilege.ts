import { isCidrLike } from '../config/rules.js'
import { ipv4Value } from '../core/address.js'
import type { SecurityGroupRule } from '../core/network.js'
import { portRanges, portRangeText, type SummaryLimits, summarizeAddresses } from './cidr-summary.js'
import { PeerSet } from './peer-set.js'
import { PortPeers } from './port-peers.js'

/**
 * The narrowest rules that still carry what one rule carried: its peers summarised into a few
 * CIDRs, its ports into a few ranges, `all` split into the protocols that were used. A rule whose
 * peers are too spread to list (a public web server's clients) keeps its CIDR; a group reference
 * is kept (it already names exactly the members). Records have no ICMP type, so an ICMP rule keeps
 * its type and code, and `all` becomes ICMP of any type.
 */

/** What a rule carried: from the records it accepted in its own direction. */
export interface RuleUsage {
  records: number
  packets: number
  bytes: number
  first: number
  last: number
  /** Source addresses (inbound rule) or destinations (outbound), as PeerKeys (peerText: their text). */
  peers: PeerSet
  /**
   * protocol number → the (destination port, peer) pairs of its records. Of records audit judged
   * in SQL (audit-singles.ts), a peer is recorded at the first port of its port range only: all
   * least privilege asks.
   */
  protocols: Map<number, PortPeers>
}

/** A peer address as a set member: an IPv4 address as its value (signed 32-bit), others as text. */
export type PeerKey = number | string

export function peerKey(address: string): PeerKey {
  const v4 = ipv4Value(address)
  return v4 >= 0 ? v4 | 0 : address
}

/** A PeerKey's address as it was written (an IPv4 address has one way to be). */
export function peerText(key: PeerKey): string {
  if (typeof key === 'string') return key
  const v = key >>> 0
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`
}

export function emptyUsage(): RuleUsage {
  return {
    records: 0,
    packets: 0,
    bytes: 0,
    first: Number.POSITIVE_INFINITY,
    last: Number.NEGATIVE_INFINITY,
    peers: new PeerSet(),
    protocols: new Map(),
  }
}

export interface LeastPrivilegeLimits extends SummaryLimits {
  maxPortRanges: number
}

export const DEFAULT_LEAST_PRIVILEGE_LIMITS: LeastPrivilegeLimits = {
  maxEntries: 4,
  minPrefixV4: 16,
  minPrefixV6: 48,
  maxPortRanges: 4,
}

export interface LeastPrivilege {
  /** Replacement rules (ids still to be assigned: the first keeps the original id). */
  rules: Omit<SecurityGroupRule, 'id'>[]
  /** Why they are narrower, e.g. `source 0.0.0.0/0 → 1 CIDR (2 addresses seen)`; empty when not. */
  narrower: string[]
}

const NAMES: Record<number, 'tcp' | 'udp' | 'icmp' | 'icmpv6'> = {
  6: 'tcp',
  17: 'udp',
  1: 'icmp',
  58: 'icmpv6',
}

/** Records one accepted record's protocol, destination port and peer (text, or its PeerKey). */
export function addTuple(usage: RuleUsage, protocol: number, port: number, peer: PeerKey): void {
  const key = typeof peer === 'string' ? peerKey(peer) : peer
  usage.peers.add(key)
  portsOf(usage, protocol).add(port, key)
}

/** The (port, peer) pairs of one protocol in a usage, made when it is the first. */
export function portsOf(usage: RuleUsage, protocol: number): PortPeers {
  let pairs = usage.protocols.get(protocol)
  if (pairs === undefined) {
    pairs = new PortPeers()
    usage.protocols.set(protocol, pairs)
  }
  return pairs
}

/**
 * A TCP or UDP protocol's ports as the ranges least privilege proposes, [from, to] each; first
 * [-1, -1] when records without a destination port ('-') were carried: which port they used is
 * unknown, so their peers keep the rule's own ports (NO_PORT).
 */
function rangesOf(pairs: PortPeers, limits: LeastPrivilegeLimits): [number, number][] {
  const ports = pairs.ports()
  const known = portRanges(
    ports.filter((p) => p >= 0),
    limits.maxPortRanges,
  )
  return ports[0] === NO_PORT ? [[NO_PORT, NO_PORT], ...known] : known
}

/** The port of a TCP or UDP record without one (the port addUsage in audit.ts gives addTuple). */
const NO_PORT = -1

/**
 * The port ranges whose peers leastPrivilege(rule, …, usage) reads, per protocol of the usage
 * (a protocol without ports: one range of every port).
 */
export function rangesRead(
  rule: SecurityGroupRule,
  usage: RuleUsage,
  limits: LeastPrivilegeLimits = DEFAULT_LEAST_PRIVILEGE_LIMITS,
): Map<number, [number, number][]> {
  const read = new Map<number, [number, number][]>()
  for (const [protocol, pairs] of usage.protocols) {
    const name = NAMES[protocol]
    const ported = name === 'tcp' || name === 'udp'
    if (rule.protocol === 'all') read.set(protocol, ported ? rangesOf(pairs, limits) : [[-1, 65535]])
    else if (ported && rule.protocol === name) read.set(protocol, rangesOf(pairs, limits))
  }
  return read
}

type Shape = Pick<SecurityGroupRule, 'protocol' | 'ports' | 'icmpType' | 'icmpCode'>

export function leastPrivilege(
  rule: SecurityGroupRule,
  direction: 'inbound' | 'outbound',
  usage: RuleUsage,
  limits: LeastPrivilegeLimits = DEFAULT_LEAST_PRIVILEGE_LIMITS,
): LeastPrivilege {
  const narrower: string[] = []
  const side = direction === 'inbound' ? 'source' : 'destination'
  const cidrPeer = isCidrLike(rule.peer)
  // Peers per shape: each port range gets the peers that used it, not every peer of the rule.
  const peersOf = (peers: Iterable<PeerKey>): string[] => {
    if (!cidrPeer) return [rule.peer]
    return summarizeAddresses(peers, limits) ?? [rule.peer]
  }
  const shaped: { shape: Shape; peers: string[] }[] = []
  // A TCP or UDP protocol's ranges as a rule writes their ports. Records without a port keep the
  // rule's ports (all, for `all`): with the range written the same when there is one (one rule,
  // not two alike), else apart.
  const portGroups = (name: 'tcp' | 'udp', pairs: PortPeers) => {
    const groups = new Map<string | null, { ranges: [number, number][]; portless: boolean }>()
    for (const range of rangesOf(pairs, limits)) {
      const portless = range[0] === NO_PORT
      const text = portless ? (rule.protocol === name ? rule.ports : null) : portRangeText(range)
      const group = groups.get(text)
      if (group === undefined) groups.set(text, { ranges: [range], portless })
      else {
        group.ranges.push(range)
        group.portless = false
      }
    }
    return groups
  }
  // Each with the peers that used its ports.
  const addPorts = (name: 'tcp' | 'udp', pairs: PortPeers) => {
    for (const [ports, { ranges }] of portGroups(name, pairs)) {
      const peers = ranges.flatMap(([from, to]) => pairs.peers(from, to))
      shaped.push({ shape: { protocol: name, ports, icmpType: -1, icmpCode: -1 }, peers: peersOf(peers) })
    }
  }
  const rangesText = (name: 'tcp' | 'udp', pairs: PortPeers) =>
    [...portGroups(name, pairs)].map(([ports, { portless }]) =>
      portless ? `${ports ?? 'all'} (records without a port)` : ports,
    )
  const used = [...usage.protocols.entries()].sort((a, b) => a[0] - b[0])
  if (rule.protocol === 'all') {
    for (const [protocol, ports] of used) {
      const name = NAMES[protocol]
      if (name === 'tcp' || name === 'udp') addPorts(name, ports)
      else {
        const peers = ports.peers()
        shaped.push({
          shape: { protocol: name ?? protocol, ports: null, icmpType: -1, icmpCode: -1 },
          peers: peersOf(peers),
        })
      }
    }
    const what = used.map(([p, ports]) => {
      const name = NAMES[p] ?? `protocol ${p}`
      return name === 'tcp' || name === 'udp' ? `${name} ${rangesText(name, ports).join(',')}` : name
    })
    narrower.push(`all traffic → ${what.join('; ')}`)
  } else if (rule.protocol === 'tcp' || rule.protocol === 'udp') {
    const ports = usage.protocols.get(rule.protocol === 'tcp' ? 6 : 17) ?? new PortPeers()
    addPorts(rule.protocol, ports)
    const ranges = shaped.map((x) => x.shape.ports)
    if (!(ranges.length === 1 && ranges[0] === rule.ports))
      narrower.push(`ports ${rule.ports ?? 'all'} → ${rangesText(rule.protocol, ports).join(', ')}`)
  } else {
    const shape = {
      protocol: rule.protocol,
      ports: rule.ports,
      icmpType: rule.icmpType,
      icmpCode: rule.icmpCode,
    }
    shaped.push({ shape, peers: peersOf(usage.peers) })
  }

  const peerSets = new Set(shaped.flatMap((x) => x.peers))
  if (cidrPeer && !(peerSets.size === 1 && peerSets.has(rule.peer))) {
    const seen = `${usage.peers.size} address${usage.peers.size === 1 ? '' : 'es'} seen`
    const listed = peerSets.size === 1 ? [...peerSets][0] : `${peerSets.size} CIDRs`
    narrower.unshift(`${side} ${rule.peer} → ${listed} (${seen})`)
  }
  const rules = shaped.flatMap(({ shape, peers }) =>
    peers.map((peer) => ({
      ...shape,
      peer,
      description: `least privilege for ${usage.records} record(s) of ${rule.id}`,
    })),
  )
  return { rules, narrower }
}
