/**
 * Values written as ASCII straight into a byte buffer, for the column encoder: each writer takes
 * the position and returns the next one, so the caller keeps the position in a local variable.
 * Building a string per value and encoding it afterwards was most of the cost of formatting and
 * left millions of short strings to the garbage collector. Writers never check the capacity: the
 * caller reserves the MAX_* bytes below first.
 */

/**
 * The longest `String(n)` of a double: 25, `-0.0000010015083565941111` (a sign, six fixed places
 * before 17 significant digits; below 1e-6 the exponent form takes over), one longer than
 * `-1.7976931348623157e+308`.
 */
export const MAX_NUMBER_BYTES = 25
/** The longest address text: eight full IPv6 groups. */
export const MAX_ADDRESS_BYTES = 39

const ZERO = 48
const COLON = 58
const DOT = 46

/** `source` copied at `pos`: by a loop up to 12 bytes, where it costs less than the native copy's call. */
export function putBytes(out: Uint8Array, pos: number, source: Uint8Array): number {
  const n = source.length
  if (n > 12) {
    out.set(source, pos)
    return pos + n
  }
  for (let k = 0; k < n; k++) out[pos + k] = source[k]!
  return pos + n
}

/** Exactly the characters of `String(n)`: plain digits for whole numbers up to 2^53. */
export function putNumber(out: Uint8Array, pos: number, n: number): number {
  if (n >= 0 && n <= 0x7fffffff && (n | 0) === n) return putSmall(out, pos, n | 0)
  if (n > 0 && n <= Number.MAX_SAFE_INTEGER && Number.isInteger(n)) {
    // Milliseconds since 1970 and large byte counts: two parts that each fit an int32.
    const high = Math.floor(n / 1e9)
    pos = putSmall(out, pos, high)
    let low = n - high * 1e9
    for (let p = pos + 8; p >= pos; p--) {
      const q = Math.floor(low / 10)
      out[p] = ZERO + (low - q * 10)
      low = q
    }
    return pos + 9
  }
  // Negative, fractional, huge or NaN: rare enough for the string (ASCII in every case).
  return putAscii(out, pos, String(n))
}

/** "00" to "99": two digits per division. */
const PAIRS = (() => {
  const table = new Uint8Array(200)
  for (let v = 0; v < 100; v++) {
    table[2 * v] = ZERO + Math.floor(v / 10)
    table[2 * v + 1] = ZERO + (v % 10)
  }
  return table
})()

function putSmall(out: Uint8Array, pos: number, v: number): number {
  const length =
    v < 10
      ? 1
      : v < 100
        ? 2
        : v < 1000
          ? 3
          : v < 10000
            ? 4
            : v < 100000
              ? 5
              : v < 1000000
                ? 6
                : v < 10000000
                  ? 7
                  : v < 100000000
                    ? 8
                    : v < 1000000000
                      ? 9
                      : 10
  let p = pos + length
  while (v >= 100) {
    const q = (v / 100) | 0
    const r = 2 * (v - q * 100)
    out[--p] = PAIRS[r + 1]!
    out[--p] = PAIRS[r]!
    v = q
  }
  if (v >= 10) {
    out[--p] = PAIRS[2 * v + 1]!
    out[--p] = PAIRS[2 * v]!
  } else {
    out[--p] = ZERO + v
  }
  return pos + length
}

/** ASCII-only text (numbers' strings); anything else goes through the UTF-8 encoder. */
function putAscii(out: Uint8Array, pos: number, text: string): number {
  for (let k = 0; k < text.length; k++) out[pos + k] = text.charCodeAt(k)
  return pos + text.length
}

/** Decimal text of every octet, three bytes each, with its length in a fourth. */
const OCTETS = (() => {
  const table = new Uint8Array(256 * 4)
  for (let b = 0; b < 256; b++) {
    const text = String(b)
    table[4 * b] = text.length
    for (let k = 0; k < text.length; k++) table[4 * b + 1 + k] = text.charCodeAt(k)
  }
  return table
})()

function putOctet(out: Uint8Array, pos: number, b: number): number {
  const t = 4 * b
  const length = OCTETS[t]!
  out[pos] = OCTETS[t + 1]!
  if (length > 1) out[pos + 1] = OCTETS[t + 2]!
  if (length > 2) out[pos + 2] = OCTETS[t + 3]!
  return pos + length
}

const HEX = new Uint8Array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102])
const groups = new Int32Array(8)

/**
 * The address at `offset` (four words) as `formatAddress` writes it: dotted IPv4 when
 * IPv4-mapped, else RFC 5952 IPv6 (lower-case, no leading zeros, the first longest run of two or
 * more zero groups as `::`).
 */
export function putAddress(out: Uint8Array, pos: number, words: Uint32Array, offset: number): number {
  const w0 = words[offset]!
  const w1 = words[offset + 1]!
  const w2 = words[offset + 2]!
  const w3 = words[offset + 3]!
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) {
    pos = putOctet(out, pos, w3 >>> 24)
    out[pos++] = DOT
    pos = putOctet(out, pos, (w3 >>> 16) & 0xff)
    out[pos++] = DOT
    pos = putOctet(out, pos, (w3 >>> 8) & 0xff)
    out[pos++] = DOT
    return putOctet(out, pos, w3 & 0xff)
  }
  groups[0] = w0 >>> 16
  groups[1] = w0 & 0xffff
  groups[2] = w1 >>> 16
  groups[3] = w1 & 0xffff
  groups[4] = w2 >>> 16
  groups[5] = w2 & 0xffff
  groups[6] = w3 >>> 16
  groups[7] = w3 & 0xffff
  let bestStart = -1
  let bestLength = 1
  for (let g = 0; g < 8; ) {
    if (groups[g] !== 0) {
      g++
      continue
    }
    let end = g
    while (end < 8 && groups[end] === 0) end++
    if (end - g > bestLength) {
      bestStart = g
      bestLength = end - g
    }
    g = end
  }
  const resume = bestStart + bestLength
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      out[pos++] = COLON
      out[pos++] = COLON
      g = resume - 1
      continue
    }
    if (g > 0 && g !== resume) out[pos++] = COLON
    const v = groups[g]!
    if (v >= 0x1000) out[pos++] = HEX[v >>> 12]!
    if (v >= 0x100) out[pos++] = HEX[(v >>> 8) & 15]!
    if (v >= 0x10) out[pos++] = HEX[(v >>> 4) & 15]!
    out[pos++] = HEX[v & 15]!
  }
  return pos
}
