/** IP protocol numbers the decoder acts on (IANA "Assigned Internet Protocol Numbers", RFC 8200 §4 for IPv6 extension headers). */
export const IPPROTO = {
  /** IPv6 Hop-by-Hop Options (RFC 8200 §4.3). */
  HOPOPT: 0,
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  /** IPv6 Routing header (RFC 8200 §4.4). */
  IPV6_ROUTE: 43,
  /** IPv6 Fragment header (RFC 8200 §4.5). */
  IPV6_FRAG: 44,
  GRE: 47,
  /** Encapsulating Security Payload (RFC 4303): nothing after it is readable. */
  ESP: 50,
  /** Authentication Header (RFC 4302): length in 4-octet units minus 2. */
  AH: 51,
  ICMPV6: 58,
  /** IPv6 No Next Header (RFC 8200 §4.7). */
  IPV6_NONXT: 59,
  /** IPv6 Destination Options (RFC 8200 §4.6). */
  IPV6_OPTS: 60,
  SCTP: 132,
  /** Mobility header (RFC 6275), an IPv6 extension header per RFC 7045. */
  MOBILITY: 135,
  UDPLITE: 136,
  /** Host Identity Protocol (RFC 7401), an IPv6 extension header per RFC 7045. */
  HIP: 139,
  /** Shim6 (RFC 5533), an IPv6 extension header per RFC 7045. */
  SHIM6: 140,
} as const

/** ICMP (RFC 792) and ICMPv6 (RFC 4443) echo types: their identifier is ping's connection key. */
export const ICMP_TYPE = {
  ECHO_REPLY: 0,
  ECHO_REQUEST: 8,
} as const

export const ICMPV6_TYPE = {
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  /** Neighbour discovery (RFC 4861): router solicitation 133 to redirect 137. */
  ROUTER_SOLICITATION: 133,
  REDIRECT: 137,
} as const

/** IPv6 neighbour discovery, the link-layer plumbing that ARP is for IPv4. */
export function isNeighbourDiscovery(protocol: number, icmpType: number): boolean {
  return (
    protocol === IPPROTO.ICMPV6 &&
    icmpType >= ICMPV6_TYPE.ROUTER_SOLICITATION &&
    icmpType <= ICMPV6_TYPE.REDIRECT
  )
}

/** Extension headers walked before TOO_MANY_IPV6_EXTENSIONS; real packets carry 0 to 3. */
export const MAX_IPV6_EXTENSIONS = 8
