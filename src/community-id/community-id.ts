import { createHash } from 'node:crypto'
import { isV4Mapped, parseAddress } from '../core/address.js'

/**
 * Community ID v1 (corelight/community-id-spec): the flow hash Zeek, Suricata, Elastic and others put
 * on their records, so a flow-log record joins with theirs.
 *
 *   "1:" + base64(SHA-1(seed:u16 | saddr | daddr | proto:u8 | 0:u8 | sport:u16 | dport:u16))
 *
 * all in network byte order, addresses 4 bytes (IPv4) or 16 (IPv6). The tuple is ordered so that the
 * smaller (address, port) endpoint comes first, which gives both directions of a connection one id.
 * Ports are hashed only for TCP, UDP, SCTP, ICMP and ICMPv6; for ICMP the "ports" are the type and
 * code, and a type with a reply type (echo ↔ echo reply, ...) uses the reply type as the destination
 * port so request and reply hash alike; other ICMP types are one-way and keep their order.
 */
export interface FlowTuple {
  protocol: number
  srcAddr: string
  dstAddr: string
  /** Source port; for ICMP/ICMPv6, the type. */
  srcPort: number
  /** Destination port; for ICMP/ICMPv6, the code. */
  dstPort: number
}

const ICMP = 1
const TCP = 6
const UDP = 17
const ICMPV6 = 58
const SCTP = 132

/** ICMPv4 type → the type of its answer (both ways). */
const ICMP4_PAIRS: ReadonlyMap<number, number> = pairs([
  [8, 0], // echo
  [13, 14], // timestamp
  [15, 16], // information
  [10, 9], // router solicitation / advertisement
  [17, 18], // address mask
])

/** ICMPv6 type → the type of its answer (both ways). */
const ICMP6_PAIRS: ReadonlyMap<number, number> = pairs([
  [128, 129], // echo
  [133, 134], // router solicitation / advertisement
  [135, 136], // neighbor solicitation / advertisement
  [139, 140], // node information query / response
  [144, 145], // home agent address discovery
  [130, 131], // multicast listener query / report
])

function pairs(list: readonly (readonly [number, number])[]): Map<number, number> {
  const map = new Map<number, number>()
  for (const [a, b] of list) {
    map.set(a, b)
    map.set(b, a)
  }
  return map
}

const words = new Uint32Array(8)

/** The Community ID of a flow, or null when an address is not an IP address or the families differ. */
export function communityId(flow: FlowTuple, seed = 0): string | null {
  if (!parseAddress(flow.srcAddr, words, 0) || !parseAddress(flow.dstAddr, words, 4)) return null
  const v4 = isV4Mapped(words, 0)
  if (v4 !== isV4Mapped(words, 4)) return null
  const addressBytes = v4 ? 4 : 16
  const src = addressOf(0, v4)
  const dst = addressOf(4, v4)
  const { protocol } = flow
  let sport = flow.srcPort
  let dport = flow.dstPort
  const hasPorts =
    protocol === TCP || protocol === UDP || protocol === SCTP || protocol === ICMP || protocol === ICMPV6
  let oneWay = false
  if (protocol === ICMP || protocol === ICMPV6) {
    const answer = (protocol === ICMP ? ICMP4_PAIRS : ICMP6_PAIRS).get(sport)
    if (answer === undefined) oneWay = true
    else dport = answer
  }
  let first = src
  let second = dst
  if (!oneWay) {
    const order = Buffer.compare(src, dst)
    if (order > 0 || (order === 0 && sport > dport)) {
      first = dst
      second = src
      const t = sport
      sport = dport
      dport = t
    }
  }
  const input = Buffer.alloc(2 + 2 * addressBytes + 2 + (hasPorts ? 4 : 0))
  let o = input.writeUInt16BE(seed & 0xffff, 0)
  o += first.copy(input, o)
  o += second.copy(input, o)
  o = input.writeUInt8(protocol & 0xff, o)
  o = input.writeUInt8(0, o)
  if (hasPorts) {
    o = input.writeUInt16BE(sport & 0xffff, o)
    input.writeUInt16BE(dport & 0xffff, o)
  }
  return `1:${createHash('sha1').update(input).digest('base64')}`
}

function addressOf(offset: number, v4: boolean): Buffer {
  if (v4) {
    const b = Buffer.alloc(4)
    b.writeUInt32BE(words[offset + 3]!, 0)
    return b
  }
  const b = Buffer.alloc(16)
  for (let i = 0; i < 4; i++) b.writeUInt32BE(words[offset + i]!, 4 * i)
  return b
}

/** A flow-log row, or anything keyed alike (FlowRow, a DuckDB row's values). */
type RowLike = Readonly<Record<string, string | number | null | undefined>>

/**
 * `community-id`: the id of the packets, as Zeek and Suricata compute it from the wire, so a record
 * joins with their conn.log or EVE: the packet's own addresses (pkt-srcaddr/pkt-dstaddr, which differ
 * from srcaddr/dstaddr behind a NAT gateway, a load balancer or on a secondary address), else
 * srcaddr/dstaddr.
 *
 * Null where it cannot be right: NODATA/SKIPDATA and records without addresses, and ICMP/ICMPv6,
 * because flow logs write 0 for both ports of ICMP and keep no type or code, and Zeek hashes the
 * real type and code: any id would be a guess that matches none of theirs.
 */
export function communityIdOfRow(row: RowLike): string | null {
  const protocol = row.protocol
  if (typeof protocol !== 'number' || protocol === ICMP || protocol === ICMPV6) return null
  return idOf(row, protocol, row['pkt-srcaddr'] ?? row.srcaddr, row['pkt-dstaddr'] ?? row.dstaddr)
}

/**
 * `community-id-elastic`: the id Elastic's AWS integration (Filebeat's parse_aws_vpc_flow_log and
 * community_id processors) puts on the same record, so it joins with documents indexed there: the
 * interface's view (srcaddr/dstaddr, never pkt-*), and ICMP/ICMPv6 hashed with type 0 and code 0,
 * which is what that processor does when a record carries no type or code.
 */
export function elasticCommunityIdOfRow(row: RowLike): string | null {
  const protocol = row.protocol
  if (typeof protocol !== 'number') return null
  return idOf(row, protocol, row.srcaddr, row.dstaddr)
}

function idOf(row: RowLike, protocol: number, srcAddr: unknown, dstAddr: unknown): string | null {
  if (typeof srcAddr !== 'string' || typeof dstAddr !== 'string') return null
  const icmp = protocol === ICMP || protocol === ICMPV6
  const srcPort = !icmp && typeof row.srcport === 'number' ? row.srcport : 0
  const dstPort = !icmp && typeof row.dstport === 'number' ? row.dstport : 0
  return communityId({ protocol, srcAddr, dstAddr, srcPort, dstPort })
}

/** The Community ID fields a query can show or filter on, each with how a row gets it. */
export const COMMUNITY_ID_FIELDS: ReadonlyMap<string, (row: RowLike) => string | null> = new Map([
  ['community-id', communityIdOfRow],
  ['community-id-elastic', elasticCommunityIdOfRow],
])
