import { DECODE, type DecodeResult, type PacketView } from '../core/packet-view.js'
import { u16, u32 } from './bytes.js'
import { IPPROTO, MAX_IPV6_EXTENSIONS } from './ip-protocol.js'
import { decodeTransport } from './transport.js'

const IPV6_HEADER = 40
const FRAGMENT_HEADER = 8
/** RFC 8200 §4.5: offset in the high 13 bits, M flag in the lowest bit. */
const FRAGMENT_OFFSET_MASK = 0xfff8
const FRAGMENT_MORE = 0x0001

/**
 * Decodes the IPv6 header at `p` (RFC 8200), walks its extension headers and decodes the
 * transport header. `ipLength` is payload length + 40; a payload length of 0 (jumbogram, RFC 2675)
 * counts the captured bytes instead.
 *
 * Walked: Hop-by-Hop, Routing, Destination Options, Mobility, HIP, Shim6 (8-octet units), AH
 * (4-octet units) and Fragment. ESP, No Next Header and any other value end the walk as the
 * protocol. A Fragment header with offset > 0 makes a later fragment (fragment = 2, protocol = its
 * next header, ports 0); offset 0 with M set is a first fragment (fragment = 1). Offset 0 without
 * M is an atomic fragment (RFC 6946): a whole packet, so fragment stays 0.
 */
export function decodeIPv6(d: Uint8Array, p: number, end: number, view: PacketView): DecodeResult {
  if (end - p < 1) return DECODE.TRUNCATED_IP
  if (d[p]! >> 4 !== 6) return DECODE.BAD_IP_VERSION
  if (end - p < IPV6_HEADER) return DECODE.TRUNCATED_IP
  view.ipVersion = 6
  const payloadLength = u16(d, p + 4)
  let ipEnd = end
  if (payloadLength === 0) {
    view.ipLength = end - p
  } else {
    view.ipLength = payloadLength + IPV6_HEADER
    if (p + IPV6_HEADER + payloadLength < end) ipEnd = p + IPV6_HEADER + payloadLength
  }
  const src = view.src
  const dst = view.dst
  src[0] = u32(d, p + 8)
  src[1] = u32(d, p + 12)
  src[2] = u32(d, p + 16)
  src[3] = u32(d, p + 20)
  dst[0] = u32(d, p + 24)
  dst[1] = u32(d, p + 28)
  dst[2] = u32(d, p + 32)
  dst[3] = u32(d, p + 36)
  let next = d[p + 6]!
  let o = p + IPV6_HEADER
  for (let count = 0; ; count++) {
    let length: number
    switch (next) {
      case IPPROTO.HOPOPT:
      case IPPROTO.IPV6_ROUTE:
      case IPPROTO.IPV6_OPTS:
      case IPPROTO.MOBILITY:
      case IPPROTO.HIP:
      case IPPROTO.SHIM6:
        if (count === MAX_IPV6_EXTENSIONS) return DECODE.TOO_MANY_IPV6_EXTENSIONS
        if (ipEnd - o < 2) return DECODE.TRUNCATED_IPV6_EXTENSION
        length = (d[o + 1]! + 1) * 8
        break
      case IPPROTO.AH:
        if (count === MAX_IPV6_EXTENSIONS) return DECODE.TOO_MANY_IPV6_EXTENSIONS
        if (ipEnd - o < 2) return DECODE.TRUNCATED_IPV6_EXTENSION
        length = (d[o + 1]! + 2) * 4
        break
      case IPPROTO.IPV6_FRAG: {
        if (count === MAX_IPV6_EXTENSIONS) return DECODE.TOO_MANY_IPV6_EXTENSIONS
        if (ipEnd - o < FRAGMENT_HEADER) return DECODE.TRUNCATED_IPV6_EXTENSION
        const offsetAndFlags = u16(d, o + 2)
        view.fragmentId = u32(d, o + 4)
        if ((offsetAndFlags & FRAGMENT_OFFSET_MASK) !== 0) {
          view.fragment = 2
          view.protocol = d[o]!
          return DECODE.OK
        }
        if ((offsetAndFlags & FRAGMENT_MORE) !== 0) view.fragment = 1
        length = FRAGMENT_HEADER
        break
      }
      default:
        view.protocol = next
        return decodeTransport(next, d, o, ipEnd, view)
    }
    if (ipEnd - o < length) return DECODE.TRUNCATED_IPV6_EXTENSION
    next = d[o]!
    o += length
  }
}
