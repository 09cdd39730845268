/**
 * What the decoder learned about one packet. One PacketView is reused for every packet: the
 * decoder overwrites every field it owns and allocates nothing.
 *
 * Addresses are four 32-bit words in network order. IPv4 addresses are stored IPv4-mapped
 * (::ffff:a.b.c.d), so one representation serves both families in hash keys and CIDR matches.
 */
export class PacketView {
  /** 4 or 6. */
  ipVersion = 0
  /** IANA protocol number of the transport (after IPv6 extension headers). */
  protocol = 0
  readonly src = new Uint32Array(4)
  readonly dst = new Uint32Array(4)
  /** Ports for TCP/UDP (and SCTP/UDP-Lite); 0 for port-less protocols and non-first fragments. */
  srcPort = 0
  dstPort = 0
  /** Raw TCP flag byte (FIN 0x01 … CWR 0x80); 0 for non-TCP. */
  tcpFlags = 0
  /** Layer-3 length counted as `bytes`: IPv4 total length, IPv6 payload length + 40. */
  ipLength = 0
  /** ICMP/ICMPv6 type and code, -1 when not ICMP. */
  icmpType = -1
  icmpCode = -1
  /** ICMP echo identifier (used as the connection key of ping), -1 otherwise. */
  icmpId = -1
  /** 0 not a fragment, 1 first fragment, 2 a later fragment (no transport header). */
  fragment = 0
  /** IPv4 identification / IPv6 fragment identification, for matching later fragments. */
  fragmentId = 0
  /** Ethernet addresses as 48-bit integers (exact in a double), -1 when the link has none. */
  srcMac = -1
  dstMac = -1
  /** Outermost VLAN id, -1 when untagged. */
  vlan = -1
}

/**
 * Why a frame was not turned into a flow packet. DECODE_OK is success; NOT_IP is not an error
 * (ARP, LLDP, ...) but is not a flow either. Everything else is a malformed or truncated packet.
 */
export const DECODE = {
  OK: 0,
  NOT_IP: 1,
  UNSUPPORTED_LINK_TYPE: 2,
  TRUNCATED_LINK: 3,
  TRUNCATED_IP: 4,
  BAD_IP_VERSION: 5,
  BAD_IP_HEADER_LENGTH: 6,
  BAD_IP_TOTAL_LENGTH: 7,
  TRUNCATED_IPV6_EXTENSION: 8,
  TRUNCATED_TRANSPORT: 9,
  BAD_TCP_HEADER_LENGTH: 10,
  TOO_MANY_VLAN_TAGS: 11,
  TOO_MANY_IPV6_EXTENSIONS: 12,
  TOO_MANY_MPLS_LABELS: 13,
  /** The frame's capture time is not one a flow log can carry (see isRecordTime): set by the pipeline. */
  BAD_TIMESTAMP: 14,
} as const

export type DecodeResult = (typeof DECODE)[keyof typeof DECODE]

/** Stable, user-facing names of the results, indexed by code (used in summaries and metrics). */
export const DECODE_NAMES: readonly string[] = [
  'ok',
  'not-ip',
  'unsupported-link-type',
  'truncated-link-header',
  'truncated-ip-header',
  'bad-ip-version',
  'bad-ip-header-length',
  'bad-ip-total-length',
  'truncated-ipv6-extension',
  'truncated-transport-header',
  'bad-tcp-header-length',
  'too-many-vlan-tags',
  'too-many-ipv6-extensions',
  'too-many-mpls-labels',
  'bad-timestamp',
]
