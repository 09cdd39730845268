import { type Cidr, cidrContains, parseAddress, parseCidr, V4_MAPPED_MARK } from '../core/address.js'
import type { NetworkConfig } from '../core/network.js'

/**
 * Which addresses are "ours": private and special ranges always, plus the VPC CIDRs of a config.
 * Egress volume counts only traffic that leaves for the outside; a scan from inside is worse news.
 */
const ALWAYS_INTERNAL = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10', // carrier-grade NAT (also AWS's internal services)
  '127.0.0.0/8',
  '169.254.0.0/16', // link-local, instance metadata
  'fc00::/7',
  'fe80::/10',
  '::1/128',
]

export class AddressScope {
  readonly #cidrs: Cidr[]
  readonly #scratch = new Uint32Array(4)

  constructor(extra: readonly string[] = []) {
    this.#cidrs = [...ALWAYS_INTERNAL, ...extra]
      .map((text) => parseCidr(text))
      .filter((c): c is Cidr => typeof c !== 'string')
  }

  static of(network: NetworkConfig | null): AddressScope {
    return new AddressScope(network === null ? [] : network.vpcs.flatMap((v) => v.cidrs))
  }

  isInternal(address: string): boolean {
    if (!parseAddress(address, this.#scratch)) return false
    return this.#cidrs.some((c) => cidrContains(c, this.#scratch))
  }

  /**
   * The inside IPv4 addresses as ranges of their 32-bit values (first, last), for a test that
   * does not parse each address: an IPv4 address is inside exactly when its value is in one.
   */
  ipv4Ranges(): [number, number][] {
    const ranges: [number, number][] = []
    for (const c of this.#cidrs) {
      // IPv4 is ::ffff:a.b.c.d: a prefix up to 96 bits holds all of IPv4 or none of it.
      const first = c.prefix <= 96 ? 0 : (c.words[3] ?? 0)
      const last = c.prefix <= 96 ? 0xffffffff : first + 2 ** (128 - c.prefix) - 1
      if (cidrContains(c, [0, 0, V4_MAPPED_MARK, first])) ranges.push([first, last])
    }
    return ranges
  }
}

/** Matches addresses against a list of CIDRs (ignoreSources). */
export class CidrSet {
  readonly #cidrs: Cidr[]
  readonly #scratch = new Uint32Array(4)

  constructor(texts: readonly string[]) {
    this.#cidrs = texts.map((t) => parseCidr(t)).filter((c): c is Cidr => typeof c !== 'string')
  }

  /** How many CIDRs it holds. */
  get size(): number {
    return this.#cidrs.length
  }

  has(address: string): boolean {
    if (this.#cidrs.length === 0 || !parseAddress(address, this.#scratch)) return false
    return this.#cidrs.some((c) => cidrContains(c, this.#scratch))
  }
}
