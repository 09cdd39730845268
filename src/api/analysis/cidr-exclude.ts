import { isIP } from 'node:net'

/**
 * The CIDRs that cover `cidr` but one address: a security group can only allow, so "allow
 * 0.0.0.0/0 but 198.51.100.66" is written as the 32 blocks around it (one per prefix length, each
 * the half that does not hold the address). Null when the address is not inside the CIDR or the
 * families differ.
 *
 *   excludeAddress('10.0.0.0/30', '10.0.0.1') → ['10.0.0.2/31', '10.0.0.0/32']
 */
export function excludeAddress(cidr: string, address: string): string[] | null {
  const [base, prefixText] = cidr.split('/')
  if (base === undefined) return null
  const family = isIP(base)
  if (family === 0 || isIP(address) !== family) return null
  const bits = family === 4 ? 32 : 128
  const prefix = prefixText === undefined ? bits : Number(prefixText)
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) return null
  const net = toBigInt(base, family)
  const host = toBigInt(address, family)
  const all = (1n << BigInt(bits)) - 1n
  const maskOf = (p: number) => (p === 0 ? 0n : (all << BigInt(bits - p)) & all)
  if ((host & maskOf(prefix)) !== (net & maskOf(prefix))) return null
  const out: string[] = []
  for (let p = prefix + 1; p <= bits; p++) {
    // The half at prefix p that differs from the address in bit p.
    const flip = 1n << BigInt(bits - p)
    const sibling = (host ^ flip) & maskOf(p)
    out.push(`${fromBigInt(sibling, family)}/${p}`)
  }
  return out
}

function toBigInt(text: string, family: number): bigint {
  if (family === 4) return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n)
  const [head = '', tail] = text.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  // An IPv4 tail (::ffff:1.2.3.4) is two groups.
  const expand = (groups: string[]) =>
    groups.flatMap((g) => {
      if (!g.includes('.')) return [g]
      const v = toBigInt(g, 4)
      return [(v >> 16n).toString(16), (v & 0xffffn).toString(16)]
    })
  const l = expand(left)
  const r = expand(right)
  const groups =
    tail === undefined ? l : [...l, ...new Array<string>(8 - l.length - r.length).fill('0'), ...r]
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n)
}

function fromBigInt(value: bigint, family: number): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.')
  const groups: string[] = []
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16))
  // The longest run of zero groups becomes "::" (RFC 5952).
  let best = -1
  let bestLength = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === '0') j++
    if (j - i > bestLength) {
      best = i
      bestLength = j - i
    }
    i = j
  }
  if (best < 0) return groups.join(':')
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLength).join(':')}`
}
