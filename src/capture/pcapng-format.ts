/** pcapng block types, draft-ietf-opsawg-pcapng §4 and §11.1. */
export const PCAPNG_BLOCK = {
  SECTION_HEADER: 0x0a0d0d0a,
  INTERFACE_DESCRIPTION: 0x00000001,
  /** Obsolete Packet Block (appendix A): a 16-bit interface id and a drops count, then as EPB. */
  PACKET: 0x00000002,
  SIMPLE_PACKET: 0x00000003,
  NAME_RESOLUTION: 0x00000004,
  INTERFACE_STATISTICS: 0x00000005,
  ENHANCED_PACKET: 0x00000006,
  DECRYPTION_SECRETS: 0x0000000a,
  CUSTOM: 0x00000bad,
  CUSTOM_NO_COPY: 0x40000bad,
} as const

/** The Section Header Block's byte-order magic, §4.1. */
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d

/** The only major version defined, §4.1. */
export const PCAPNG_MAJOR_VERSION = 1

/** Option codes, §3.5 (common) and §4.2 (Interface Description Block). */
export const PCAPNG_OPTION = {
  END_OF_OPT: 0,
  IF_NAME: 2,
  IF_TSRESOL: 9,
  IF_TSOFFSET: 14,
} as const

/** A block's fixed framing: type, total length, ..., total length again. */
export const PCAPNG_BLOCK_OVERHEAD = 12

/** Default timestamp resolution when an interface has no if_tsresol: microseconds, §4.2. */
export const PCAPNG_DEFAULT_UNITS_PER_SECOND = 1_000_000
