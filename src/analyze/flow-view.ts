import { parseAddress } from '../core/address.js'
import type { NetworkConfig, SecurityGroupRule } from '../core/network.js'
import { PacketView } from '../core/packet-view.js'
import { DIRECTION, type Direction } from '../core/verdict.js'
import type { Flow } from './flow.js'

/**
 * A recorded flow seen as the packet the policy engine judges: the engine knows packets, a flow
 * record is the summary of some. Used to re-judge records (audit, what-if) and to name the rule
 * that let a suspicious source in (detect).
 *
 * What a record does not say is filled in the way that keeps verdicts faithful:
 * - TCP flags: AWS's OR over the window (FIN 1, SYN 2, RST 4, SYN-ACK 18) are real flag bits; a
 *   record without SYN or with no flags at all is mid-connection traffic, so ACK is set.
 * - ICMP type: records have none (ports 0). The type of the rule that accepted it (rule-id) when the
 *   record names an ICMP rule with a type, else an echo request; every record of one address pair
 *   then keys one "ping" connection, so replies find their request.
 */

const FIN = 0x01
const SYN = 0x02
const RST = 0x04
const ACK = 0x10

export interface InterfaceIndex {
  /** interface id → index in network.interfaces. */
  readonly byId: ReadonlyMap<string, number>
  /** address → index of the interface that owns it: by its config text and by its canonical words. */
  readonly byAddress: ReadonlyMap<string, number>
  /** rule id → the rule. */
  readonly rules: ReadonlyMap<string, SecurityGroupRule>
}

function canonical(address: string): string {
  const words = new Uint32Array(4)
  return parseAddress(address, words) ? Array.from(words).join('.') : address
}

export function indexInterfaces(network: NetworkConfig): InterfaceIndex {
  const byId = new Map<string, number>()
  const byAddress = new Map<string, number>()
  network.interfaces.forEach((nic, i) => {
    byId.set(nic.id, i)
    for (const a of nic.addresses) {
      byAddress.set(a, i)
      byAddress.set(canonical(a), i)
    }
  })
  const rules = new Map<string, SecurityGroupRule>()
  for (const g of network.securityGroups) for (const r of [...g.inbound, ...g.outbound]) rules.set(r.id, r)
  return { byId, byAddress, rules }
}

/** The interface a record belongs to and its direction there; null when the config does not know it. */
export function placeFlow(flow: Flow, index: InterfaceIndex): { iface: number; direction: Direction } | null {
  // The text as written is found at once (IPv4 has one spelling); other spellings of IPv6 by their words.
  const ownerOf = (a: string | null) =>
    a === null
      ? undefined
      : (index.byAddress.get(a) ?? (a.includes(':') ? index.byAddress.get(canonical(a)) : undefined))
  let iface = flow.interfaceId === null ? undefined : index.byId.get(flow.interfaceId)
  if (flow.interfaceId !== null && iface === undefined) return null
  if (iface === undefined) {
    // No interface id in the format: the interface that owns an address of the record.
    iface = ownerOf(flow.ifDstaddr) ?? ownerOf(flow.ifSrcaddr)
    if (iface === undefined) return null
  }
  if (flow.direction !== null) {
    const direction =
      flow.direction === 'ingress'
        ? DIRECTION.INGRESS
        : flow.direction === 'egress'
          ? DIRECTION.EGRESS
          : DIRECTION.UNKNOWN
    return { iface, direction }
  }
  // No flow-direction (AWS v2 default format): the interface's own side tells.
  if (ownerOf(flow.ifDstaddr) === iface) return { iface, direction: DIRECTION.INGRESS }
  if (ownerOf(flow.ifSrcaddr) === iface) return { iface, direction: DIRECTION.EGRESS }
  return { iface, direction: DIRECTION.UNKNOWN }
}

/**
 * Fills `view` with the packet a record stands for. Returns false when the record has no usable
 * addresses or protocol. `icmpId` keys ICMP connections (what-if keys recorded rejects apart);
 * `words` are the record's addresses already parsed (parseWords).
 */
export function flowToView(
  flow: Flow,
  view: PacketView,
  index: InterfaceIndex | null,
  icmpId = 0,
  words: Uint32Array | null = null,
): boolean {
  if (flow.srcaddr === null || flow.dstaddr === null || flow.protocol === null) return false
  if (words !== null) {
    // Parsed once by the caller (8 words: source, destination); a replay reads each record often.
    for (let w = 0; w < 4; w++) {
      view.src[w] = words[w] ?? 0
      view.dst[w] = words[4 + w] ?? 0
    }
  } else if (!parseAddress(flow.srcaddr, view.src) || !parseAddress(flow.dstaddr, view.dst)) return false
  view.ipVersion = flow.srcaddr.includes(':') ? 6 : 4
  view.protocol = flow.protocol
  const ported = flow.protocol === 6 || flow.protocol === 17 || flow.protocol === 132
  view.srcPort = ported ? (flow.srcport ?? 0) : 0
  view.dstPort = ported ? (flow.dstport ?? 0) : 0
  view.tcpFlags = 0
  if (flow.protocol === 6) {
    const flags = (flow.tcpFlags ?? 0) & (FIN | SYN | RST | ACK)
    view.tcpFlags = (flags & SYN) === 0 ? flags | ACK : flags
  }
  view.icmpType = -1
  view.icmpCode = -1
  view.icmpId = -1
  if (flow.protocol === 1 || flow.protocol === 58) {
    const rule = flow.ruleId === null ? undefined : index?.rules.get(flow.ruleId)
    const typed =
      rule !== undefined && (rule.protocol === 'icmp' || rule.protocol === 'icmpv6') && rule.icmpType >= 0
    view.icmpType = typed ? rule.icmpType : flow.protocol === 1 ? 8 : 128
    view.icmpCode = typed && rule.icmpCode >= 0 ? rule.icmpCode : 0
    view.icmpId = icmpId
  }
  view.ipLength = flow.packets > 0 ? Math.round(flow.bytes / flow.packets) : 0
  view.fragment = 0
  view.fragmentId = 0
  return true
}

/** A fresh view for callers that judge records one at a time. */
export function newView(): PacketView {
  return new PacketView()
}

/** A record's source and destination as 8 address words, or null when either is not an address. */
export function parseWords(flow: Flow): Uint32Array | null {
  if (flow.srcaddr === null || flow.dstaddr === null) return null
  const words = new Uint32Array(8)
  return parseAddress(flow.srcaddr, words, 0) && parseAddress(flow.dstaddr, words, 4) ? words : null
}
