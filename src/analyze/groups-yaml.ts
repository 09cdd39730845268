import type { NetworkConfig, SecurityGroupRule } from '../core/network.js'
import type { RuleAudit } from './audit.js'

/**
 * The least-privilege security groups of an audit as a YAML file in the config's own schema
 * (`securityGroups:`), ready for `flowlog what-if --groups` and for pasting into the config.
 * Comments say what changed and why; values are JSON-quoted, which YAML reads as they are.
 */

function ruleLine(rule: SecurityGroupRule, direction: 'inbound' | 'outbound'): string {
  const parts = [`id: ${JSON.stringify(rule.id)}`, `protocol: ${JSON.stringify(rule.protocol)}`]
  if (rule.ports !== null) parts.push(`ports: ${JSON.stringify(rule.ports)}`)
  if (rule.icmpType >= 0) parts.push(`icmpType: ${rule.icmpType}`)
  if (rule.icmpCode >= 0) parts.push(`icmpCode: ${rule.icmpCode}`)
  parts.push(`${direction === 'inbound' ? 'source' : 'destination'}: ${JSON.stringify(rule.peer)}`)
  if (rule.description !== null) parts.push(`description: ${JSON.stringify(rule.description.slice(0, 255))}`)
  return `{ ${parts.join(', ')} }`
}

export function leastPrivilegeYaml(
  network: NetworkConfig,
  rules: readonly RuleAudit[],
  source: string,
): string {
  const out = [
    `# Least-privilege security groups from ${source}, written by flowlog audit.`,
    '# Each rule carries exactly the accepted traffic in those records; rules that carried none are',
    '# removed. Check it against the same records with: flowlog what-if --config CONFIG --groups THIS SOURCE...',
    'securityGroups:',
  ]
  for (const group of network.securityGroups) {
    out.push(`  - id: ${JSON.stringify(group.id)}`)
    if (group.vpc !== null) out.push(`    vpc: ${JSON.stringify(group.vpc)}`)
    if (group.description !== null) out.push(`    description: ${JSON.stringify(group.description)}`)
    for (const direction of ['inbound', 'outbound'] as const) {
      const audits = rules.filter((r) => r.group === group.id && r.direction === direction)
      const lines: string[] = []
      for (const a of audits) {
        if (a.status === 'not-covered')
          lines.push(`      # ${a.id}: kept, no records of this group's interfaces`)
        else if (a.leastPrivilege.length === 0)
          lines.push(
            `      # removed ${a.id} (${a.text}): ${a.status === 'shadowed' ? 'shadowed' : 'no traffic'}`,
          )
        else if (a.kept !== null) lines.push(`      # ${a.id} kept: ${a.kept}`)
        else if (a.narrower.length > 0) lines.push(`      # ${a.id} narrowed: ${a.narrower.join('; ')}`)
        for (const r of a.leastPrivilege) lines.push(`      - ${ruleLine(r, direction)}`)
      }
      const hasRules = lines.some((l) => l.startsWith('      - '))
      out.push(hasRules ? `    ${direction}:` : `    ${direction}: []`)
      out.push(...lines)
    }
  }
  return `${out.join('\n')}\n`
}
