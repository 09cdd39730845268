import type { FlowLogSpec, NetworkConfig } from '../core/network.js'

/**
 * The interfaces a flow log covers: every interface of its VPC or subnet, or the one interface
 * it names (DESIGN 4). Indexes into network.interfaces, in config order.
 */
export function coveredInterfaces(network: NetworkConfig, flowLog: FlowLogSpec): number[] {
  const vpc = network.vpcs.find((v) => v.id === flowLog.resource)
  const subnets = new Set(vpc ? vpc.subnets.map((s) => s.id) : [flowLog.resource])
  const covered: number[] = []
  network.interfaces.forEach((iface, index) => {
    if (iface.id === flowLog.resource || subnets.has(iface.subnet)) covered.push(index)
  })
  return covered
}

/** A per-interface membership mask, for constant-time checks on the packet path. */
export function coverageMask(network: NetworkConfig, interfaces: readonly number[]): Uint8Array {
  const mask = new Uint8Array(network.interfaces.length)
  for (const i of interfaces) mask[i] = 1
  return mask
}
