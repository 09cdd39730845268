import { AcceptingRules, denyAddress, narrowRules } from './block-suggestion.js'
import { ruleInputsOf } from './contact-store.js'
import { type DetectContext, plural } from './context.js'
import { type Finding, Tally } from './finding.js'
import {
  FLOW_COLUMNS,
  type FlowTable,
  flowOf,
  IS_REPLY,
  numberOf,
  RULE_INPUTS,
  rowsOf,
  textOf,
} from './flow-table.js'
import { median, topKeys } from './median.js'

/**
 * Unusual egress volume (GuardDuty Behavior:EC2/TrafficVolumeUnusual; Panther's exfiltration
 * z-score): bytes one inside host sent to addresses outside the network in one `bucketSeconds`
 * bucket reach `minBytes`, and, when the host has at least `minBaselineBuckets` other active buckets
 * in the input, `spikeFactor` times its median bucket. With less history only the absolute floor
 * applies: 1 GiB out in an hour is worth a look however little is known about the host.
 *
 * DuckDB sums the bytes of `flows` per host and bucket (after JavaScript has said which of the
 * distinct addresses are inside, once each); the findings are worked out from those sums, and only
 * the records of finding buckets come back, in read order, for the destinations and samples, with
 * the rules of the finding hosts counted per group of records alike in what names the rule.
 */
interface Bucket {
  bytes: number
  destinations: Map<string, number>
  tally: Tally
}

/** Accepted traffic that is not inbound: what can leave the network. */
const LEAVING = `start IS NOT NULL AND action = 'ACCEPT' AND (direction IS NULL OR direction <> 'ingress')`

export class EgressVolumeDetector {
  readonly name = 'egress-volume'

  constructor(private readonly context: DetectContext) {}

  async findings(flows: FlowTable): Promise<Finding[]> {
    const t = this.context.thresholds.egressVolume
    const connection = flows.connection
    const scope = this.context.scope
    await this.#addresses(
      connection,
      'inside_sources',
      `SELECT DISTINCT srcaddr AS addr FROM flows WHERE ${LEAVING}`,
      (a) => scope.isInternal(a),
    )
    await this.#addresses(
      connection,
      'inside_destinations',
      `SELECT DISTINCT dstaddr AS addr FROM flows WHERE ${LEAVING} AND srcaddr IN (SELECT addr FROM inside_sources)`,
      (a) => scope.isInternal(a),
    )
    const egress = `${LEAVING} AND srcaddr IN (SELECT addr FROM inside_sources) AND dstaddr NOT IN (SELECT addr FROM inside_destinations)`
    const bucketOf = `floor(start / ${t.bucketSeconds})`
    // Per host, its buckets' bytes; hosts in the order their first record was read.
    const hosts = new Map<string, { seen: number; buckets: Map<number, number> }>()
    for await (const row of rowsOf(
      connection,
      `SELECT srcaddr AS host, ${bucketOf} AS bucket, sum(bytes) AS bytes, min(seq) AS seen FROM flows WHERE ${egress} GROUP BY ALL`,
    )) {
      const name = textOf(row.host) ?? ''
      const seen = numberOf(row.seen) ?? 0
      let entry = hosts.get(name)
      if (entry === undefined) {
        entry = { seen, buckets: new Map() }
        hosts.set(name, entry)
      }
      entry.seen = Math.min(entry.seen, seen)
      entry.buckets.set(numberOf(row.bucket) ?? 0, numberOf(row.bytes) ?? 0)
    }
    const found: { source: string; bucket: number; bytes: number; baseline: number | null }[] = []
    for (const [source, { buckets }] of [...hosts].sort((a, b) => a[1].seen - b[1].seen)) {
      const entries = [...buckets.entries()].sort((a, b) => a[0] - b[0])
      for (const [bucket, bytes] of entries) {
        if (bytes < t.minBytes) continue
        const others = entries.filter(([k]) => k !== bucket).map(([, o]) => o)
        const baseline = others.length >= t.minBaselineBuckets ? median(others) : null
        if (baseline !== null && bytes < t.spikeFactor * baseline) continue
        found.push({ source, bucket, bytes, baseline })
      }
    }
    if (found.length === 0) return []
    await connection.run('CREATE TEMP TABLE egress_buckets (host VARCHAR, bucket DOUBLE)')
    const appender = await connection.createAppender('egress_buckets')
    for (const { source, bucket } of found) {
      appender.appendVarchar(source)
      appender.appendDouble(bucket)
      appender.endRow()
    }
    appender.closeSync()
    // The records of the finding buckets, in read order: destinations and samples.
    const buckets = new Map<string, Bucket>()
    for await (const row of rowsOf(
      connection,
      `SELECT ${FLOW_COLUMNS} FROM flows WHERE ${egress}
        AND (srcaddr, ${bucketOf}) IN (SELECT host, bucket FROM egress_buckets) ORDER BY seq`,
    )) {
      const flow = flowOf(row)
      const key = `${flow.srcaddr ?? ''}\t${Math.floor((flow.start ?? 0) / t.bucketSeconds)}`
      let b = buckets.get(key)
      if (b === undefined) {
        b = { bytes: 0, destinations: new Map(), tally: new Tally(this.context.thresholds.samples) }
        buckets.set(key, b)
      }
      const dst = flow.dstaddr ?? ''
      b.bytes += flow.bytes
      b.destinations.set(dst, (b.destinations.get(dst) ?? 0) + flow.bytes)
      b.tally.add(flow)
    }
    // The rules that let each finding host's requests out, in the order first used.
    const rules = new Map<string, AcceptingRules>()
    for await (const row of rowsOf(
      connection,
      `SELECT ${RULE_INPUTS}, count(*) AS records, min(seq) AS seen FROM flows
        WHERE ${egress} AND NOT ${IS_REPLY} AND srcaddr IN (SELECT host FROM egress_buckets)
        GROUP BY ALL ORDER BY seen`,
    )) {
      const flow = ruleInputsOf(row)
      const source = flow.srcaddr ?? ''
      let accepting = rules.get(source)
      if (accepting === undefined) {
        accepting = new AcceptingRules()
        rules.set(source, accepting)
      }
      accepting.add(this.context.namer.ruleOf(flow), numberOf(row.records) ?? 0)
    }
    await connection.run('DROP TABLE egress_buckets')
    return found.map(({ source, bucket, baseline }) => {
      const b = buckets.get(`${source}\t${bucket}`)
      if (b === undefined) throw new Error(`egress-volume: no records for ${source} in bucket ${bucket}`)
      return this.#finding(source, bucket, b, baseline, rules.get(source) ?? new AcceptingRules())
    })
  }

  /** A table `name` of the addresses `sql` lists that pass `test` (tested in JavaScript, once each). */
  async #addresses(
    connection: FlowTable['connection'],
    name: string,
    sql: string,
    test: (address: string) => boolean,
  ): Promise<void> {
    await connection.run(`CREATE OR REPLACE TEMP TABLE ${name} (addr VARCHAR)`)
    const appender = await connection.createAppender(name)
    for await (const row of rowsOf(connection, sql)) {
      const address = textOf(row.addr)
      if (address === null || !test(address)) continue
      appender.appendVarchar(address)
      appender.endRow()
    }
    appender.closeSync()
  }

  #finding(
    source: string,
    bucket: number,
    b: Bucket,
    baseline: number | null,
    rules: AcceptingRules,
  ): Finding {
    const t = this.context.thresholds.egressVolume
    const top = topKeys(b.destinations, 5)
    const [lead, leadBytes] = top[0] ?? ['', 0]
    const counts: Record<string, number> = {
      bytes: b.bytes,
      destinations: b.destinations.size,
      bucketSeconds: t.bucketSeconds,
    }
    if (baseline !== null) counts.baselineBytes = baseline
    return {
      detection: 'egress-volume',
      severity:
        b.bytes >= 10 * t.minBytes || (baseline !== null && b.bytes >= 100 * baseline) ? 'high' : 'medium',
      source,
      summary: `${source} sent ${formatBytes(b.bytes)} out to ${plural(b.destinations.size, 'outside address')} in ${
        t.bucketSeconds
      } s from ${new Date(bucket * t.bucketSeconds * 1000).toISOString().replace('.000Z', 'Z')}, most to ${lead} (${formatBytes(
        leadBytes,
      )})${baseline === null ? '' : `; usual: ${formatBytes(baseline)}`}`,
      evidence: b.tally.evidence(counts, { hosts: top.map(([d, n]) => `${d} (${formatBytes(n)})`) }),
      suggestions: [...narrowRules(rules.map, 'connections from it'), ...denyAddress(lead, 'to')],
    }
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
