import type { Flow } from '../flow.js'
import { AcceptingRules, denyAddress, narrowRules } from './block-suggestion.js'
import { type DetectContext, plural } from './context.js'
import { type Detector, type Finding, Tally } from './finding.js'
import { median, topKeys } from './median.js'
import { isReply } from './traffic-roles.js'

/**
 * Unusual egress volume (GuardDuty Behavior:EC2/TrafficVolumeUnusual; Panther's exfiltration
 * z-score): bytes one inside host sent to addresses outside the network in one `bucketSeconds`
 * bucket reach `minBytes`, and, when the host has at least `minBaselineBuckets` other active buckets
 * in the input, `spikeFactor` times its median bucket. With less history only the absolute floor
 * applies: 1 GiB out in an hour is worth a look however little is known about the host.
 *
 * State: accepted outbound traffic of inside hosts to outside addresses only, per host and bucket:
 * the bytes, the bytes of each outside destination (the finding counts and names them) and
 * `samples` records; per host, the rules that let it out. Buckets are bounded by the time span (a
 * day is 24 per host), destinations by the distinct ones a host reached in an hour: it grows with
 * the hosts and their distinct peers, not with the number of records.
 */
interface Bucket {
  bytes: number
  destinations: Map<string, number>
  tally: Tally
}

export class EgressVolumeDetector implements Detector {
  readonly name = 'egress-volume'
  readonly #byHost = new Map<string, { buckets: Map<number, Bucket>; rules: AcceptingRules }>()

  constructor(private readonly context: DetectContext) {}

  observe(flow: Flow): void {
    if (flow.start === null || flow.action !== 'ACCEPT' || flow.direction === 'ingress') return
    const src = flow.srcaddr ?? ''
    const dst = flow.dstaddr ?? ''
    const scope = this.context.scope
    if (!scope.isInternal(src) || scope.isInternal(dst)) return
    let host = this.#byHost.get(src)
    if (host === undefined) {
      host = { buckets: new Map(), rules: new AcceptingRules() }
      this.#byHost.set(src, host)
    }
    const bucket = Math.floor(flow.start / this.context.thresholds.egressVolume.bucketSeconds)
    let b = host.buckets.get(bucket)
    if (b === undefined) {
      b = { bytes: 0, destinations: new Map(), tally: new Tally(this.context.thresholds.samples) }
      host.buckets.set(bucket, b)
    }
    b.bytes += flow.bytes
    b.destinations.set(dst, (b.destinations.get(dst) ?? 0) + flow.bytes)
    b.tally.add(flow)
    if (!isReply(flow)) host.rules.add(this.context.namer.ruleOf(flow))
  }

  finish(): Finding[] {
    const t = this.context.thresholds.egressVolume
    const findings: Finding[] = []
    for (const [source, { buckets, rules }] of this.#byHost) {
      const entries = [...buckets.entries()].sort((a, b) => a[0] - b[0])
      for (const [bucket, b] of entries) {
        if (b.bytes < t.minBytes) continue
        const others = entries.filter(([k]) => k !== bucket).map(([, o]) => o.bytes)
        const baseline = others.length >= t.minBaselineBuckets ? median(others) : null
        if (baseline !== null && b.bytes < t.spikeFactor * baseline) continue
        const top = topKeys(b.destinations, 5)
        const [lead, leadBytes] = top[0] ?? ['', 0]
        const counts: Record<string, number> = {
          bytes: b.bytes,
          destinations: b.destinations.size,
          bucketSeconds: t.bucketSeconds,
        }
        if (baseline !== null) counts.baselineBytes = baseline
        findings.push({
          detection: 'egress-volume',
          severity:
            b.bytes >= 10 * t.minBytes || (baseline !== null && b.bytes >= 100 * baseline)
              ? 'high'
              : 'medium',
          source,
          summary: `${source} sent ${formatBytes(b.bytes)} out to ${plural(b.destinations.size, 'outside address')} in ${
            t.bucketSeconds
          } s from ${new Date(bucket * t.bucketSeconds * 1000).toISOString().replace('.000Z', 'Z')}, most to ${lead} (${formatBytes(
            leadBytes,
          )})${baseline === null ? '' : `; usual: ${formatBytes(baseline)}`}`,
          evidence: b.tally.evidence(counts, { hosts: top.map(([d, n]) => `${d} (${formatBytes(n)})`) }),
          suggestions: [...narrowRules(rules.map, 'connections from it'), ...denyAddress(lead, 'to')],
        })
      }
    }
    return findings
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`
}
