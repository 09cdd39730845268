import type { FlowLogSpec, NetworkConfig } from '../core/network.js'

/**
 * The interfaces a flow log covers: every interface of its VPC or subnet, or the one interface
 * it names (DESIGN 4). Indexes into network.interfaces, in config order. An agent of a fleet
 * (network.agentHost) covers only its own host's interfaces: the others' hosts write their
 * records, NODATA included (docs/fleet.md).
 */
export function coveredInterfaces(network: NetworkConfig, flowLog: FlowLogSpec): number[] {
  const vpc = network.vpcs.find((v) => v.id === flowLog.resource)
  const subnets = new Set(vpc ? vpc.subnets.map((s) => s.id) : [flowLog.resource])
  const covered: number[] = []
  network.interfaces.forEach((iface, index) => {
    if (!onThisHost(network, iface)) return
    if (iface.id === flowLog.resource || subnets.has(iface.subnet)) covered.push(index)
  })
  return covered
}

/** False for another host's interface in a fleet agent's network; true on a single host. */
export function onThisHost(network: NetworkConfig, iface: NetworkConfig['interfaces'][number]): boolean {
  return (
    network.agentHost === undefined ||
    iface.host === undefined ||
    iface.host === null ||
    iface.host === network.agentHost
  )
}

/** A per-interface membership mask, for constant-time checks on the packet path. */
export function coverageMask(network: NetworkConfig, interfaces: readonly number[]): Uint8Array {
  const mask = new Uint8Array(network.interfaces.length)
  for (const i of interfaces) mask[i] = 1
  return mask
}
