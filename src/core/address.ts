/**
 * IP addresses as four 32-bit words (network order), IPv4 stored IPv4-mapped (::ffff:a.b.c.d).
 * Parsing and formatting live here so every stage agrees on the one representation.
 */

/** Word 2 of an IPv4-mapped address. */
export const V4_MAPPED_MARK = 0x0000ffff

export function isV4Mapped(words: ArrayLike<number>, offset = 0): boolean {
  return words[offset] === 0 && words[offset + 1] === 0 && words[offset + 2] === V4_MAPPED_MARK
}

/** Parses an IPv4 or IPv6 address into `out` (4 words at `offset`). Returns false if it is not one. */
export function parseAddress(text: string, out: Uint32Array, offset = 0): boolean {
  const v4 = ipv4Value(text)
  if (v4 >= 0) {
    out[offset] = 0
    out[offset + 1] = 0
    out[offset + 2] = V4_MAPPED_MARK
    out[offset + 3] = v4
    return true
  }
  return parseIPv6(text, out, offset)
}

const DOT = 0x2e
const ZERO = 0x30

/**
 * The value of a dotted-quad IPv4 address (0 to 2^32 - 1), or -1 when `text` is not one in the
 * strict form: four decimal octets of at most 255, no leading zeros, nothing else. A
 * replay parses two addresses a record, millions of times: no regular expression, no split.
 */
export function ipv4Value(text: string): number {
  const length = text.length
  if (length < 7 || length > 15) return -1
  let value = 0
  let octets = 0
  let i = 0
  while (i < length) {
    const start = i
    let octet = 0
    while (i < length) {
      const digit = text.charCodeAt(i) - ZERO
      if (digit < 0 || digit > 9) break
      octet = octet * 10 + digit
      i++
    }
    const digits = i - start
    if (digits === 0 || digits > 3 || octet > 255 || (digits > 1 && text.charCodeAt(start) === ZERO))
      return -1
    value = value * 256 + octet
    octets++
    if (i === length) break
    if (octets === 4 || text.charCodeAt(i) !== DOT) return -1
    i++
    if (i === length) return -1
  }
  return octets === 4 ? value : -1
}

function parseIPv6(text: string, out: Uint32Array, offset: number): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.length < 2) return false
  const groups: number[] = []
  let tail = text
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const lastColon = text.lastIndexOf(':')
  const maybeV4 = text.slice(lastColon + 1)
  if (maybeV4.includes('.')) {
    if (ipv4Value(maybeV4) < 0) return false
    const p = maybeV4.split('.').map(Number)
    tail = `${text.slice(0, lastColon + 1)}${(((p[0] ?? 0) << 8) | (p[1] ?? 0)).toString(16)}:${(((p[2] ?? 0) << 8) | (p[3] ?? 0)).toString(16)}`
  }
  const halves = tail.split('::')
  if (halves.length > 2) return false
  const parseHalf = (half: string): number[] | null => {
    if (half === '') return []
    const result: number[] = []
    for (const g of half.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null
      result.push(Number.parseInt(g, 16))
    }
    return result
  }
  const head = parseHalf(halves[0] ?? '')
  const rest = halves.length === 2 ? parseHalf(halves[1] ?? '') : []
  if (head === null || rest === null) return false
  if (halves.length === 1) {
    if (head.length !== 8) return false
    groups.push(...head)
  } else {
    const missing = 8 - head.length - rest.length
    if (missing < 1) return false
    groups.push(...head, ...new Array<number>(missing).fill(0), ...rest)
  }
  for (let i = 0; i < 4; i++) {
    out[offset + i] = (((groups[2 * i] ?? 0) << 16) | (groups[2 * i + 1] ?? 0)) >>> 0
  }
  return true
}

/** Formats 4 words as dotted IPv4 (when mapped) or RFC 5952 IPv6. */
export function formatAddress(words: ArrayLike<number>, offset = 0): string {
  if (isV4Mapped(words, offset)) {
    const v = words[offset + 3] ?? 0
    return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`
  }
  const groups: number[] = []
  for (let i = 0; i < 4; i++) {
    const w = words[offset + i] ?? 0
    groups.push(w >>> 16, w & 0xffff)
  }
  // RFC 5952: compress the longest run (≥ 2) of zero groups, the first one on a tie.
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':')
  if (bestStart < 0) return hex(groups)
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`
}

export interface Cidr {
  /** Network address, 4 words, host bits cleared. */
  words: Uint32Array
  /** Prefix length over the 128-bit form (an IPv4 /24 is 96 + 24 = 120). */
  prefix: number
  /** The text as the user wrote its family: "10.0.0.0/8", "2001:db8::/32". */
  text: string
}

/** Parses "a.b.c.d/n" or "x::/n" (a bare address is a host route). Returns an error message or a Cidr. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/')
  const addr = slash < 0 ? text : text.slice(0, slash)
  const words = new Uint32Array(4)
  if (!parseAddress(addr, words)) return `"${addr}" is not an IPv4 or IPv6 address`
  const v4 = ipv4Value(addr) >= 0
  const max = v4 ? 32 : 128
  let length = max
  if (slash >= 0) {
    const p = text.slice(slash + 1)
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) return `prefix length "${p}" is not 0-${max}`
    length = Number(p)
  }
  const prefix = v4 ? 96 + length : length
  maskWords(words, prefix)
  return { words, prefix, text: `${formatAddress(words)}/${length}` }
}

/** Clears the bits after `prefix` (0..128). */
export function maskWords(words: Uint32Array, prefix: number): void {
  for (let i = 0; i < 4; i++) {
    const bits = Math.max(0, Math.min(32, prefix - 32 * i))
    const mask = bits === 0 ? 0 : bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0
    words[i] = ((words[i] ?? 0) & mask) >>> 0
  }
}

/** True when the address at `offset` of `address` lies inside `cidr`. Allocation-free. */
export function cidrContains(cidr: Cidr, address: ArrayLike<number>, offset = 0): boolean {
  const w = cidr.words
  let remaining = cidr.prefix
  for (let i = 0; i < 4 && remaining > 0; i++) {
    const bits = Math.min(remaining, 32)
    const mask = bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0
    if (((address[offset + i] ?? 0) & mask) >>> 0 !== w[i]) return false
    remaining -= bits
  }
  return true
}

/** Parses "02:00:0a:00:01:0a" (or with dashes) to a 48-bit integer, or -1. */
export function parseMac(text: string): number {
  if (!/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/.test(text)) return -1
  return Number.parseInt(text.replace(/[:-]/g, ''), 16)
}

export function formatMac(mac: number): string {
  return mac
    .toString(16)
    .padStart(12, '0')
    .replace(/(..)(?!$)/g, '$1:')
}
