import { type Cidr, cidrContains, isV4Mapped, parseCidr } from '../core/address.js'
import type { RecordBatch } from '../core/flow-record.js'
import type { NetworkConfig } from '../core/network.js'
import { DIRECTION, LOG_STATUS } from '../core/verdict.js'

const TCP = 6
const UDP = 17
const DNS_PORT = 53

/**
 * The link-local blocks of the cloud's own services: instance metadata (.254), the DNS resolver's
 * link-local address (.253), Amazon Time Sync (.123), Windows activation (.250/.251), and their
 * IPv6 twins under fd00:ec2::/32. NHN does not log 169.254.169.0/24 either.
 */
const SERVICE_BLOCKS: readonly Cidr[] = ['169.254.169.0/24', 'fd00:ec2::/32'].map(
  (text) => parseCidr(text) as Cidr,
)

/** DHCP client/server port pairs, IPv4 (68, 67) and IPv6 (546, 547), either way round. */
function isDhcp(protocol: number, a: number, b: number): boolean {
  if (protocol !== UDP) return false
  return (
    (a === 68 && b === 67) || (a === 67 && b === 68) || (a === 546 && b === 547) || (a === 547 && b === 546)
  )
}

/**
 * Tells apart the records of traffic between an interface and the cloud's own services, which AWS
 * flow logs leave out (reference §2.5): DNS with the VPC's resolver (the base address of the VPC's
 * first IPv4 CIDR + 2), anything with the link-local service blocks, and DHCP. A flow log with
 * `platformTraffic: exclude` drops these records; the default keeps every packet of a capture.
 */
export class PlatformTraffic {
  /** Per interface index: its VPC resolver's IPv4 address as a number, or -1. */
  private readonly resolver: Float64Array

  constructor(network: NetworkConfig) {
    const resolverOfSubnet = new Map<string, number>()
    for (const vpc of network.vpcs) {
      const first = vpc.cidrs
        .map(parseCidr)
        .find((c): c is Cidr => typeof c !== 'string' && isV4Mapped(c.words))
      const resolver = first === undefined ? -1 : ((first.words[3]! + 2) & 0xffffffff) >>> 0
      for (const subnet of vpc.subnets) resolverOfSubnet.set(subnet.id, resolver)
    }
    this.resolver = Float64Array.from(network.interfaces, (i) => resolverOfSubnet.get(i.subnet) ?? -1)
  }

  /** True when row `i` of the batch is platform traffic (status records never are). */
  isPlatform(batch: RecordBatch, i: number): boolean {
    if (batch.status[i] !== LOG_STATUS.OK) return false
    const protocol = batch.protocol[i]!
    const srcPort = batch.srcPort[i]!
    const dstPort = batch.dstPort[i]!
    if (isDhcp(protocol, srcPort, dstPort)) return true
    const direction = batch.direction[i]!
    // The remote side: the destination of what the interface sent, the source of what it got.
    if (
      direction !== DIRECTION.INGRESS &&
      this.isService(batch.iface[i]!, protocol, batch.dst, 4 * i, dstPort)
    )
      return true
    return (
      direction !== DIRECTION.EGRESS && this.isService(batch.iface[i]!, protocol, batch.src, 4 * i, srcPort)
    )
  }

  private isService(iface: number, protocol: number, address: Uint32Array, o: number, port: number): boolean {
    for (const block of SERVICE_BLOCKS) if (cidrContains(block, address, o)) return true
    const resolver = this.resolver[iface] ?? -1
    return (
      resolver >= 0 &&
      port === DNS_PORT &&
      (protocol === UDP || protocol === TCP) &&
      isV4Mapped(address, o) &&
      address[o + 3] === resolver
    )
  }
}
