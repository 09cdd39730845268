/**
 * A security-group rule in flowlog's shape (the config's and the resource model's) as the EC2
 * Query API's IpPermissions parameters, the encoding awscli sends for
 * `aws ec2 authorize-security-group-ingress --ip-permissions ...`.
 */
export interface Rule {
  id?: string
  protocol: string | number
  ports: string | null
  icmpType: number
  icmpCode: number
  peer: string
  description: string | null
}

export function ipPermissions(rules: readonly Rule[]): Record<string, string> {
  const params: Record<string, string> = {}
  rules.forEach((rule, i) => {
    const p = `IpPermissions.${i + 1}`
    const protocol = rule.protocol === 'all' ? '-1' : String(rule.protocol)
    params[`${p}.IpProtocol`] = protocol
    if (rule.protocol === 'tcp' || rule.protocol === 'udp') {
      const [from, to] = (rule.ports ?? '0-65535').split('-')
      params[`${p}.FromPort`] = String(from)
      params[`${p}.ToPort`] = String(to ?? from)
    } else if (rule.protocol === 'icmp' || rule.protocol === 'icmpv6') {
      params[`${p}.FromPort`] = String(rule.icmpType)
      params[`${p}.ToPort`] = String(rule.icmpCode)
    }
    if (rule.peer.startsWith('sg-')) {
      params[`${p}.Groups.1.GroupId`] = rule.peer
      if (rule.description) params[`${p}.Groups.1.Description`] = rule.description
    } else if (rule.peer.includes(':')) {
      params[`${p}.Ipv6Ranges.1.CidrIpv6`] = rule.peer
      if (rule.description) params[`${p}.Ipv6Ranges.1.Description`] = rule.description
    } else {
      params[`${p}.IpRanges.1.CidrIp`] = rule.peer
      if (rule.description) params[`${p}.IpRanges.1.Description`] = rule.description
    }
  })
  return params
}

export function ruleLine(rule: Rule, direction: 'inbound' | 'outbound'): string {
  const what =
    rule.protocol === 'all'
      ? 'all traffic'
      : rule.protocol === 'tcp' || rule.protocol === 'udp'
        ? `${rule.protocol} ${rule.ports ?? 'all ports'}`
        : rule.protocol === 'icmp' || rule.protocol === 'icmpv6'
          ? `${rule.protocol} type ${rule.icmpType < 0 ? 'any' : rule.icmpType}`
          : `protocol ${rule.protocol}`
  return `${direction} ${what} ${direction === 'inbound' ? 'from' : 'to'} ${rule.peer}`
}
