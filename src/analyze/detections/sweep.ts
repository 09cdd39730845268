import type { Flow } from '../flow.js'
import { AcceptingRules, denyAddress, narrowRules } from './block-suggestion.js'
import { type DetectContext, plural, spanText } from './context.js'
import { Contact, type Detector, type Finding, firstOf, portLabel, Tally } from './finding.js'
import { round, sortPorts } from './port-scan.js'
import { eventsInDenseWindows } from './sliding-window.js'
import { isReply } from './traffic-roles.js'

/**
 * Sweep (GuardDuty Impact:EC2/PortSweep): one source trying one port (or ping) on at least
 * `minHosts` distinct hosts within `windowSeconds`, mostly rejected (`minRejectedShare` of the
 * hosts). One finding per source, naming every port it swept. A source that is also a port scanner
 * is reported once, as the port scan (detect.ts drops its sweep).
 */
interface PortSweep {
  port: string
  hosts: Map<string, Contact>
}

export class SweepDetector implements Detector {
  readonly name = 'sweep'
  readonly #bySource = new Map<string, { ports: Map<string, PortSweep>; rules: AcceptingRules }>()

  constructor(private readonly context: DetectContext) {}

  observe(flow: Flow): void {
    if (flow.start === null || flow.protocol === null || isReply(flow)) return
    // ICMP has no ports: echo replies come from each swept host, one host each, so they never add up.
    const source = flow.srcaddr ?? ''
    const port = portLabel(flow.protocol, flow.dstport)
    let entry = this.#bySource.get(source)
    if (entry === undefined) {
      entry = { ports: new Map(), rules: new AcceptingRules() }
      this.#bySource.set(source, entry)
    }
    let sweep = entry.ports.get(port)
    if (sweep === undefined) {
      sweep = { port, hosts: new Map() }
      entry.ports.set(port, sweep)
    }
    const host = flow.dstaddr ?? ''
    let contact = sweep.hosts.get(host)
    if (contact === undefined) {
      contact = new Contact(flow)
      sweep.hosts.set(host, contact)
    }
    contact.add(flow)
    if (flow.action === 'ACCEPT') entry.rules.add(this.context.namer.ruleOf(flow))
  }

  finish(): Finding[] {
    const t = this.context.thresholds
    const findings: Finding[] = []
    for (const [source, { ports, rules }] of this.#bySource) {
      const tally = new Tally(t.samples)
      const swept: string[] = []
      const allHosts = new Set<string>()
      let tried = 0
      let rejected = 0
      for (const sweep of ports.values()) {
        if (sweep.hosts.size < t.sweep.minHosts) continue
        const sorted = [...sweep.hosts.entries()].sort((a, b) => a[1].first - b[1].first)
        const marks = eventsInDenseWindows(
          sorted.map(([host, c]) => ({ time: c.first, key: host })),
          t.sweep.windowSeconds,
          t.sweep.minHosts,
        )
        const hits = sorted.filter((_, i) => marks[i])
        if (hits.length === 0) continue
        const blocked = hits.filter(([, c]) => c.rejected).length
        if (blocked / hits.length < t.sweep.minRejectedShare) continue
        swept.push(sweep.port)
        tried += hits.length
        rejected += blocked
        for (const [host, c] of hits) {
          allHosts.add(host)
          tally.addContact(c)
        }
      }
      if (swept.length === 0) continue
      findings.push({
        detection: 'sweep',
        severity: this.context.scope.isInternal(source) ? 'high' : 'medium',
        source,
        summary: `${source} swept ${firstOf(swept, 5).join(', ')}${swept.length > 5 ? ', ...' : ''} across ${plural(
          allHosts.size,
          'host',
        )} ${spanText(tally.first, tally.last)} (${rejected} of ${tried} rejected)`,
        evidence: tally.evidence(
          { ports: swept.length, hosts: allHosts.size, rejectedShare: round(rejected / tried) },
          { ports: firstOf(sortPorts(swept), 20), hosts: firstOf(allHosts, 20) },
        ),
        suggestions: [...denyAddress(source, 'from'), ...narrowRules(rules.map, 'records of it')],
      })
    }
    return findings
  }
}
