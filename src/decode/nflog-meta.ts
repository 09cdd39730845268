/** NFULA_* attribute types (linux/netfilter/nfnetlink_log.h). */
const NFULA_PACKET_HDR = 1
const NFULA_MARK = 2
const NFULA_TIMESTAMP = 3
const NFULA_IFINDEX_INDEV = 4
const NFULA_IFINDEX_OUTDEV = 5
const NFULA_PAYLOAD = 9
const NFULA_PREFIX = 10
const NFLOG_HEADER = 4

/** The netfilter hook a packet was logged in (NF_INET_*). */
export const NF_HOOK = { PRE_ROUTING: 0, LOCAL_IN: 1, FORWARD: 2, LOCAL_OUT: 3, POST_ROUTING: 4 } as const

/**
 * What an NFLOG frame says besides the packet. One instance is reused for every frame; every field
 * is reset by `readNflogMeta`. The prefix is left in the frame's bytes ([prefixStart, prefixEnd),
 * without its NUL) so reading it allocates nothing.
 */
export class NflogMeta {
  /** Address family of the payload (AF_INET 2, AF_INET6 10). */
  family = 0
  /** NF_HOOK value, -1 when absent. */
  hook = -1
  /** skb mark, 0 when absent. */
  mark = 0
  /** Input and output interface indexes, 0 when absent. */
  indev = 0
  outdev = 0
  /** Kernel timestamp, unix seconds (fractional), -1 when absent. */
  timestamp = -1
  prefixStart = -1
  prefixEnd = -1
  payloadStart = -1
  payloadEnd = -1
}

/**
 * Reads the attributes of one LINKTYPE_NFLOG frame (tcpdump.org/linktypes/LINKTYPE_NFLOG.html):
 * TLV lengths and types in the host's byte order (detected as decodeNflog does), values in network
 * byte order. Returns false for a frame too short to hold the header. Never throws, allocates
 * nothing.
 */
export function readNflogMeta(d: Uint8Array, s: number, end: number, meta: NflogMeta): boolean {
  meta.family = 0
  meta.hook = -1
  meta.mark = 0
  meta.indev = 0
  meta.outdev = 0
  meta.timestamp = -1
  meta.prefixStart = -1
  meta.prefixEnd = -1
  meta.payloadStart = -1
  meta.payloadEnd = -1
  if (end - s < NFLOG_HEADER + 4) return false
  meta.family = d[s]!
  let o = s + NFLOG_HEADER
  const littleEndian = ((d[o + 2]! | (d[o + 3]! << 8)) & 0x7fff) <= 0xff
  while (end - o >= 4) {
    const length = littleEndian ? d[o]! | (d[o + 1]! << 8) : (d[o]! << 8) | d[o + 1]!
    const type = (littleEndian ? d[o + 2]! | (d[o + 3]! << 8) : (d[o + 2]! << 8) | d[o + 3]!) & 0x7fff
    if (length < 4) break
    const v = o + 4
    const valueEnd = Math.min(o + length, end)
    switch (type) {
      case NFULA_PACKET_HDR:
        if (valueEnd - v >= 3) meta.hook = d[v + 2]!
        break
      case NFULA_MARK:
        if (valueEnd - v >= 4) meta.mark = be32(d, v)
        break
      case NFULA_TIMESTAMP:
        // Two 64-bit big-endian numbers, seconds and microseconds; the high words are 0 until 2106.
        if (valueEnd - v >= 16) meta.timestamp = be32(d, v + 4) + be32(d, v + 12) / 1e6
        break
      case NFULA_IFINDEX_INDEV:
        if (valueEnd - v >= 4) meta.indev = be32(d, v)
        break
      case NFULA_IFINDEX_OUTDEV:
        if (valueEnd - v >= 4) meta.outdev = be32(d, v)
        break
      case NFULA_PAYLOAD:
        meta.payloadStart = v
        meta.payloadEnd = valueEnd
        break
      case NFULA_PREFIX: {
        let e = v
        while (e < valueEnd && d[e] !== 0) e++
        meta.prefixStart = v
        meta.prefixEnd = e
        break
      }
    }
    o += (length + 3) & ~3
  }
  return true
}

function be32(d: Uint8Array, o: number): number {
  return ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0
}
