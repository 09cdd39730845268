import { formatAddress, parseAddress } from '../core/address.js'

/**
 * The fewest CIDRs that cover a set of addresses, at most `maxEntries` of them: start from one
 * host route per address and, while there are too many, merge the two neighbours whose common
 * prefix is longest (the merge that admits the fewest addresses nobody used). A merge that would
 * need a prefix shorter than `minPrefix` means the peers are spread too wide to list (a public
 * service): the answer is then null, and the caller keeps the rule's own CIDR.
 */
export interface SummaryLimits {
  maxEntries: number
  /** Shortest prefix a merge may produce, per family. */
  minPrefixV4: number
  minPrefixV6: number
}

interface Net {
  v4: boolean
  base: bigint
  prefix: number
}

const bitsOf = (v4: boolean) => (v4 ? 32 : 128)

/** An address as a net of one: text, or an IPv4 address as its value (least-privilege.ts's PeerKey). */
function toNet(address: string | number): Net | null {
  if (typeof address === 'number') return { v4: true, base: BigInt(address >>> 0), prefix: 32 }
  const words = new Uint32Array(4)
  if (!parseAddress(address, words)) return null
  const v4 = !address.includes(':')
  if (v4) return { v4, base: BigInt(words[3] ?? 0), prefix: 32 }
  let base = 0n
  for (const w of words) base = (base << 32n) | BigInt(w)
  return { v4, base, prefix: 128 }
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length
}

function commonPrefix(a: Net, b: Net): number {
  return Math.min(a.prefix, b.prefix, bitsOf(a.v4) - bitLength(a.base ^ b.base))
}

function supernet(a: Net, prefix: number): Net {
  const bits = bitsOf(a.v4)
  const host = (1n << BigInt(bits - prefix)) - 1n
  return { v4: a.v4, base: a.base & ~host, prefix }
}

function contains(outer: Net, inner: Net): boolean {
  return (
    outer.v4 === inner.v4 && outer.prefix <= inner.prefix && supernet(inner, outer.prefix).base === outer.base
  )
}

export function netText(net: Net): string {
  if (net.v4) {
    const v = Number(net.base)
    return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}/${net.prefix}`
  }
  const words = new Uint32Array(4)
  for (let i = 0; i < 4; i++) words[i] = Number((net.base >> BigInt(32 * (3 - i))) & 0xffffffffn)
  return `${formatAddress(words)}/${net.prefix}`
}

/** Greedy merging scans all neighbours per merge: fine for a few hundred peers, not for a million. */
const GREEDY_LIMIT = 512

export function summarizeAddresses(
  addresses: Iterable<string | number>,
  limits: SummaryLimits,
): string[] | null {
  const values = ipv4Values(addresses)
  if (values !== null && values.length > GREEDY_LIMIT) return summarizeManyV4(values, limits)
  // Keyed by value (IPv4) or canonical text: one net for every spelling of an address.
  const unique = new Map<number | string, Net>()
  for (const a of addresses) {
    const net = toNet(a)
    if (net !== null) unique.set(net.v4 ? Number(net.base) : netText(net), net)
  }
  if (unique.size > GREEDY_LIMIT) return summarizeMany([...unique.values()], limits)
  // IPv4 first, then numeric order: neighbours in this list are the candidates for a merge.
  let nets = [...unique.values()].sort((a, b) =>
    a.v4 !== b.v4 ? (a.v4 ? -1 : 1) : a.base < b.base ? -1 : a.base > b.base ? 1 : 0,
  )
  while (nets.length > limits.maxEntries) {
    let best = -1
    let bestPrefix = -1
    for (let i = 0; i + 1 < nets.length; i++) {
      const a = nets[i]
      const b = nets[i + 1]
      if (a === undefined || b === undefined || a.v4 !== b.v4) continue
      const p = commonPrefix(a, b)
      if (p > bestPrefix) {
        best = i
        bestPrefix = p
      }
    }
    const a = nets[best]
    if (a === undefined || bestPrefix < (a.v4 ? limits.minPrefixV4 : limits.minPrefixV6)) return null
    const merged = supernet(a, bestPrefix)
    nets = [
      ...nets.slice(0, best).filter((n) => !contains(merged, n)),
      merged,
      ...nets.slice(best + 2).filter((n) => !contains(merged, n)),
    ]
  }
  return nets.map(netText)
}

/**
 * The distinct values, in order, when every address is an IPv4 PeerKey (a number): a rule's peers
 * number up to millions, and for them summarizeManyV4 works on numbers, not on a net object a peer.
 * Null when any address is text.
 */
function ipv4Values(addresses: Iterable<string | number>): Uint32Array | null {
  let values = new Uint32Array(1024)
  let n = 0
  for (const a of addresses) {
    if (typeof a !== 'number') return null
    if (n === values.length) {
      const grown = new Uint32Array(n * 2)
      grown.set(values)
      values = grown
    }
    values[n++] = a >>> 0
  }
  const sorted = values.subarray(0, n).sort()
  let distinct = 0
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[distinct++] = sorted[i] ?? 0
  return sorted.subarray(0, distinct)
}

/** How many distinct /prefix supernets sorted distinct IPv4 values have (stopping past `most`). */
function supernetCount(values: Uint32Array, prefix: number, most: number): number {
  const shift = 32 - prefix
  let count = 0
  let last = -1
  for (const v of values) {
    const net = shift === 32 ? 0 : v >>> shift
    if (net !== last) {
      if (++count > most) return count
      last = net
    }
  }
  return count
}

/** summarizeMany for IPv4 values only (sorted, distinct): the same answer, on numbers. */
function summarizeManyV4(values: Uint32Array, limits: SummaryLimits): string[] | null {
  let prefix = limits.minPrefixV4
  if (supernetCount(values, prefix, limits.maxEntries) > limits.maxEntries) return null
  while (prefix < 32 && supernetCount(values, prefix + 1, limits.maxEntries) <= limits.maxEntries) prefix++
  const shift = 32 - prefix
  const out: string[] = []
  let last = -1
  for (const v of values) {
    const net = shift === 32 ? 0 : v >>> shift
    if (net === last) continue
    last = net
    out.push(netText({ v4: true, base: BigInt(shift === 32 ? 0 : (net * 2 ** shift) >>> 0), prefix }))
  }
  return out
}

/**
 * Many peers: the longest prefix length, per family, at which their supernets number at most
 * `maxEntries` in all (never shorter than the family's minPrefix; null when that is not enough).
 * A public service's clients fail this at once, which is the common case.
 */
function summarizeMany(nets: readonly Net[], limits: SummaryLimits): string[] | null {
  const families = [true, false].map((v4) => nets.filter((n) => n.v4 === v4))
  const supernets = (list: readonly Net[], prefix: number) => {
    const out = new Map<bigint, Net>()
    for (const n of list) {
      const s = supernet(n, prefix)
      out.set(s.base, s)
    }
    return [...out.values()]
  }
  // Each family starts at its shortest allowed prefix; lengthen while the total stays within bounds.
  const chosen = families.map((list, i) =>
    list.length === 0 ? [] : supernets(list, i === 0 ? limits.minPrefixV4 : limits.minPrefixV6),
  )
  if (chosen[0]!.length + chosen[1]!.length > limits.maxEntries) return null
  families.forEach((list, i) => {
    const bits = i === 0 ? 32 : 128
    let prefix = i === 0 ? limits.minPrefixV4 : limits.minPrefixV6
    while (list.length > 0 && prefix < bits) {
      const next = supernets(list, prefix + 1)
      const other = chosen[1 - i]!.length
      if (next.length + other > limits.maxEntries) break
      chosen[i] = next
      prefix++
    }
  })
  return [...chosen[0]!, ...chosen[1]!]
    .sort((a, b) => (a.v4 !== b.v4 ? (a.v4 ? -1 : 1) : a.base < b.base ? -1 : a.base > b.base ? 1 : 0))
    .map(netText)
}

/**
 * Ports as the fewest ranges: consecutive ports join, and while there are more than `maxRanges`,
 * the two ranges with the smallest gap between them join.
 */
export function portRanges(ports: Iterable<number>, maxRanges: number): [number, number][] {
  const sorted = [...new Set(ports)].sort((a, b) => a - b)
  const ranges: [number, number][] = []
  for (const p of sorted) {
    const last = ranges[ranges.length - 1]
    if (last !== undefined && p === last[1] + 1) last[1] = p
    else ranges.push([p, p])
  }
  // Joining two ranges leaves every other gap as it was, so joining the smallest gap (the leftmost
  // of equal ones) until few enough remain joins exactly the smallest gaps in (size, position)
  // order: sorted once, not searched once per join (a rule's ports can number thousands).
  const keep = Math.max(1, maxRanges)
  if (ranges.length > keep) {
    const gaps = ranges.slice(0, -1).map(([, to], i) => ({ i, gap: (ranges[i + 1]?.[0] ?? 0) - to }))
    gaps.sort((a, b) => a.gap - b.gap || a.i - b.i)
    const joined = new Uint8Array(ranges.length)
    for (const { i } of gaps.slice(0, ranges.length - keep)) joined[i] = 1
    const out: [number, number][] = []
    let from = ranges[0]?.[0] ?? 0
    ranges.forEach(([start, to], i) => {
      if (joined[i] === 1) return
      out.push([from, to])
      from = ranges[i + 1]?.[0] ?? start
    })
    ranges.splice(0, ranges.length, ...out)
  }
  return ranges
}

/** A port range as rules write it: `443`, `1024-2047`. */
export function portRangeText([from, to]: [number, number]): string {
  return from === to ? String(from) : `${from}-${to}`
}
