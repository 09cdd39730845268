import type { Flow } from '../flow.js'
import { AcceptingRules, denyAddress, narrowRules } from './block-suggestion.js'
import { type DetectContext, plural, spanText } from './context.js'
import { Contact, type DetectionName, type Detector, type Finding, Tally } from './finding.js'
import { FLOW_COLUMNS, type FlowTable, flowOf, IS_REPLY, rowsOf } from './flow-table.js'
import { round } from './port-scan.js'
import { eventsInDenseWindows } from './sliding-window.js'
import { isReply } from './traffic-roles.js'

/**
 * SSH and RDP brute force (GuardDuty UnauthorizedAccess:EC2/SSHBruteForce, RDPBruteForce): one
 * source opening at least `minAttempts` connections to one host's SSH (or RDP) port within
 * `windowSeconds`. A connection is one client port; it counts as an attempt when it was rejected or
 * stayed short (at most `maxAttemptPackets` packets from the client: a failed login, not a session).
 * Accepted attempts make it high severity: the service answers, so a guess can succeed.
 *
 * State: one target per (source, host, SSH or RDP port) that was tried, holding one attempt per
 * client port (a port number: at most 65,536 a target) and the rules that accepted it. Only the
 * records of candidate targets reach it (bruteForceFindings), so it grows with the targets tried
 * from enough client ports, not with the input.
 */
interface Target {
  source: string
  host: string
  service: 'ssh' | 'rdp'
  port: number
  attempts: Map<number, Contact>
  rules: AcceptingRules
}

export class BruteForceDetector implements Detector {
  readonly name = 'brute-force'
  readonly #targets = new Map<string, Target>()
  readonly #ssh: Set<number>
  readonly #rdp: Set<number>

  constructor(private readonly context: DetectContext) {
    this.#ssh = new Set(context.thresholds.bruteForce.sshPorts)
    this.#rdp = new Set(context.thresholds.bruteForce.rdpPorts)
  }

  observe(flow: Flow): void {
    if (flow.protocol !== 6 || flow.start === null || flow.dstport === null || isReply(flow)) return
    const service = this.#ssh.has(flow.dstport) ? 'ssh' : this.#rdp.has(flow.dstport) ? 'rdp' : null
    if (service === null) return
    const source = flow.srcaddr ?? ''
    const host = flow.dstaddr ?? ''
    const key = `${source} ${host} ${flow.dstport}`
    let target = this.#targets.get(key)
    if (target === undefined) {
      target = { source, host, service, port: flow.dstport, attempts: new Map(), rules: new AcceptingRules() }
      this.#targets.set(key, target)
    }
    const port = flow.srcport ?? 0
    let attempt = target.attempts.get(port)
    if (attempt === undefined) {
      attempt = new Contact(flow)
      target.attempts.set(port, attempt)
    }
    // The same connection is seen on both interfaces when both are in the network: count it once.
    if (attempt.records === 0 || flow.interfaceId === attempt.interfaceId) attempt.add(flow)
    else if (flow.action === 'REJECT') attempt.rejected = true
    if (flow.action === 'ACCEPT') target.rules.add(this.context.namer.ruleOf(flow))
  }

  finish(): Finding[] {
    const t = this.context.thresholds.bruteForce
    const samples = this.context.thresholds.samples
    const findings: Finding[] = []
    for (const target of this.#targets.values()) {
      if (target.attempts.size < t.minAttempts) continue
      const attempts = [...target.attempts.entries()]
        .filter(([, a]) => a.rejected || a.packets <= t.maxAttemptPackets)
        .sort((a, b) => a[1].first - b[1].first)
      const marks = eventsInDenseWindows(
        attempts.map(([port, a]) => ({ time: a.first, key: String(port) })),
        t.windowSeconds,
        t.minAttempts,
      )
      const hits = attempts.filter((_, i) => marks[i]).map(([, a]) => a)
      if (hits.length === 0) continue
      const tally = new Tally(samples)
      for (const a of hits) tally.addContact(a)
      const rejected = hits.filter((a) => a.rejected).length
      const accepted = hits.length - rejected
      const detection: DetectionName = target.service === 'ssh' ? 'ssh-brute-force' : 'rdp-brute-force'
      const name = target.service === 'ssh' ? 'SSH' : 'RDP'
      findings.push({
        detection,
        severity: accepted > 0 ? 'high' : 'medium',
        source: target.source,
        summary: `${target.source} made ${plural(hits.length, `${name} attempt`)} on ${target.host}:${target.port} ${spanText(
          tally.first,
          tally.last,
        )} (${accepted} accepted, ${rejected} rejected)`,
        evidence: tally.evidence(
          { attempts: hits.length, accepted, rejected, rejectedShare: round(rejected / hits.length) },
          { hosts: [target.host], ports: [`tcp/${target.port}`] },
        ),
        suggestions: [
          ...denyAddress(target.source, 'from'),
          ...narrowRules(target.rules.map, 'of its records'),
        ],
      })
    }
    return findings
  }
}

/**
 * The findings over `flows`: DuckDB picks the targets tried from at least `minAttempts` client
 * ports (fewer can never be a finding), and only their records, in read order, go through the
 * detector.
 */
export async function bruteForceFindings(flows: FlowTable, context: DetectContext): Promise<Finding[]> {
  const t = context.thresholds.bruteForce
  const ports = [...new Set([...t.sshPorts, ...t.rdpPorts])]
  if (ports.length === 0) return []
  const detector = new BruteForceDetector(context)
  const sql = `WITH attempts AS (SELECT DISTINCT srcaddr, dstaddr, dstport, coalesce(srcport, 0) AS client FROM flows
      WHERE protocol = 6 AND start IS NOT NULL AND dstport IN (${ports.join(', ')}) AND NOT ${IS_REPLY}),
    targets AS (SELECT srcaddr AS target_source, dstaddr AS target_host, dstport AS target_port FROM attempts
      GROUP BY ALL HAVING count(*) >= ${t.minAttempts})
    SELECT ${FLOW_COLUMNS} FROM flows
    SEMI JOIN targets ON srcaddr = target_source AND dstaddr = target_host AND dstport = target_port
    ORDER BY seq`
  for await (const chunk of rowsOf(flows.connection, sql))
    for (const row of chunk) detector.observe(flowOf(row))
  return detector.finish()
}
