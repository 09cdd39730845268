import type { SecurityGroupRule } from '../core/network.js'

/** A rule in one line, as people say it: `inbound tcp 22 from 0.0.0.0/0`. */
export function ruleText(rule: SecurityGroupRule, direction: 'inbound' | 'outbound'): string {
  const peer = direction === 'inbound' ? `from ${rule.peer}` : `to ${rule.peer}`
  let what: string
  if (rule.protocol === 'all') what = 'all traffic'
  else if (rule.protocol === 'tcp' || rule.protocol === 'udp')
    what = `${rule.protocol} ${rule.ports ?? 'all ports'}`
  else if (rule.protocol === 'icmp' || rule.protocol === 'icmpv6') {
    const type =
      rule.icmpType < 0
        ? 'any type'
        : `type ${rule.icmpType}${rule.icmpCode < 0 ? '' : ` code ${rule.icmpCode}`}`
    what = `${rule.protocol} ${type}`
  } else what = `protocol ${rule.protocol}`
  return `${direction} ${what} ${peer}`
}
