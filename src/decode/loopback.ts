import { DECODE, type DecodeResult, type PacketView } from '../core/packet-view.js'
import { u32 } from './bytes.js'
import { decodeIPv4 } from './ipv4.js'
import { decodeIPv6 } from './ipv6.js'

/**
 * Address-family values in BSD loopback headers (tcpdump.org/linktypes/LINKTYPE_NULL.html).
 * AF_INET is 2 everywhere; AF_INET6 differs by the capturing OS.
 */
export const LOOPBACK_FAMILY = {
  INET: 2,
  INET6_LINUX: 10,
  INET6_WINDOWS: 23,
  INET6_BSD: 24,
  INET6_FREEBSD: 28,
  INET6_DARWIN: 30,
} as const

/**
 * BSD loopback encapsulation, LINKTYPE_NULL (family in the capturing host's byte order) and
 * LINKTYPE_LOOP (network byte order). Families are small numbers, so a value above 0xffff read
 * little-endian means the header was big-endian: both link types go through the same check.
 */
export function decodeLoopback(d: Uint8Array, s: number, end: number, view: PacketView): DecodeResult {
  if (end - s < 4) return DECODE.TRUNCATED_LINK
  let family = (d[s]! | (d[s + 1]! << 8) | (d[s + 2]! << 16) | (d[s + 3]! << 24)) >>> 0
  if (family > 0xffff) family = u32(d, s)
  switch (family) {
    case LOOPBACK_FAMILY.INET:
      return decodeIPv4(d, s + 4, end, view)
    case LOOPBACK_FAMILY.INET6_LINUX:
    case LOOPBACK_FAMILY.INET6_WINDOWS:
    case LOOPBACK_FAMILY.INET6_BSD:
    case LOOPBACK_FAMILY.INET6_FREEBSD:
    case LOOPBACK_FAMILY.INET6_DARWIN:
      return decodeIPv6(d, s + 4, end, view)
    default:
      return DECODE.NOT_IP
  }
}
