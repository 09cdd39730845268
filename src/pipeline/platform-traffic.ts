import { cidrContains, isV4Mapped } from '../core/address.js'
import type { RecordBatch } from '../core/flow-record.js'
import type { NetworkConfig } from '../core/network.js'
import { DIRECTION, LOG_STATUS } from '../core/verdict.js'
import { DNS_PORT, isDhcp, SERVICE_BLOCKS, vpcResolvers } from '../policy/platform-services.js'

const TCP = 6
const UDP = 17

/**
 * Tells apart the records of traffic between an interface and the cloud's own services, which AWS
 * flow logs leave out (reference §2.5; policy/platform-services.ts): DNS with the VPC's resolver,
 * anything with the link-local service blocks, and DHCP. A flow log with `platformTraffic: exclude`
 * drops these records; the default keeps every packet of a capture.
 */
export class PlatformTraffic {
  /** Per interface index: its VPC resolver's IPv4 address as a number, or -1. */
  private readonly resolver: Float64Array

  constructor(network: NetworkConfig) {
    this.resolver = Float64Array.from(vpcResolvers(network), (r) => (r === null ? -1 : r[3]!))
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
