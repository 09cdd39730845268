/** EtherType values the decoder acts on (IEEE 802 numbers, IEEE Std 802.1Q-2018 §9.5 for the tags). */
export const ETHERTYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  /** 802.1Q customer VLAN tag (C-TAG). */
  VLAN: 0x8100,
  IPV6: 0x86dd,
  /** 802.1ad service VLAN tag (S-TAG), the outer tag of QinQ. */
  QINQ: 0x88a8,
  /** Pre-standard QinQ outer tag still emitted by some switches. */
  QINQ_LEGACY: 0x9100,
  LLDP: 0x88cc,
  /** PPPoE discovery stage (RFC 2516 §4): PADI, PADO, ... carry no IP. */
  PPPOE_DISCOVERY: 0x8863,
  /** PPPoE session stage (RFC 2516 §4): a PPPoE header, then a PPP frame. */
  PPPOE_SESSION: 0x8864,
  /** MPLS label stack (RFC 3032 §2.1), unicast and multicast (RFC 5332). */
  MPLS_UNICAST: 0x8847,
  MPLS_MULTICAST: 0x8848,
} as const

/** Tags accepted before TOO_MANY_VLAN_TAGS: QinQ needs 2; more than 4 is a loop or garbage. */
export const MAX_VLAN_TAGS = 4
