import type { Protocol, SecurityGroupRule } from '../core/network.js'
import { checkPorts } from './rules.js'

/**
 * The checks of a security-group rule that involve several of its keys (ports need tcp/udp,
 * ICMP type/code need icmp/icmpv6, a code needs a type), and its normalised form.
 * Used by the schema to build the rule and by the cross-key checks to report, so the problems
 * are listed even when another part of the config failed its shape.
 */
export interface RuleProblem {
  key: 'ports' | 'icmpType' | 'icmpCode'
  value: unknown
  rule: string
}

export interface RuleInput {
  protocol: Protocol
  ports?: string | number | undefined
  icmpType?: number | undefined
  icmpCode?: number | undefined
}

export type RuleMatch = Pick<SecurityGroupRule, 'ports' | 'icmpType' | 'icmpCode'>

export function normaliseRule(r: RuleInput): { value: RuleMatch; problems: RuleProblem[] } {
  const problems: RuleProblem[] = []
  let ports: string | null = null
  // AWS ignores the port range of every protocol but tcp and udp: accepted, normalised to null.
  if (r.ports !== undefined && (r.protocol === 'tcp' || r.protocol === 'udp')) {
    const result = checkPorts(r.ports)
    if (result.ok) ports = result.value
    else problems.push({ key: 'ports', value: r.ports, rule: result.rule })
  }
  const icmp = r.protocol === 'icmp' || r.protocol === 'icmpv6'
  const icmpType = r.icmpType ?? -1
  const icmpCode = r.icmpCode ?? -1
  if (!icmp) {
    const rule = 'applies only to protocol icmp or icmpv6'
    if (r.icmpType !== undefined) problems.push({ key: 'icmpType', value: r.icmpType, rule })
    if (r.icmpCode !== undefined) problems.push({ key: 'icmpCode', value: r.icmpCode, rule })
  } else if (icmpType === -1 && icmpCode !== -1) {
    // AWS: all types means all codes; a code alone would silently match every type.
    problems.push({ key: 'icmpCode', value: icmpCode, rule: 'requires an icmpType' })
  }
  return {
    value: { ports, icmpType: icmp ? icmpType : -1, icmpCode: icmp ? icmpCode : -1 },
    problems,
  }
}

/** `{group}-in-{n}` / `{group}-out-{n}`, n from 1: stable as long as the rules keep their order. */
export function defaultRuleId(group: string, kind: 'in' | 'out', index: number): string {
  return `${group}-${kind}-${index + 1}`
}
