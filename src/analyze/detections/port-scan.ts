import { AcceptingRules, denyAddress, narrowRules } from './block-suggestion.js'
import type { ContactTable } from './contact-table.js'
import { type DetectContext, plural, spanText } from './context.js'
import { type Contact, type Finding, firstOf, listText, portLabel, Tally } from './finding.js'
import { eventsInDenseWindows } from './sliding-window.js'

/**
 * Port scan (GuardDuty Recon:EC2/Portscan and PortProbeUnprotectedPort; Panther
 * AWS.VPC.PortScanning): one source reaching at least `minPorts` distinct destination ports (over
 * any hosts) within `windowSeconds`, and mostly rejected (`minRejectedShare` of the host-port pairs
 * it tried). Only request-side records count (contact-table.ts), so a busy server's answers to many
 * client ports do not look like a scan. Any port it found open raises the severity, as does a
 * scanner inside the network (something of ours is doing it).
 */
export function portScanFindings(table: ContactTable, context: DetectContext): Finding[] {
  const t = context.thresholds
  const findings: Finding[] = []
  for (const [source, { contacts, ports: reached }] of table.sources) {
    if (reached.size < t.portScan.minPorts) continue
    // Each contact's port, worked out once (a contact is sorted and counted by it several times).
    const portOf = new Map<Contact, string>()
    for (const [label, onPort] of reached) for (const c of onPort) portOf.set(c, label)
    const port = (c: Contact) => portOf.get(c) ?? portLabel(c.protocol, c.dstport)
    const sorted = [...contacts].sort((a, b) => a.first - b.first)
    const marks = eventsInDenseWindows(
      sorted.map((c) => ({ time: c.first, key: port(c) })),
      t.portScan.windowSeconds,
      t.portScan.minPorts,
    )
    const hits = sorted.filter((_, i) => marks[i])
    if (hits.length === 0) continue
    const rejected = hits.filter((c) => c.rejected).length
    const share = rejected / hits.length
    if (share < t.portScan.minRejectedShare) continue
    const tally = new Tally(t.samples)
    const rules = new AcceptingRules()
    for (const c of hits) {
      tally.addContact(c)
      rules.add(c.rule)
    }
    const ports = sortPorts(new Set(hits.map(port)))
    const hosts = [...new Set(hits.map((c) => c.host ?? ''))]
    const open = sortPorts(new Set(hits.filter((c) => c.accepted && !c.rejected).map(port)))
    const inside = context.scope.isInternal(source)
    findings.push({
      detection: 'port-scan',
      severity: open.length > 0 || inside ? 'high' : 'medium',
      source,
      summary: `${source} probed ${plural(ports.length, 'port')} on ${plural(hosts.length, 'host')} ${spanText(
        tally.first,
        tally.last,
      )} (${rejected} of ${hits.length} rejected${open.length > 0 ? `; open: ${listText(open, 5)}` : ''})`,
      evidence: tally.evidence(
        {
          ports: ports.length,
          hosts: hosts.length,
          targets: hits.length,
          rejectedShare: round(share),
          open: open.length,
        },
        { ports: firstOf(ports, 20), hosts: firstOf(hosts, 20) },
      ),
      suggestions: [...denyAddress(source, 'from'), ...narrowRules(rules.map, 'of the ports it reached')],
    })
  }
  return findings
}

/** `tcp/22` before `tcp/443` before `udp/53`: ports in numeric order within a protocol. */
export function sortPorts(ports: Iterable<string>): string[] {
  // Each port's protocol and number, split once (a sort compares each many times).
  const keyed = [...ports].map((p) => {
    const slash = p.indexOf('/')
    return slash < 0
      ? { p, protocol: p, n: -1 }
      : { p, protocol: p.slice(0, slash), n: Number(p.slice(slash + 1)) }
  })
  keyed.sort((a, b) => (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : a.n - b.n))
  return keyed.map((k) => k.p)
}

export function round(n: number): number {
  return Math.round(n * 1000) / 1000
}
