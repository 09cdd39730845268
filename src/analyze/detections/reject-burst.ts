import { denyAddress } from './block-suggestion.js'
import { type DetectContext, plural, spanText } from './context.js'
import { type Finding, Tally } from './finding.js'
import { bucketSums, FLOW_COLUMNS, type FlowTable, flowOf, rowsOf } from './flow-table.js'
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
 * DuckDB sums the rejected packets of `flows` per target (interface) and bucket; the baselines
 * and the burst buckets are worked out from those sums, and only the records of burst buckets come
 * back, in read order, for the sources, ports and samples each finding names. JavaScript holds the
 * sums (a day in 60 s buckets is 1,440 per interface) and the burst buckets, never the rest.
 */
interface Bucket {
  packets: number
  sources: Map<string, number>
  ports: Map<string, number>
  tally: Tally
}

export class RejectBurstDetector {
  readonly name = 'reject-burst'

  constructor(private readonly context: DetectContext) {}

  async findings(flows: FlowTable): Promise<Finding[]> {
    const t = this.context.thresholds.rejectBurst
    const connection = flows.connection
    const bucketOf = `floor(start / ${t.bucketSeconds})`
    // The buckets of the whole input (floor is monotonic: the buckets of the first and last start).
    const firstBucket =
      flows.starts === null ? Number.POSITIVE_INFINITY : Math.floor(flows.starts.first / t.bucketSeconds)
    const lastBucket =
      flows.starts === null ? Number.NEGATIVE_INFINITY : Math.floor(flows.starts.last / t.bucketSeconds)
    const rejected = `start IS NOT NULL AND action = 'REJECT'`
    const target = `coalesce(interface_id, dstaddr, '')`
    // Per target, its buckets' rejected packets; targets in the order their first record was read.
    const targets = await bucketSums(
      connection,
      `SELECT ${target} AS name, ${bucketOf} AS bucket, sum(packets) AS total, min(seq) AS seen
      FROM flows WHERE ${rejected} GROUP BY ALL`,
    )
    const span = Math.max(1, lastBucket - firstBucket + 1)
    const bursting: { target: string; runs: number[][]; baseline: number }[] = []
    for (const [name, { buckets }] of [...targets].sort((a, b) => a[1].seen - b[1].seen)) {
      const counts = [...buckets.values()]
      // Buckets with no rejected packets are part of the baseline too.
      const baseline = median([...counts, ...new Array<number>(Math.max(0, span - counts.length)).fill(0)])
      const threshold = Math.max(t.minPackets, t.spikeFactor * baseline)
      const bursts = [...buckets.entries()]
        .filter(([, packets]) => packets >= threshold)
        .map(([bucket]) => bucket)
        .sort((a, b) => a - b)
      if (bursts.length === 0) continue
      // Consecutive burst buckets are one burst.
      const runs: number[][] = []
      for (const bucket of bursts) {
        const run = runs[runs.length - 1]
        const previous = run?.[run.length - 1]
        if (run !== undefined && previous !== undefined && bucket === previous + 1) run.push(bucket)
        else runs.push([bucket])
      }
      bursting.push({ target: name, runs, baseline })
    }
    if (bursting.length === 0) return []
    // The records of the burst buckets, in read order.
    await connection.run('CREATE TEMP TABLE burst_buckets (target VARCHAR, bucket DOUBLE)')
    const appender = await connection.createAppender('burst_buckets')
    for (const { target: name, runs } of bursting) {
      for (const bucket of runs.flat()) {
        appender.appendVarchar(name)
        appender.appendDouble(bucket)
        appender.endRow()
      }
    }
    appender.closeSync()
    const buckets = new Map<string, Bucket>()
    for await (const chunk of rowsOf(
      connection,
      `SELECT ${FLOW_COLUMNS} FROM flows WHERE ${rejected}
        AND (${target}, ${bucketOf}) IN (SELECT target, bucket FROM burst_buckets) ORDER BY seq`,
    ))
      for (const row of chunk) {
        const flow = flowOf(row)
        const key = `${flow.interfaceId ?? flow.dstaddr ?? ''}\t${Math.floor((flow.start ?? 0) / t.bucketSeconds)}`
        let b = buckets.get(key)
        if (b === undefined) {
          b = {
            packets: 0,
            sources: new Map(),
            ports: new Map(),
            tally: new Tally(this.context.thresholds.samples),
          }
          buckets.set(key, b)
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
    await connection.run('DROP TABLE burst_buckets')
    const findings: Finding[] = []
    for (const { target: name, runs, baseline } of bursting) {
      for (const run of runs) {
        const entries = run.map((bucket): [number, Bucket] => {
          const b = buckets.get(`${name}\t${bucket}`)
          if (b === undefined) throw new Error(`reject-burst: no records for ${name} in bucket ${bucket}`)
          return [bucket, b]
        })
        findings.push(this.#finding(name, entries, baseline))
      }
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
