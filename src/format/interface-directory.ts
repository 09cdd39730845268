import {
  type Cidr,
  cidrContains,
  formatAddress,
  isV4Mapped,
  parseAddress,
  parseCidr,
} from '../core/address.js'
import type { NetworkConfig } from '../core/network.js'

/**
 * What formats need to know about one interface, looked up once per network instead of once per
 * record: the ids around it and its primary addresses.
 */
export interface InterfaceEntry {
  id: string
  /** `null` when the interface belongs to no instance. */
  instance: string | null
  subnet: string
  /** `null` when the subnet is in no configured VPC (the loader should prevent it). */
  vpc: string | null
  az: string | null
  /** First configured address of each family (canonical text, as formatAddress writes it), or null. */
  primaryV4: string | null
  primaryV6: string | null
  /** Index into InterfaceDirectory.vpcCidrs of the interface's VPC, or -1. */
  vpcIndex: number
}

export interface InterfaceDirectory {
  interfaces: readonly InterfaceEntry[]
  /** CIDRs of each VPC, in NetworkConfig.vpcs order. */
  vpcCidrs: readonly (readonly Cidr[])[]
}

// Built once per NetworkConfig: the config is immutable after loading, and formatting runs once per
// window, so rebuilding per file would only repeat the same work.
const cache = new WeakMap<NetworkConfig, InterfaceDirectory>()

export function interfaceDirectory(network: NetworkConfig): InterfaceDirectory {
  let directory = cache.get(network)
  if (directory === undefined) {
    directory = buildDirectory(network)
    cache.set(network, directory)
  }
  return directory
}

function buildDirectory(network: NetworkConfig): InterfaceDirectory {
  const subnets = new Map<string, { vpcIndex: number; vpc: string; az: string | null }>()
  const vpcCidrs: Cidr[][] = []
  network.vpcs.forEach((vpc, vpcIndex) => {
    const cidrs: Cidr[] = []
    for (const text of vpc.cidrs) {
      const cidr = parseCidr(text)
      if (typeof cidr !== 'string') cidrs.push(cidr)
    }
    vpcCidrs.push(cidrs)
    for (const subnet of vpc.subnets) subnets.set(subnet.id, { vpcIndex, vpc: vpc.id, az: subnet.az })
  })
  const words = new Uint32Array(4)
  const interfaces = network.interfaces.map((iface): InterfaceEntry => {
    let primaryV4: string | null = null
    let primaryV6: string | null = null
    for (const address of iface.addresses) {
      if (!parseAddress(address, words)) continue
      if (isV4Mapped(words)) primaryV4 ??= formatAddress(words)
      else primaryV6 ??= formatAddress(words)
    }
    const subnet = subnets.get(iface.subnet)
    return {
      id: iface.id,
      instance: iface.instance,
      subnet: iface.subnet,
      vpc: subnet?.vpc ?? null,
      az: subnet?.az ?? null,
      primaryV4,
      primaryV6,
      vpcIndex: subnet?.vpcIndex ?? -1,
    }
  })
  return { interfaces, vpcCidrs }
}

/** True when the address (4 words) lies in one of the CIDRs. */
export function insideAny(cidrs: readonly Cidr[], words: ArrayLike<number>, offset = 0): boolean {
  for (const cidr of cidrs) if (cidrContains(cidr, words, offset)) return true
  return false
}
