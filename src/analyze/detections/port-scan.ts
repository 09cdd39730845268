import type { Flow } from '../flow.js'
import { AcceptingRules, denyAddress, narrowRules } from './block-suggestion.js'
import { type DetectContext, plural, spanText } from './context.js'
import { Contact, type Detector, type Finding, firstOf, portLabel, Tally } from './finding.js'
import { eventsInDenseWindows } from './sliding-window.js'
import { hasPorts, isReply } from './traffic-roles.js'

/**
 * Port scan (GuardDuty Recon:EC2/Portscan and PortProbeUnprotectedPort; Panther
 * AWS.VPC.PortScanning): one source reaching at least `minPorts` distinct destination ports (over
 * any hosts) within `windowSeconds`, and mostly rejected (`minRejectedShare` of the host-port pairs
 * it tried). Only request-side records count, so a busy server's answers to many client ports do
 * not look like a scan. Any port it found open raises the severity, as does a scanner inside the
 * network (something of ours is doing it).
 */
interface Target {
  host: string
  port: string
  contact: Contact
}

export class PortScanDetector implements Detector {
  readonly name = 'port-scan'
  readonly #bySource = new Map<string, { targets: Map<string, Target>; rules: AcceptingRules }>()

  constructor(private readonly context: DetectContext) {}

  observe(flow: Flow): void {
    if (!hasPorts(flow.protocol) || flow.start === null || isReply(flow)) return
    const source = flow.srcaddr ?? ''
    const host = flow.dstaddr ?? ''
    const port = portLabel(flow.protocol, flow.dstport)
    let entry = this.#bySource.get(source)
    if (entry === undefined) {
      entry = { targets: new Map(), rules: new AcceptingRules() }
      this.#bySource.set(source, entry)
    }
    const key = `${host} ${port}`
    let target = entry.targets.get(key)
    if (target === undefined) {
      target = { host, port, contact: new Contact(flow) }
      entry.targets.set(key, target)
    }
    target.contact.add(flow)
    if (flow.action === 'ACCEPT') entry.rules.add(this.context.namer.ruleOf(flow))
  }

  finish(): Finding[] {
    const t = this.context.thresholds
    const findings: Finding[] = []
    for (const [source, { targets, rules }] of this.#bySource) {
      if (targets.size < t.portScan.minPorts) continue
      const sorted = [...targets.values()].sort((a, b) => a.contact.first - b.contact.first)
      const marks = eventsInDenseWindows(
        sorted.map((x) => ({ time: x.contact.first, key: x.port })),
        t.portScan.windowSeconds,
        t.portScan.minPorts,
      )
      const hits = sorted.filter((_, i) => marks[i])
      if (hits.length === 0) continue
      const rejected = hits.filter((x) => x.contact.rejected).length
      const share = rejected / hits.length
      if (share < t.portScan.minRejectedShare) continue
      const tally = new Tally(t.samples)
      for (const x of hits) tally.addContact(x.contact)
      const ports = sortPorts(new Set(hits.map((x) => x.port)))
      const hosts = [...new Set(hits.map((x) => x.host))]
      const open = [
        ...new Set(hits.filter((x) => x.contact.accepted && !x.contact.rejected).map((x) => x.port)),
      ]
      const inside = this.context.scope.isInternal(source)
      findings.push({
        detection: 'port-scan',
        severity: open.length > 0 || inside ? 'high' : 'medium',
        source,
        summary: `${source} probed ${plural(ports.length, 'port')} on ${plural(hosts.length, 'host')} ${spanText(
          tally.first,
          tally.last,
        )} (${rejected} of ${hits.length} rejected${open.length > 0 ? `; open: ${firstOf(open, 5).join(', ')}` : ''})`,
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
        suggestions: [...denyAddress(source, 'from'), ...narrowRules(rules.map, 'records of it')],
      })
    }
    return findings
  }
}

/** `tcp/22` before `tcp/443` before `udp/53`: ports in numeric order within a protocol. */
export function sortPorts(ports: Iterable<string>): string[] {
  const key = (p: string): [string, number] => {
    const slash = p.indexOf('/')
    return slash < 0 ? [p, -1] : [p.slice(0, slash), Number(p.slice(slash + 1))]
  }
  return [...ports].sort((a, b) => {
    const [pa, na] = key(a)
    const [pb, nb] = key(b)
    return pa < pb ? -1 : pa > pb ? 1 : na - nb
  })
}

export function round(n: number): number {
  return Math.round(n * 1000) / 1000
}
