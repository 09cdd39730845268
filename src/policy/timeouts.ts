/**
 * Idle timeouts of tracked connections, in seconds: the AWS defaults (reference 10.2), and the
 * closing graces that decide when a packet after a close is judged as new traffic.
 */
export interface ConnectionTimeouts {
  /** TCP after anything but a bare SYN was seen (AWS: 432000 s, 5 days). */
  tcpEstablished: number
  /** TCP while only SYNs (without ACK) were seen. */
  tcpOpening: number
  /** TCP after both sides sent FIN: the last ACK and retransmissions still belong to it (like TIME_WAIT). */
  tcpFinGrace: number
  /** TCP after a RST. */
  tcpRstGrace: number
  /** UDP until the other side has answered (AWS: single transaction, 30 s). */
  udpOneWay: number
  /** UDP once both sides have sent (AWS: stream, 180 s). */
  udpStream: number
  /** ICMP and ICMPv6. */
  icmp: number
  /** Any other protocol, tracked by address pair and protocol (AWS: 600 s). */
  other: number
}

export const DEFAULT_TIMEOUTS: Readonly<ConnectionTimeouts> = {
  tcpEstablished: 432_000,
  tcpOpening: 120,
  tcpFinGrace: 120,
  tcpRstGrace: 10,
  udpOneWay: 30,
  udpStream: 180,
  icmp: 30,
  other: 600,
}
