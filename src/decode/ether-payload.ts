import { DECODE, type DecodeResult, type PacketView } from '../core/packet-view.js'
import { mac48, u16 } from './bytes.js'
import { ETHERTYPE, MAX_VLAN_TAGS } from './ethertype.js'
import { decodeIPv4 } from './ipv4.js'
import { decodeIPv6 } from './ipv6.js'
import { mplsPayload } from './mpls.js'
import { decodePppoeSession } from './pppoe.js'

const ETHERNET_HEADER = 14
/** RFC 4385 §3: the pseudowire control word, first nibble 0. */
const PW_CONTROL_WORD = 4

/**
 * Decodes what follows an EtherType field (Ethernet, Linux cooked capture): 802.1Q / 802.1ad /
 * legacy QinQ tags, each a 2-byte TCI and the next EtherType (IEEE 802.1Q §9.6), then IPv4 or
 * IPv6, directly or inside a PPPoE session (pppoe.ts) or an MPLS label stack (mplsPayload). The
 * outermost tag's VLAN id is recorded (in QinQ that is the provider's S-VLAN). Anything that is not
 * IP (ARP, LLDP, PPPoE discovery, 802.3 length fields, ...) is NOT_IP.
 *
 * `pseudowire` is set for the Ethernet frame inside an MPLS pseudowire: MPLS inside it is not
 * followed again, so nesting stays one level deep whatever the bytes say.
 */
export function decodeEtherPayload(
  type: number,
  d: Uint8Array,
  p: number,
  end: number,
  view: PacketView,
  pseudowire = false,
): DecodeResult {
  for (
    let tags = 0;
    type === ETHERTYPE.VLAN || type === ETHERTYPE.QINQ || type === ETHERTYPE.QINQ_LEGACY;
    tags++
  ) {
    if (tags === MAX_VLAN_TAGS) return DECODE.TOO_MANY_VLAN_TAGS
    if (end - p < 4) return DECODE.TRUNCATED_LINK
    if (tags === 0 && view.vlan < 0) view.vlan = u16(d, p) & 0x0fff
    type = u16(d, p + 2)
    p += 4
  }
  if (type === ETHERTYPE.IPV4) return decodeIPv4(d, p, end, view)
  if (type === ETHERTYPE.IPV6) return decodeIPv6(d, p, end, view)
  if (type === ETHERTYPE.PPPOE_SESSION) return decodePppoeSession(d, p, end, view)
  if ((type === ETHERTYPE.MPLS_UNICAST || type === ETHERTYPE.MPLS_MULTICAST) && !pseudowire) {
    const payload = mplsPayload(d, p, end)
    return payload < 0 ? (-payload as DecodeResult) : decodeMplsPayload(d, payload, end, view)
  }
  return DECODE.NOT_IP
}

/**
 * What follows the bottom of an MPLS label stack, told by its first nibble as Wireshark tells it:
 * 4 IPv4, 6 IPv6 (RFC 4928 keeps other payloads from starting so); 1 a pseudowire's associated
 * channel (RFC 4385), not IP; 0 the control word of an Ethernet pseudowire (RFC 4448 §4.6), then
 * the frame; anything else an Ethernet pseudowire without one, the frame at once. The inner
 * frame's MACs (the endpoints') replace the outer ones; its VLAN id counts only if the outside
 * had none. Wireshark also looks the MACs' vendors up to spot a frame without control word whose
 * address starts with nibble 0; without that table, such a frame is misread and most likely
 * `not-ip`.
 */
function decodeMplsPayload(d: Uint8Array, p: number, end: number, view: PacketView): DecodeResult {
  if (end - p < 1) return DECODE.TRUNCATED_IP
  const nibble = d[p]! >> 4
  if (nibble === 4) return decodeIPv4(d, p, end, view)
  if (nibble === 6) return decodeIPv6(d, p, end, view)
  if (nibble === 1) return DECODE.NOT_IP
  const frame = nibble === 0 ? p + PW_CONTROL_WORD : p
  if (end - frame < ETHERNET_HEADER) return DECODE.TRUNCATED_LINK
  view.dstMac = mac48(d, frame)
  view.srcMac = mac48(d, frame + 6)
  return decodeEtherPayload(u16(d, frame + 12), d, frame + ETHERNET_HEADER, end, view, true)
}
