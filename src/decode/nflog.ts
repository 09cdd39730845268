import { DECODE, type DecodeResult, type PacketView } from '../core/packet-view.js'
import { decodeIPv4 } from './ipv4.js'
import { decodeIPv6 } from './ipv6.js'

/** Linux address families in the NFLOG header. */
const AF_INET = 2
const AF_INET6 = 10
/** NFULA_PAYLOAD: the TLV holding the packet from its network header on (linux/netfilter/nfnetlink_log.h). */
const NFULA_PAYLOAD = 9
const NFLOG_HEADER = 4

/**
 * LINKTYPE_NFLOG (tcpdump.org/linktypes/LINKTYPE_NFLOG.html): family, version, resource id, then
 * TLVs whose length and type are in the capturing host's byte order. The byte order is taken
 * from the first TLV's type (types are below 256, so a larger value means big-endian). The IP
 * packet is the NFULA_PAYLOAD TLV; running out of TLVs before it is a truncated link header.
 */
export function decodeNflog(d: Uint8Array, s: number, end: number, view: PacketView): DecodeResult {
  if (end - s < NFLOG_HEADER + 4) return DECODE.TRUNCATED_LINK
  const family = d[s]!
  if (family !== AF_INET && family !== AF_INET6) return DECODE.NOT_IP
  let o = s + NFLOG_HEADER
  const littleEndian = ((d[o + 2]! | (d[o + 3]! << 8)) & 0x7fff) <= 0xff
  while (end - o >= 4) {
    const length = littleEndian ? d[o]! | (d[o + 1]! << 8) : (d[o]! << 8) | d[o + 1]!
    const type = (littleEndian ? d[o + 2]! | (d[o + 3]! << 8) : (d[o + 2]! << 8) | d[o + 3]!) & 0x7fff
    if (length < 4) return DECODE.TRUNCATED_LINK
    if (type === NFULA_PAYLOAD) {
      const payloadEnd = Math.min(o + length, end)
      return family === AF_INET
        ? decodeIPv4(d, o + 4, payloadEnd, view)
        : decodeIPv6(d, o + 4, payloadEnd, view)
    }
    o += (length + 3) & ~3
  }
  return DECODE.TRUNCATED_LINK
}
