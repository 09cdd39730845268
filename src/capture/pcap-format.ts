/**
 * Classic pcap file format, draft-ietf-opsawg-pcap (the libpcap "savefile" format).
 * Magic numbers are given as the first four bytes of the file read big-endian, so each has a
 * byte-swapped twin written by little-endian machines.
 */
export const PCAP_MAGIC = {
  /** Microsecond timestamps. */
  MICROSECONDS: 0xa1b2c3d4,
  MICROSECONDS_SWAPPED: 0xd4c3b2a1,
  /** Nanosecond timestamps. */
  NANOSECONDS: 0xa1b23c4d,
  NANOSECONDS_SWAPPED: 0x4d3cb2a1,
  /** Alexey Kuznetzov's patched libpcap: microseconds, and 8 more bytes (ifindex, protocol, type) per record. */
  KUZNETZOV: 0xa1b2cd34,
  KUZNETZOV_SWAPPED: 0x34cdb2a1,
} as const

/** Sizes and offsets of the file header and the per-record header. */
export const PCAP_HEADER = {
  FILE_HEADER_LENGTH: 24,
  SNAPLEN_OFFSET: 16,
  LINKTYPE_OFFSET: 20,
  RECORD_HEADER_LENGTH: 16,
  KUZNETZOV_RECORD_HEADER_LENGTH: 24,
} as const

/** The LinkType field holds the link type in its low 16 bits; the high bits carry FCS information. */
export const PCAP_LINKTYPE_MASK = 0xffff
