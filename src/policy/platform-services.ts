import { type Cidr, formatAddress, isV4Mapped, parseCidr } from '../core/address.js'
import type { NetworkConfig, SecurityGroupRule } from '../core/network.js'

/**
 * The cloud's own services, which AWS's security groups never filter (reference §10.1; AWS's
 * "Security group rules": Amazon DNS, DHCP, instance metadata, Time Sync, Windows activation) and
 * its flow logs never record (§2.5). flowlog accepts that traffic whatever the groups say, as the
 * cause `implicit:platform-services`, and a flow log with `platformTraffic: exclude` leaves it out.
 */

/** The cause's rule id: not a valid config id (a colon), so no group rule can have it. */
export const PLATFORM_RULE_ID = 'implicit:platform-services'
/** What audits and what-if name as the group of that cause. */
export const PLATFORM_GROUP = '(platform)'

/**
 * The link-local blocks of the services: instance metadata (.254), the DNS resolver's link-local
 * address (.253), Amazon Time Sync (.123), Windows activation (.250/.251), and their IPv6 twins
 * under fd00:ec2::/32. NHN does not log 169.254.169.0/24 either.
 */
export const SERVICE_BLOCKS: readonly Cidr[] = ['169.254.169.0/24', 'fd00:ec2::/32'].map(
  (text) => parseCidr(text) as Cidr,
)

export const DNS_PORT = 53
const UDP = 17
/** DHCP's server and client ports, IPv4 and IPv6. */
const DHCP = { server: 67, client: 68, server6: 547, client6: 546 } as const

/** DHCP or DHCPv6 between a client port and a server port, either way round. */
export function isDhcp(protocol: number, a: number, b: number): boolean {
  if (protocol !== UDP) return false
  const pair = (x: number, y: number) => (a === x && b === y) || (a === y && b === x)
  return pair(DHCP.client, DHCP.server) || pair(DHCP.client6, DHCP.server6)
}

/** Per interface index, its VPC's DNS resolver: the base of the VPC's first IPv4 CIDR + 2, or null. */
export function vpcResolvers(network: NetworkConfig): (Uint32Array | null)[] {
  const resolverOfSubnet = new Map<string, Uint32Array | null>()
  for (const vpc of network.vpcs) {
    const first = vpc.cidrs
      .map(parseCidr)
      .find((c): c is Cidr => typeof c !== 'string' && isV4Mapped(c.words))
    const resolver = first === undefined ? null : Uint32Array.from(first.words)
    if (resolver !== null) resolver[3] = (resolver[3]! + 2) >>> 0
    for (const subnet of vpc.subnets) resolverOfSubnet.set(subnet.id, resolver)
  }
  return network.interfaces.map((i) => resolverOfSubnet.get(i.subnet) ?? null)
}

/**
 * The services as allow rules of one interface, for the engine and for enforce mode's ruleset:
 * anything to and from the service blocks, DNS to the VPC resolver (its answers come back on the
 * connection), and DHCP (client to server ports out, server to client ports in).
 */
export function platformRules(resolver: Uint32Array | null): {
  inbound: SecurityGroupRule[]
  outbound: SecurityGroupRule[]
} {
  const rule = (protocol: 'all' | 'tcp' | 'udp', ports: string | null, peer: string): SecurityGroupRule => ({
    id: PLATFORM_RULE_ID,
    protocol,
    ports,
    icmpType: -1,
    icmpCode: -1,
    peer,
    description: 'the cloud platform services, which security groups do not filter',
  })
  const blocks = SERVICE_BLOCKS.map((b) => rule('all', null, b.text))
  const dns =
    resolver === null
      ? []
      : (['udp', 'tcp'] as const).map((p) => rule(p, String(DNS_PORT), `${formatAddress(resolver)}/32`))
  return {
    outbound: [
      ...blocks,
      ...dns,
      rule('udp', String(DHCP.server), '0.0.0.0/0'),
      rule('udp', String(DHCP.server6), '::/0'),
    ],
    inbound: [
      ...blocks,
      rule('udp', String(DHCP.client), '0.0.0.0/0'),
      rule('udp', String(DHCP.client6), '::/0'),
    ],
  }
}
