import { AcceptingRules, denyAddress, narrowRules } from './block-suggestion.js'
import type { ContactTable } from './contact-table.js'
import { type DetectContext, plural, spanText } from './context.js'
import { type Contact, type Finding, firstOf, listText, Tally } from './finding.js'
import { round, sortPorts } from './port-scan.js'
import { eventsInDenseWindows } from './sliding-window.js'

/**
 * Sweep (GuardDuty Impact:EC2/PortSweep): one source trying one port (or ping) on at least
 * `minHosts` distinct hosts within `windowSeconds`, mostly rejected (`minRejectedShare` of the
 * hosts). One finding per source, naming every port it swept. ICMP has no ports: echo replies come
 * from each swept host, one host each, so they never add up. A source that is also a port scanner is
 * reported once, as the port scan (detect.ts drops its sweep).
 */
export function sweepFindings(table: ContactTable, context: DetectContext): Finding[] {
  const t = context.thresholds
  const findings: Finding[] = []
  for (const [source, { ports: reached }] of table.sources) {
    // The ports it reached enough hosts on (a contact per host), in the order first seen.
    const sweeps: { port: string; contacts: Contact[] }[] = []
    for (const [port, contacts] of reached)
      if (contacts.length >= t.sweep.minHosts) sweeps.push({ port, contacts: [...contacts] })
    if (sweeps.length === 0) continue
    const tally = new Tally(t.samples)
    const rules = new AcceptingRules()
    const swept: string[] = []
    const allHosts = new Set<string>()
    let tried = 0
    let rejected = 0
    for (const { port, contacts } of sweeps) {
      const sorted = contacts.sort((a, b) => a.first - b.first)
      const marks = eventsInDenseWindows(
        sorted.map((c) => ({ time: c.first, key: c.host ?? '' })),
        t.sweep.windowSeconds,
        t.sweep.minHosts,
      )
      const hits = sorted.filter((_, i) => marks[i])
      if (hits.length === 0) continue
      const blocked = hits.filter((c) => c.rejected).length
      if (blocked / hits.length < t.sweep.minRejectedShare) continue
      swept.push(port)
      tried += hits.length
      rejected += blocked
      for (const c of hits) {
        allHosts.add(c.host ?? '')
        tally.addContact(c)
        rules.add(c.rule)
      }
    }
    if (swept.length === 0) continue
    const ports = sortPorts(swept)
    findings.push({
      detection: 'sweep',
      severity: context.scope.isInternal(source) ? 'high' : 'medium',
      source,
      summary: `${source} swept ${listText(ports, 5)} across ${plural(
        allHosts.size,
        'host',
      )} ${spanText(tally.first, tally.last)} (${rejected} of ${tried} rejected)`,
      evidence: tally.evidence(
        { ports: ports.length, hosts: allHosts.size, rejectedShare: round(rejected / tried) },
        { ports: firstOf(ports, 20), hosts: firstOf(allHosts, 20) },
      ),
      suggestions: [...denyAddress(source, 'from'), ...narrowRules(rules.map, 'of the hosts it reached')],
    })
  }
  return findings
}
