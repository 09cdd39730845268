import { DECODE, type DecodeResult, type PacketView } from '../core/packet-view.js'
import { u16 } from './bytes.js'
import { ETHERTYPE, MAX_VLAN_TAGS } from './ethertype.js'
import { decodeIPv4 } from './ipv4.js'
import { decodeIPv6 } from './ipv6.js'
import { decodeMpls } from './mpls.js'
import { decodePppoeSession } from './pppoe.js'

/**
 * Decodes what follows an EtherType field (Ethernet, Linux cooked capture): 802.1Q / 802.1ad /
 * legacy QinQ tags, each a 2-byte TCI and the next EtherType (IEEE 802.1Q §9.6), then IPv4 or
 * IPv6, directly or inside a PPPoE session (pppoe.ts) or an MPLS label stack (mpls.ts). The
 * outermost tag's VLAN id is recorded (in QinQ that is the provider's S-VLAN). Anything that is not
 * IP (ARP, LLDP, PPPoE discovery, 802.3 length fields, ...) is NOT_IP.
 */
export function decodeEtherPayload(
  type: number,
  d: Uint8Array,
  p: number,
  end: number,
  view: PacketView,
): DecodeResult {
  for (
    let tags = 0;
    type === ETHERTYPE.VLAN || type === ETHERTYPE.QINQ || type === ETHERTYPE.QINQ_LEGACY;
    tags++
  ) {
    if (tags === MAX_VLAN_TAGS) return DECODE.TOO_MANY_VLAN_TAGS
    if (end - p < 4) return DECODE.TRUNCATED_LINK
    if (tags === 0) view.vlan = u16(d, p) & 0x0fff
    type = u16(d, p + 2)
    p += 4
  }
  if (type === ETHERTYPE.IPV4) return decodeIPv4(d, p, end, view)
  if (type === ETHERTYPE.IPV6) return decodeIPv6(d, p, end, view)
  if (type === ETHERTYPE.PPPOE_SESSION) return decodePppoeSession(d, p, end, view)
  if (type === ETHERTYPE.MPLS_UNICAST || type === ETHERTYPE.MPLS_MULTICAST) return decodeMpls(d, p, end, view)
  return DECODE.NOT_IP
}
