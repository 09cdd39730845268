import { type Frame, LINKTYPE } from '../core/frame.js'
import { DECODE, type DecodeResult, type PacketView } from '../core/packet-view.js'
import { decodeEthernet } from './ethernet.js'
import { decodeIPv4 } from './ipv4.js'
import { decodeIPv6 } from './ipv6.js'
import { decodeLinuxSLL, decodeLinuxSLL2 } from './linux-cooked.js'
import { decodeLoopback } from './loopback.js'
import { decodeNflog } from './nflog.js'

/** Link types read beyond the core list (tcpdump.org/linktypes.html). */
export const LINKTYPE_ALIAS = {
  /** OpenBSD's loopback: LINKTYPE_NULL with the family in network byte order. */
  LOOP: 108,
  /** DLT_RAW as some old pcap writers stored it instead of LINKTYPE_RAW (Wireshark reads both as raw IP). */
  RAW_DLT12: 12,
  RAW_DLT14: 14,
} as const

/**
 * Decodes one frame into `view` and says whether it is a flow packet (DECODE.OK) or why not.
 * Never throws and allocates nothing: every field of `view` is reset first, so nothing of the
 * previous packet can leak into this one, and every read is bounded by the captured length.
 *
 * Link types: Ethernet (with 802.1Q/802.1ad/QinQ tags), Linux cooked v1 and v2, raw IP (by
 * version nibble), LINKTYPE_IPV4/IPV6, BSD loopback (NULL, LOOP) and NFLOG. Anything else is
 * UNSUPPORTED_LINK_TYPE.
 *
 * Fragments: a first fragment is decoded like any packet (fragment = 1). A later fragment
 * (fragment = 2) has protocol, addresses and ipLength but ports 0: its transport header is in the
 * first fragment. The pipeline then calls `FragmentPorts.apply`, which gives it the ports of its
 * first fragment when that was seen; otherwise the bytes still count, under ports 0.
 * See docs/decoding.md.
 */
export function decodeFrame(frame: Frame, view: PacketView): DecodeResult {
  view.ipVersion = 0
  view.protocol = 0
  const src = view.src
  const dst = view.dst
  src[0] = 0
  src[1] = 0
  src[2] = 0
  src[3] = 0
  dst[0] = 0
  dst[1] = 0
  dst[2] = 0
  dst[3] = 0
  view.srcPort = 0
  view.dstPort = 0
  view.tcpFlags = 0
  view.ipLength = 0
  view.icmpType = -1
  view.icmpCode = -1
  view.icmpId = -1
  view.fragment = 0
  view.fragmentId = 0
  view.srcMac = -1
  view.dstMac = -1
  view.vlan = -1

  const d = frame.data
  const s = frame.offset
  // A frame that claims more than its buffer holds is read only as far as the buffer goes.
  if (!(s >= 0 && s <= d.length)) return DECODE.TRUNCATED_LINK
  let end = s + frame.capturedLength
  if (!(end <= d.length)) end = d.length
  if (!(end >= s)) end = s

  switch (frame.linkType) {
    case LINKTYPE.ETHERNET:
      return decodeEthernet(d, s, end, view)
    case LINKTYPE.LINUX_SLL:
      return decodeLinuxSLL(d, s, end, view)
    case LINKTYPE.LINUX_SLL2:
      return decodeLinuxSLL2(d, s, end, view)
    case LINKTYPE.RAW:
    case LINKTYPE_ALIAS.RAW_DLT12:
    case LINKTYPE_ALIAS.RAW_DLT14:
      if (end - s < 1) return DECODE.TRUNCATED_IP
      return d[s]! >> 4 === 6 ? decodeIPv6(d, s, end, view) : decodeIPv4(d, s, end, view)
    case LINKTYPE.IPV4:
      return decodeIPv4(d, s, end, view)
    case LINKTYPE.IPV6:
      return decodeIPv6(d, s, end, view)
    case LINKTYPE.NULL:
    case LINKTYPE_ALIAS.LOOP:
      return decodeLoopback(d, s, end, view)
    case LINKTYPE.NFLOG:
      return decodeNflog(d, s, end, view)
    default:
      return DECODE.UNSUPPORTED_LINK_TYPE
  }
}
