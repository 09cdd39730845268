import { DECODE, type DecodeResult, type PacketView } from '../core/packet-view.js'
import { u16 } from './bytes.js'
import { decodeIPv4 } from './ipv4.js'
import { decodeIPv6 } from './ipv6.js'

/** RFC 2516 §4: VER 1 and TYPE 1 in one byte, then CODE (0 for session data), SESSION_ID, LENGTH. */
const PPPOE_HEADER = 6
const PPPOE_VERSION_TYPE = 0x11
const PPPOE_SESSION_DATA = 0x00
/** PPP protocol numbers (RFC 1332, RFC 5072) of the network layers a flow can come from. */
const PPP_IPV4 = 0x0021
const PPP_IPV6 = 0x0057

/**
 * A PPPoE session frame (EtherType 0x8864, RFC 2516 §5.4): the 6-byte PPPoE header, then PPP's
 * protocol field (RFC 1661 §2) and the datagram. The field is 2 bytes, or 1 when the peers
 * negotiated Protocol-Field-Compression (RFC 1661 §6.5; RFC 2516 §7 only advises against it): a
 * protocol number's first byte is even and its last odd, so an odd first byte is a compressed field.
 * IPv4 and IPv6 are decoded; LCP, IPCP, PAP, CHAP and the rest are link control, not a flow
 * (`not-ip`), as is a header of another version or a code other than session data.
 */
export function decodePppoeSession(d: Uint8Array, p: number, end: number, view: PacketView): DecodeResult {
  if (end - p < PPPOE_HEADER + 1) return DECODE.TRUNCATED_LINK
  if (d[p] !== PPPOE_VERSION_TYPE || d[p + 1] !== PPPOE_SESSION_DATA) return DECODE.NOT_IP
  let ip = p + PPPOE_HEADER
  let protocol = d[ip]!
  if ((protocol & 1) === 1) ip += 1
  else {
    if (end - ip < 2) return DECODE.TRUNCATED_LINK
    protocol = u16(d, ip)
    ip += 2
  }
  if (protocol === PPP_IPV4) return decodeIPv4(d, ip, end, view)
  if (protocol === PPP_IPV6) return decodeIPv6(d, ip, end, view)
  return DECODE.NOT_IP
}
