import { sqlString } from '../../read/duckdb-connection.js'
import { AcceptingRules, denyAddress, narrowRules } from './block-suggestion.js'
import { ruleInputsOf } from './contact-store.js'
import { type DetectContext, plural } from './context.js'
import { type Finding, Tally } from './finding.js'
import {
  bucketSums,
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

/**
 * The dotted-quad IPv4 addresses parseAddress reads as IPv4 (ipv4Value: four decimal octets of at
 * most 255, no leading zeros), as a pattern DuckDB matches whole.
 */
const IPV4_PATTERN =
  '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])([.](25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}'

/** Accepted traffic that is not inbound: what can leave the network. */
const LEAVING = `start IS NOT NULL AND action = 'ACCEPT' AND (direction IS NULL OR direction <> 'ingress')`

export class EgressVolumeDetector {
  readonly name = 'egress-volume'

  constructor(private readonly context: DetectContext) {}

  async findings(flows: FlowTable): Promise<Finding[]> {
    const t = this.context.thresholds.egressVolume
    const connection = flows.connection
    const scope = this.context.scope
    // Which addresses are inside, once per distinct address of the traffic that can leave: IPv4
    // by its value (AddressScope.ipv4Ranges), any other spelling in JavaScript. The distinct
    // sources and destinations come from one read of the records (a grouping set each; neither is
    // NULL in `flows`).
    const ipv4 = sqlString(IPV4_PATTERN)
    const octet = (n: number) => `CAST(split_part(addr, '.', ${n}) AS UBIGINT)`
    const value = `${octet(1)} * 16777216 + ${octet(2)} * 65536 + ${octet(3)} * 256 + ${octet(4)}`
    const ranges = scope.ipv4Ranges().map(([a, b]) => `v4 BETWEEN ${a} AND ${b}`)
    await connection.run(`CREATE OR REPLACE TEMP TABLE addresses AS
      WITH distinct_addresses AS MATERIALIZED (SELECT DISTINCT coalesce(source, destination) AS addr
        FROM (SELECT srcaddr AS source, dstaddr AS destination FROM flows WHERE ${LEAVING})
        GROUP BY GROUPING SETS ((source), (destination))),
      parsed AS MATERIALIZED (SELECT addr, regexp_full_match(addr, ${ipv4}) AS is_v4 FROM distinct_addresses),
      valued AS MATERIALIZED (SELECT addr, is_v4, CASE WHEN is_v4 THEN ${value} END AS v4 FROM parsed)
      SELECT addr, is_v4, coalesce(${ranges.length === 0 ? 'false' : ranges.join(' OR ')}, false) AS inside FROM valued`)
    await connection.run(
      'CREATE OR REPLACE TEMP TABLE inside_addresses AS SELECT addr FROM addresses WHERE inside',
    )
    const others = await connection.createAppender('inside_addresses')
    for await (const chunk of rowsOf(connection, 'SELECT addr FROM addresses WHERE NOT is_v4'))
      for (const row of chunk) {
        const address = textOf(row.addr)
        if (address === null || !scope.isInternal(address)) continue
        others.appendVarchar(address)
        others.endRow()
      }
    others.closeSync()
    await connection.run('DROP TABLE addresses')
    // Accepted traffic from an inside host to an outside address.
    await connection.run(`CREATE OR REPLACE TEMP VIEW egress AS SELECT * FROM flows WHERE ${LEAVING}
      AND srcaddr IN (SELECT addr FROM inside_addresses) AND dstaddr NOT IN (SELECT addr FROM inside_addresses)`)
    const bucketOf = `floor(start / ${t.bucketSeconds})`
    // Per host, its buckets' bytes; hosts in the order their first record was read.
    const hosts = await bucketSums(
      connection,
      `SELECT srcaddr AS name, ${bucketOf} AS bucket, sum(bytes) AS total, min(seq) AS seen FROM egress GROUP BY ALL`,
    )
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
    for await (const chunk of rowsOf(
      connection,
      `SELECT ${FLOW_COLUMNS} FROM egress
        WHERE (srcaddr, ${bucketOf}) IN (SELECT host, bucket FROM egress_buckets) ORDER BY seq`,
    ))
      for (const row of chunk) {
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
    for await (const chunk of rowsOf(
      connection,
      `SELECT ${RULE_INPUTS}, count(*) AS records, min(seq) AS seen FROM egress
        WHERE NOT ${IS_REPLY} AND srcaddr IN (SELECT host FROM egress_buckets)
        GROUP BY ALL ORDER BY seen`,
    ))
      for (const row of chunk) {
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
