import { DECODE, type DecodeResult, type PacketView } from '../core/packet-view.js'
import { decodeIPv4 } from './ipv4.js'
import { decodeIPv6 } from './ipv6.js'

/** RFC 3032 §2.1: each entry is label (20 bits), traffic class (3), bottom of stack (1), TTL (8). */
const LABEL_ENTRY = 4
const BOTTOM_OF_STACK = 0x01

/**
 * Label entries walked before TOO_MANY_MPLS_LABELS. Real stacks hold a few (transport, service,
 * entropy label and its indicator); a stack that never sets bottom-of-stack within 8 is garbage.
 */
export const MAX_MPLS_LABELS = 8

/**
 * An MPLS label stack (EtherType 0x8847 or 0x8848): entries up to the one with bottom-of-stack
 * set, then the payload, which carries no type: IPv4 or IPv6 by its version nibble (RFC 4928
 * keeps other payloads from starting with 4 or 6). A pseudowire (control word, nibble 0) or
 * anything else is `not-ip`.
 */
export function decodeMpls(d: Uint8Array, p: number, end: number, view: PacketView): DecodeResult {
  for (let labels = 0; ; labels++) {
    if (labels === MAX_MPLS_LABELS) return DECODE.TOO_MANY_MPLS_LABELS
    if (end - p < LABEL_ENTRY) return DECODE.TRUNCATED_LINK
    const bottom = (d[p + 2]! & BOTTOM_OF_STACK) !== 0
    p += LABEL_ENTRY
    if (bottom) break
  }
  if (end - p < 1) return DECODE.TRUNCATED_IP
  const version = d[p]! >> 4
  if (version === 4) return decodeIPv4(d, p, end, view)
  if (version === 6) return decodeIPv6(d, p, end, view)
  return DECODE.NOT_IP
}
