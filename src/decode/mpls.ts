import { DECODE } from '../core/packet-view.js'

/** RFC 3032 §2.1: each entry is label (20 bits), traffic class (3), bottom of stack (1), TTL (8). */
const LABEL_ENTRY = 4
const BOTTOM_OF_STACK = 0x01

/**
 * Label entries walked before TOO_MANY_MPLS_LABELS. Real stacks hold a few (transport, service,
 * entropy label and its indicator); a stack that never sets bottom-of-stack within 8 is garbage.
 */
export const MAX_MPLS_LABELS = 8

/**
 * Walks an MPLS label stack (RFC 3032) at `p` up to the entry with bottom-of-stack set and returns
 * where its payload starts; or, negated, why it could not: -TRUNCATED_LINK when the capture ends
 * inside the stack, -TOO_MANY_MPLS_LABELS. The payload carries no type of its own; the caller
 * tells it by its first nibble (ether-payload.ts).
 */
export function mplsPayload(d: Uint8Array, p: number, end: number): number {
  for (let labels = 0; labels < MAX_MPLS_LABELS; labels++) {
    if (end - p < LABEL_ENTRY) return -DECODE.TRUNCATED_LINK
    const bottom = (d[p + 2]! & BOTTOM_OF_STACK) !== 0
    p += LABEL_ENTRY
    if (bottom) return p
  }
  return -DECODE.TOO_MANY_MPLS_LABELS
}
