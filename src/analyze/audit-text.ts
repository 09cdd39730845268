import type { AuditResult, RuleAudit } from './audit.js'
import { isoTime, renderTable } from './output.js'

/** The audit for people: a summary line, then one section per question. */
export function renderAudit(result: AuditResult): string {
  const out: string[] = []
  const span =
    result.first === null || result.last === null
      ? ''
      : ` (${isoTime(result.first)} .. ${isoTime(result.last)})`
  const how =
    result.method === 'rule-id'
      ? "by the records' rule-id"
      : 'by re-judging the records with the policy engine (they carry no rule-id)'
  out.push(`flowlog audit: ${result.records} record(s)${span}; rules attributed ${how}`)
  const s = result.skipped
  const skipped = s.unknownInterface + s.noTime + s.noAddresses
  if (skipped > 0) {
    out.push(
      `  skipped ${skipped} record(s): ${s.unknownInterface} of interfaces not in the config, ${s.noTime} without a start time, ${s.noAddresses} without addresses`,
    )
  }
  for (const [id, n] of Object.entries(result.unknownRuleIds))
    out.push(`  ${n} record(s) name rule ${id}, which the config does not have`)

  const used = result.rules.filter((r) => r.status === 'used')
  out.push('', 'Rules that carried traffic')
  out.push(
    renderTable({
      columns: [
        { name: 'rule', kind: 'text' },
        { name: 'group', kind: 'text' },
        { name: 'rule_text', kind: 'text' },
        { name: 'records', kind: 'number' },
        { name: 'packets', kind: 'number' },
        { name: 'bytes', kind: 'number' },
        { name: 'peers', kind: 'number' },
        { name: 'first', kind: 'time' },
        { name: 'last', kind: 'time' },
      ],
      rows: used.map((r) => ({
        rule: r.id,
        group: r.group,
        rule_text: r.text,
        records: r.usage?.records ?? 0,
        packets: r.usage?.packets ?? 0,
        bytes: r.usage?.bytes ?? 0,
        peers: r.usage?.peers.size ?? 0,
        first: r.usage?.first ?? null,
        last: r.usage?.last ?? null,
      })),
    }).trimEnd(),
  )

  const idle = result.rules.filter((r) => r.status === 'unused' || r.status === 'shadowed')
  out.push('', 'Rules that never matched')
  if (idle.length === 0) out.push('  (none)')
  for (const r of idle) {
    const why =
      r.status === 'shadowed'
        ? `shadowed: ${Object.entries(r.shadowedBy)
            .map(([id, n]) => `${id} accepted the ${n} record(s) it would allow`)
            .join(', ')}`
        : `no accepted traffic on ${r.interfaces.join(', ')}`
    out.push(`  ${label(r)}: ${why}`)
  }
  const uncovered = result.rules.filter((r) => r.status === 'not-covered')
  if (uncovered.length > 0) {
    out.push('', 'Not judged (no records of the interfaces that have their group)')
    for (const r of uncovered)
      out.push(`  ${label(r)}${r.interfaces.length === 0 ? ': the group is on no interface' : ''}`)
  }

  const exposed = result.rules.filter((r) => r.exposure.length > 0)
  out.push('', 'Open to the internet on sensitive ports')
  if (exposed.length === 0) out.push('  (none)')
  for (const r of exposed) {
    const carried =
      r.usage === null
        ? 'carried no traffic'
        : `carried ${r.usage.records} record(s) from ${r.usage.peers.size} address(es)`
    out.push(`  ${label(r)}: ${r.exposure.join('; ')}; ${carried}`)
  }

  if (result.platform > 0)
    out.push(
      '',
      `${result.platform} accepted record(s) of the platform services (DNS to the VPC resolver, metadata, DHCP, ...) are credited to no rule: security groups do not filter them`,
    )

  const kept = result.rules.filter((r) => r.kept !== null)
  if (kept.length > 0) {
    out.push('', 'Kept as they are, public by intent (audit --narrow-public narrows them too)')
    for (const r of kept)
      out.push(
        `  ${label(r)}: ${r.kept}; carried ${r.usage?.records ?? 0} record(s) from ${r.usage?.peers.size ?? 0} address(es)`,
      )
  }

  const wide = result.rules.filter((r) => r.status === 'used' && r.narrower.length > 0)
  out.push('', 'Wider than the traffic they carried (least-privilege replacements)')
  if (wide.length === 0) out.push('  (none)')
  for (const r of wide) {
    out.push(`  ${label(r)}`)
    for (const n of r.narrower) out.push(`    ${n}`)
    for (const x of r.leastPrivilege) out.push(`    -> ${x.id}: ${ruleLineText(x, r)}`)
  }
  return `${out.join('\n')}\n`
}

function label(r: RuleAudit): string {
  return `${r.id} (${r.group} ${r.text})`
}

function ruleLineText(x: RuleAudit['rule'], r: RuleAudit): string {
  const peer = r.direction === 'inbound' ? `from ${x.peer}` : `to ${x.peer}`
  if (x.protocol === 'tcp' || x.protocol === 'udp') return `${x.protocol} ${x.ports ?? 'all ports'} ${peer}`
  if (x.protocol === 'icmp' || x.protocol === 'icmpv6')
    return `${x.protocol}${x.icmpType >= 0 ? ` type ${x.icmpType}` : ''} ${peer}`
  return `protocol ${x.protocol} ${peer}`
}

/** The audit as JSON: sets become sorted lists. */
export function auditJson(result: AuditResult): unknown {
  return {
    ...result,
    rules: result.rules.map((r) => ({
      ...r,
      usage:
        r.usage === null
          ? null
          : {
              ...r.usage,
              peers: r.usage.peers.sortedTexts(),
              protocols: Object.fromEntries(
                [...r.usage.protocols].map(([p, pairs]) => [p, pairs.ports().filter((x) => x >= 0)]),
              ),
            },
    })),
  }
}
