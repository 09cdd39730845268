import type { Flow } from '../flow.js'
import { denyAddress } from './block-suggestion.js'
import { type DetectContext, plural, spanText } from './context.js'
import { type Detector, type Finding, Tally } from './finding.js'
import { median, topKeys } from './median.js'
import { round } from './port-scan.js'

/**
 * Rejected-traffic burst (the CloudWatch metric-filter alarm on REJECT records, reference 8.2): the
 * rejected packets at one interface in one `bucketSeconds` bucket reach `minPackets` and
 * `spikeFactor` times the interface's median bucket over the whole input (quiet buckets count as
 * 0, so a steady background of internet noise sets its own baseline). Consecutive burst buckets
 * make one finding. It names the sources behind the burst; those with at least a tenth of it are
 * offered as blocks.
 *
 * State: rejected traffic only, per target (interface) and bucket: the packets, the packets of each
 * source and of each port (the finding names how many sources and the leading ones, so each is
 * counted) and `samples` records. The buckets are bounded by the time span (a day in 60 s buckets
 * is 1,440 per interface), the sources and ports by the distinct ones rejected in a bucket: it
 * grows with the variety of rejected traffic, not with the number of records.
 */
interface Bucket {
  packets: number
  sources: Map<string, number>
  ports: Map<string, number>
  tally: Tally
}

export class RejectBurstDetector implements Detector {
  readonly name = 'reject-burst'
  readonly #byTarget = new Map<string, Map<number, Bucket>>()
  #firstBucket = Number.POSITIVE_INFINITY
  #lastBucket = Number.NEGATIVE_INFINITY

  constructor(private readonly context: DetectContext) {}

  observe(flow: Flow): void {
    if (flow.start === null) return
    const width = this.context.thresholds.rejectBurst.bucketSeconds
    const bucket = Math.floor(flow.start / width)
    if (bucket < this.#firstBucket) this.#firstBucket = bucket
    if (bucket > this.#lastBucket) this.#lastBucket = bucket
    if (flow.action !== 'REJECT') return
    const target = flow.interfaceId ?? flow.dstaddr ?? ''
    let buckets = this.#byTarget.get(target)
    if (buckets === undefined) {
      buckets = new Map()
      this.#byTarget.set(target, buckets)
    }
    let b = buckets.get(bucket)
    if (b === undefined) {
      b = {
        packets: 0,
        sources: new Map(),
        ports: new Map(),
        tally: new Tally(this.context.thresholds.samples),
      }
      buckets.set(bucket, b)
    }
    b.packets += flow.packets
    const source = flow.srcaddr ?? ''
    b.sources.set(source, (b.sources.get(source) ?? 0) + flow.packets)
    const port =
      flow.protocol === 6 || flow.protocol === 17
        ? `${flow.protocol === 6 ? 'tcp' : 'udp'}/${flow.dstport}`
        : `proto ${flow.protocol}`
    b.ports.set(port, (b.ports.get(port) ?? 0) + flow.packets)
    b.tally.add(flow)
  }

  finish(): Finding[] {
    const t = this.context.thresholds.rejectBurst
    const span = Math.max(1, this.#lastBucket - this.#firstBucket + 1)
    const findings: Finding[] = []
    for (const [target, buckets] of this.#byTarget) {
      const counts = [...buckets.values()].map((b) => b.packets)
      // Buckets with no rejected packets are part of the baseline too.
      const baseline = median([...counts, ...new Array<number>(Math.max(0, span - counts.length)).fill(0)])
      const threshold = Math.max(t.minPackets, t.spikeFactor * baseline)
      const bursts = [...buckets.entries()]
        .filter(([, b]) => b.packets >= threshold)
        .sort((a, b) => a[0] - b[0])
      // Consecutive burst buckets are one burst.
      const runs: [number, Bucket][][] = []
      for (const entry of bursts) {
        const run = runs[runs.length - 1]
        const previous = run?.[run.length - 1]
        if (run !== undefined && previous !== undefined && entry[0] === previous[0] + 1) run.push(entry)
        else runs.push([entry])
      }
      for (const run of runs) findings.push(this.#finding(target, run, baseline))
    }
    return findings
  }

  #finding(target: string, run: [number, Bucket][], baseline: number): Finding {
    const tally = new Tally(this.context.thresholds.samples)
    const sources = new Map<string, number>()
    const ports = new Map<string, number>()
    let packets = 0
    for (const [, b] of run) {
      tally.merge(b.tally)
      packets += b.packets
      for (const [k, v] of b.sources) sources.set(k, (sources.get(k) ?? 0) + v)
      for (const [k, v] of b.ports) ports.set(k, (ports.get(k) ?? 0) + v)
    }
    const top = topKeys(sources, 5)
    const [lead, leadPackets] = top[0] ?? ['', 0]
    const blockable = top.filter(([, n]) => n >= packets / 10).map(([s]) => s)
    const width = this.context.thresholds.rejectBurst.bucketSeconds
    const who =
      sources.size === 1
        ? lead
        : `${plural(sources.size, 'source')}, most from ${lead} (${Math.round((100 * leadPackets) / packets)}%)`
    return {
      detection: 'reject-burst',
      severity:
        packets >= 10 * Math.max(this.context.thresholds.rejectBurst.minPackets, baseline)
          ? 'high'
          : 'medium',
      source: lead,
      summary: `${packets} rejected packets at ${target} ${spanText(tally.first, tally.last)} from ${who} (usual: ${round(
        baseline,
      )} per ${width} s)`,
      evidence: tally.evidence(
        {
          rejectedPackets: packets,
          baselinePerBucket: round(baseline),
          sources: sources.size,
          buckets: run.length,
        },
        {
          hosts: top.map(([s, n]) => `${s} (${n} packets)`),
          ports: topKeys(ports, 10).map(([p, n]) => `${p} (${n})`),
        },
      ),
      suggestions: blockable.flatMap((s) => denyAddress(s, 'from')),
    }
  }
}
