import { V4_MAPPED_MARK } from '../core/address.js'
import { DECODE, type DecodeResult, type PacketView } from '../core/packet-view.js'
import { u16, u32 } from './bytes.js'
import { decodeTransport } from './transport.js'

/** RFC 791 §3.1: flags and fragment offset share one 16-bit field. */
const IPV4_MORE_FRAGMENTS = 0x2000
const IPV4_FRAGMENT_OFFSET = 0x1fff
const IPV4_MIN_HEADER = 20

/**
 * Decodes the IPv4 header at `p` (RFC 791) and its transport header. Options are skipped by IHL.
 * `ipLength` is the total length even when the capture holds fewer bytes (snap length); parsing is
 * bounded by the smaller of the two. A later fragment (offset > 0) carries no transport header:
 * fragment = 2 with ports 0, left for FragmentPorts to fill. A first fragment (MF set, offset 0)
 * is fragment = 1 and is parsed as usual.
 */
export function decodeIPv4(d: Uint8Array, p: number, end: number, view: PacketView): DecodeResult {
  if (end - p < 1) return DECODE.TRUNCATED_IP
  if (d[p]! >> 4 !== 4) return DECODE.BAD_IP_VERSION
  if (end - p < IPV4_MIN_HEADER) return DECODE.TRUNCATED_IP
  const headerLength = (d[p]! & 0x0f) * 4
  if (headerLength < IPV4_MIN_HEADER) return DECODE.BAD_IP_HEADER_LENGTH
  const totalLength = u16(d, p + 2)
  if (totalLength < headerLength) return DECODE.BAD_IP_TOTAL_LENGTH
  if (end - p < headerLength) return DECODE.TRUNCATED_IP
  view.ipVersion = 4
  view.ipLength = totalLength
  view.protocol = d[p + 9]!
  view.src[2] = V4_MAPPED_MARK
  view.src[3] = u32(d, p + 12)
  view.dst[2] = V4_MAPPED_MARK
  view.dst[3] = u32(d, p + 16)
  view.fragmentId = u16(d, p + 4)
  const flags = u16(d, p + 6)
  if ((flags & IPV4_FRAGMENT_OFFSET) !== 0) {
    view.fragment = 2
    return DECODE.OK
  }
  if ((flags & IPV4_MORE_FRAGMENTS) !== 0) view.fragment = 1
  const ipEnd = p + totalLength
  return decodeTransport(view.protocol, d, p + headerLength, Math.min(ipEnd, end), view)
}
