import { parseAddress } from '../core/address.js'
import type { NetworkConfig, Protocol, SecurityGroupRule } from '../core/network.js'
import { PacketView } from '../core/packet-view.js'

/**
 * Test helpers for the policy engine: networks and packets written compactly by hand, so the
 * tests read like the AWS examples they come from and need neither the config loader nor a decoder.
 */

export type RuleSpec = Partial<Omit<SecurityGroupRule, 'peer'>> & { protocol: Protocol; peer: string }

export interface GroupSpec {
  inbound?: RuleSpec[]
  outbound?: RuleSpec[]
}

export interface InterfaceSpec {
  id: string
  addresses: string[]
  groups: string[]
}

/** A validated-looking NetworkConfig: one VPC and subnet, the given groups and interfaces. */
export function makeNetwork(groups: Record<string, GroupSpec>, interfaces: InterfaceSpec[]): NetworkConfig {
  const rule = (group: string, kind: 'in' | 'out', spec: RuleSpec, i: number): SecurityGroupRule => ({
    id: spec.id ?? `${group}-${kind}-${i + 1}`,
    protocol: spec.protocol,
    ports: spec.ports ?? null,
    icmpType: spec.icmpType ?? -1,
    icmpCode: spec.icmpCode ?? -1,
    peer: spec.peer,
    description: null,
  })
  return {
    account: '123456789012',
    region: 'kr1',
    vpcs: [
      {
        id: 'vpc-1',
        cidrs: ['10.0.0.0/16'],
        subnets: [{ id: 'subnet-1', cidrs: ['10.0.0.0/16'], az: null }],
      },
    ],
    securityGroups: Object.entries(groups).map(([id, g]) => ({
      id,
      vpc: null,
      description: null,
      inbound: (g.inbound ?? []).map((r, i) => rule(id, 'in', r, i)),
      outbound: (g.outbound ?? []).map((r, i) => rule(id, 'out', r, i)),
    })),
    interfaces: interfaces.map((n) => ({
      id: n.id,
      instance: null,
      subnet: 'subnet-1',
      mac: null,
      addresses: n.addresses,
      device: null,
      securityGroups: n.groups,
    })),
    flowLogs: [],
    limits: { flowTableCapacity: 1000, connectionTableCapacity: 1000 },
  }
}

export interface PacketSpec {
  /** 'tcp' | 'udp' | 'icmp' | 'icmpv6' or a protocol number. */
  protocol: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | number
  src: string
  dst: string
  srcPort?: number
  dstPort?: number
  /** TCP flags as letters (S, A, F, R, P) or the raw byte. */
  flags?: string | number
  icmpType?: number
  icmpCode?: number
  icmpId?: number
  fragment?: number
  fragmentId?: number
}

const PROTOCOLS = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 } as const
const FLAG_BITS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10 }

export function packet(spec: PacketSpec): PacketView {
  const view = new PacketView()
  view.ipVersion = spec.src.includes(':') ? 6 : 4
  view.protocol = typeof spec.protocol === 'number' ? spec.protocol : PROTOCOLS[spec.protocol]
  if (!parseAddress(spec.src, view.src) || !parseAddress(spec.dst, view.dst)) {
    throw new Error(`bad test address ${spec.src} or ${spec.dst}`)
  }
  view.srcPort = spec.srcPort ?? 0
  view.dstPort = spec.dstPort ?? 0
  const flags = spec.flags ?? 0
  view.tcpFlags = typeof flags === 'number' ? flags : [...flags].reduce((f, c) => f | (FLAG_BITS[c] ?? 0), 0)
  view.icmpType = spec.icmpType ?? -1
  view.icmpCode = spec.icmpCode ?? -1
  view.icmpId = spec.icmpId ?? -1
  view.fragment = spec.fragment ?? 0
  view.fragmentId = spec.fragmentId ?? 0
  view.ipLength = 60
  return view
}

/** The packet going the other way: addresses and ports swapped, ICMP echo request → reply. */
export function reply(spec: PacketSpec, changes: Partial<PacketSpec> = {}): PacketSpec {
  const echoReply: Record<number, number> = { 8: 0, 128: 129 }
  const swapped: PacketSpec = {
    ...spec,
    src: spec.dst,
    dst: spec.src,
    srcPort: spec.dstPort ?? 0,
    dstPort: spec.srcPort ?? 0,
  }
  if (spec.icmpType !== undefined) swapped.icmpType = echoReply[spec.icmpType] ?? spec.icmpType
  return { ...swapped, ...changes }
}

/** A small seeded generator (mulberry32), 0 <= x < 1: the same cases on every run, a seed to name a failure. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
