import { DECODE, type DecodeResult, type PacketView } from '../core/packet-view.js'
import { mac48, u16 } from './bytes.js'
import { decodeEtherPayload } from './ether-payload.js'

/** ARPHRD_ETHER: the cooked header's address is then the 6-byte source MAC. */
const ARPHRD_ETHER = 1
const SLL_HEADER = 16
const SLL2_HEADER = 20

/**
 * Linux cooked capture v1 (tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html): packet type,
 * ARPHRD type, address length, 8 address bytes, protocol (an EtherType for IP). It carries only
 * the sender's address, so srcMac is filled for Ethernet devices and dstMac stays -1.
 */
export function decodeLinuxSLL(d: Uint8Array, s: number, end: number, view: PacketView): DecodeResult {
  if (end - s < SLL_HEADER) return DECODE.TRUNCATED_LINK
  if (u16(d, s + 2) === ARPHRD_ETHER && u16(d, s + 4) === 6) view.srcMac = mac48(d, s + 6)
  return decodeEtherPayload(u16(d, s + 14), d, s + SLL_HEADER, end, view)
}

/**
 * Linux cooked capture v2 (tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html): protocol first, then
 * reserved, interface index, ARPHRD type, packet type, address length and 8 address bytes.
 */
export function decodeLinuxSLL2(d: Uint8Array, s: number, end: number, view: PacketView): DecodeResult {
  if (end - s < SLL2_HEADER) return DECODE.TRUNCATED_LINK
  if (u16(d, s + 8) === ARPHRD_ETHER && d[s + 11] === 6) view.srcMac = mac48(d, s + 12)
  return decodeEtherPayload(u16(d, s), d, s + SLL2_HEADER, end, view)
}
