import { DECODE, type DecodeResult, type PacketView } from '../core/packet-view.js'
import { mac48, u16 } from './bytes.js'
import { decodeEtherPayload } from './ether-payload.js'

const ETHERNET_HEADER = 14

/** Ethernet II (IEEE 802.3 §3.1): destination MAC, source MAC, EtherType. FCS is not expected. */
export function decodeEthernet(d: Uint8Array, s: number, end: number, view: PacketView): DecodeResult {
  if (end - s < ETHERNET_HEADER) return DECODE.TRUNCATED_LINK
  view.dstMac = mac48(d, s)
  view.srcMac = mac48(d, s + 6)
  return decodeEtherPayload(u16(d, s + 12), d, s + ETHERNET_HEADER, end, view)
}
