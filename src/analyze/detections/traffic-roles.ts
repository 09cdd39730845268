import type { Flow } from '../flow.js'

/**
 * Which record of a connection is the request. Flow logs keep one record per direction (reference
 * 2.1), so the answers of a busy server look like "one source, many ports and hosts" unless they are
 * set aside. The signs, strongest first:
 * - TCP flags: SYN-ACK (18) is the answering side; a SYN without ACK is the opener. SYN-ACK with
 *   FIN (19) says nothing: AWS writes it for a server's short connection, but NHN (which counts ACK)
 *   writes it for both sides (client SYN + FIN|ACK, server SYN|ACK + FIN|ACK).
 * - a rejected record without SYN-ACK is a request: answers to accepted traffic are never rejected
 *   (connection tracking), and rejected traffic gets no answer to be logged.
 * - ports: a client talks from an ephemeral (higher) port to the service's (lower) port.
 */
const SYN = 0x02
const SYN_ACK = 0x12
const FIN = 0x01

export function isReply(flow: Flow): boolean {
  const flags = flow.protocol === 6 ? flow.tcpFlags : null
  if (flags !== null) {
    if ((flags & (SYN_ACK | FIN)) === SYN_ACK) return true
    if ((flags & SYN_ACK) === SYN) return false
  }
  if (flow.action === 'REJECT') return false
  const src = flow.srcport ?? 0
  const dst = flow.dstport ?? 0
  return src > 0 && dst > 0 && src < dst
}

/** Protocols whose records carry ports (the rest have 0). */
export function hasPorts(protocol: number | null): boolean {
  return protocol === 6 || protocol === 17 || protocol === 132
}
