import { DECODE, type DecodeResult, type PacketView } from '../core/packet-view.js'
import { u16 } from './bytes.js'
import { ICMP_TYPE, ICMPV6_TYPE, IPPROTO } from './ip-protocol.js'

/** Bytes of a TCP header needed for ports and the flag byte (RFC 9293 §3.1). */
const TCP_PORTS_AND_FLAGS = 14
const UDP_HEADER = 8
const SCTP_COMMON_HEADER = 12

/**
 * Reads the transport header at `t` (bounded by `end`, the smaller of captured and IP length):
 * ports for TCP, UDP, UDP-Lite and SCTP, flags for TCP, type/code (and the echo identifier) for
 * ICMP and ICMPv6. Any other protocol is a flow with ports 0, which is not an error.
 */
export function decodeTransport(
  protocol: number,
  d: Uint8Array,
  t: number,
  end: number,
  view: PacketView,
): DecodeResult {
  switch (protocol) {
    case IPPROTO.TCP:
      if (end - t < TCP_PORTS_AND_FLAGS) return DECODE.TRUNCATED_TRANSPORT
      view.srcPort = u16(d, t)
      view.dstPort = u16(d, t + 2)
      // Data offset counts 32-bit words; below 5 the header cannot hold its own fixed part.
      if (d[t + 12]! >> 4 < 5) return DECODE.BAD_TCP_HEADER_LENGTH
      view.tcpFlags = d[t + 13]!
      return DECODE.OK
    case IPPROTO.UDP:
    case IPPROTO.UDPLITE:
      // The whole 8-byte header, as tcpdump's "truncated-udp" judges it (RFC 768, RFC 3828).
      if (end - t < UDP_HEADER) return DECODE.TRUNCATED_TRANSPORT
      view.srcPort = u16(d, t)
      view.dstPort = u16(d, t + 2)
      return DECODE.OK
    case IPPROTO.SCTP:
      // The 12-byte common header: ports, verification tag, checksum (RFC 9260 §3.1).
      if (end - t < SCTP_COMMON_HEADER) return DECODE.TRUNCATED_TRANSPORT
      view.srcPort = u16(d, t)
      view.dstPort = u16(d, t + 2)
      return DECODE.OK
    case IPPROTO.ICMP:
      return decodeICMP(d, t, end, view, ICMP_TYPE.ECHO_REQUEST, ICMP_TYPE.ECHO_REPLY)
    case IPPROTO.ICMPV6:
      return decodeICMP(d, t, end, view, ICMPV6_TYPE.ECHO_REQUEST, ICMPV6_TYPE.ECHO_REPLY)
    default:
      return DECODE.OK
  }
}

/** ICMP and ICMPv6 share the layout: type, code, checksum, then for echo the identifier (RFC 792, RFC 4443 §4.1). */
function decodeICMP(
  d: Uint8Array,
  t: number,
  end: number,
  view: PacketView,
  echoRequest: number,
  echoReply: number,
): DecodeResult {
  if (end - t < 2) return DECODE.TRUNCATED_TRANSPORT
  const type = d[t]!
  view.icmpType = type
  view.icmpCode = d[t + 1]!
  if (type === echoRequest || type === echoReply) {
    if (end - t < 6) return DECODE.TRUNCATED_TRANSPORT
    view.icmpId = u16(d, t + 4)
  }
  return DECODE.OK
}
