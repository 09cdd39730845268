import type { Finding } from './detections/finding.js'
import { listText, protocolName } from './detections/finding.js'
import { humanBytes, isoTime } from './output.js'

/** Findings for people: one block each, evidence then what to do. */
export function renderFindings(findings: readonly Finding[], records: number): string {
  if (findings.length === 0) return `no findings in ${records} record(s)\n`
  const blocks = findings.map((f, i) => {
    const e = f.evidence
    const counts = Object.entries(e.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')
    const lines = [
      `${i + 1}. [${f.severity}] ${f.detection}: ${f.summary}`,
      `   source    ${f.source}`,
      `   span      ${isoTime(e.first)} .. ${isoTime(e.last)}`,
      `   evidence  ${counts}; ${e.records} record(s), ${e.packets} packet(s), ${humanBytes(e.bytes)}`,
    ]
    // Evidence lists hold the first 20; the counts say how many there were.
    if (e.ports !== undefined && e.ports.length > 0)
      lines.push(`   ports     ${listText(e.ports, e.ports.length, e.counts.ports ?? e.ports.length)}`)
    if (e.hosts !== undefined && e.hosts.length > 0)
      lines.push(`   hosts     ${listText(e.hosts, e.hosts.length, e.counts.hosts ?? e.hosts.length)}`)
    for (const s of e.samples) {
      const time = s.start === null ? '-' : isoTime(s.start)
      lines.push(
        `   sample    ${time} ${s.interfaceId ?? '-'} ${s.srcaddr}:${s.srcport ?? '-'} -> ${s.dstaddr}:${s.dstport ?? '-'} ${protocolName(
          s.protocol,
        )} ${s.packets} pkt ${humanBytes(s.bytes)} ${s.action ?? '-'}`,
      )
    }
    for (const s of f.suggestions) lines.push(`   block     [${s.kind}] ${s.text}`)
    return lines.join('\n')
  })
  return `${findings.length} finding(s) in ${records} record(s)\n\n${blocks.join('\n\n')}\n`
}
