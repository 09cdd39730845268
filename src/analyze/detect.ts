import type { NetworkConfig } from '../core/network.js'
import { AddressScope, CidrSet } from './address-scope.js'
import { bruteForceFindings } from './detections/brute-force.js'
import { groupCandidateContacts } from './detections/contact-store.js'
import type { DetectContext } from './detections/context.js'
import { EgressVolumeDetector } from './detections/egress-volume.js'
import { DETECTION_NAMES, type DetectionName, type Finding } from './detections/finding.js'
import { type FlowTable, openFlowTable } from './detections/flow-table.js'
import { portScanFindings } from './detections/port-scan.js'
import { RejectBurstDetector } from './detections/reject-burst.js'
import { RuleNamer } from './detections/rule-namer.js'
import { sweepFindings } from './detections/sweep.js'
import type { Thresholds } from './detections/thresholds.js'
import type { FlowRows } from './flow-row.js'
import { withQueryProgress } from './scratch-duckdb.js'

/**
 * `flowlog detect`: the records go once into DuckDB (flow-table.ts), where each detection groups
 * and counts them and takes back into JavaScript only its candidates and their records, so what
 * JavaScript holds does not grow with the input. Findings come out most severe first.
 */
export interface DetectOptions {
  thresholds: Thresholds
  network: NetworkConfig | null
  /** Detections to run (default: all). */
  only?: readonly DetectionName[]
  /** Told DuckDB's progress while the detections group the records (rows processed of rows to process). */
  onGrouping?: (done: number, total: number) => void
}

export interface DetectResult {
  findings: Finding[]
  /** Traffic records looked at, and those skipped because their source is in ignoreSources. */
  records: number
  ignored: number
}

const SEVERITY_RANK = { high: 0, medium: 1, low: 2 } as const

export async function detect(rows: FlowRows, options: DetectOptions): Promise<DetectResult> {
  const context: DetectContext = {
    thresholds: options.thresholds,
    scope: AddressScope.of(options.network),
    namer: new RuleNamer(options.network),
  }
  const only = new Set<DetectionName>(options.only ?? DETECTION_NAMES)
  const flows = await openFlowTable(rows, new CidrSet(options.thresholds.ignoreSources))
  try {
    const findings = await withQueryProgress(flows.connection, options.onGrouping, () =>
      run(flows, context, only),
    )
    return { findings, records: flows.records, ignored: flows.ignored }
  } finally {
    flows.close()
  }
}

async function run(
  flows: FlowTable,
  context: DetectContext,
  only: ReadonlySet<DetectionName>,
): Promise<Finding[]> {
  // Port scans and sweeps count the same contacts two ways: one table serves both. JavaScript
  // builds it from DuckDB's grouping, and meanwhile the other detections' queries run on a
  // connection of their own, so DuckDB's threads are not idle while JavaScript works.
  const grouped =
    only.has('port-scan') || only.has('sweep') ? await groupCandidateContacts(flows, context) : null
  const scans = settled(
    grouped === null
      ? Promise.resolve([])
      : grouped
          .read()
          .then((table) => [
            ...(only.has('port-scan') ? portScanFindings(table, context) : []),
            ...(only.has('sweep') ? sweepFindings(table, context) : []),
          ]),
  )
  const others = settled(flows.beside().then((beside) => otherFindings(beside, context, only)))
  const [first, second] = await Promise.all([scans, others])
  let findings = [...unsettled(first), ...unsettled(second)].filter((f) => only.has(f.detection))
  // A port scanner's sweeps are part of its scan: one finding per source.
  const scanners = new Set(findings.filter((f) => f.detection === 'port-scan').map((f) => f.source))
  findings = findings.filter((f) => f.detection !== 'sweep' || !scanners.has(f.source))
  findings.sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      a.evidence.first - b.evidence.first ||
      (a.source < b.source ? -1 : a.source > b.source ? 1 : 0),
  )
  return findings
}

/** The detections besides port scans and sweeps, in the order their findings are listed. */
async function otherFindings(
  flows: FlowTable,
  context: DetectContext,
  only: ReadonlySet<DetectionName>,
): Promise<Finding[]> {
  return [
    ...(only.has('ssh-brute-force') || only.has('rdp-brute-force')
      ? await bruteForceFindings(flows, context)
      : []),
    ...(only.has('reject-burst') ? await new RejectBurstDetector(context).findings(flows) : []),
    ...(only.has('egress-volume') ? await new EgressVolumeDetector(context).findings(flows) : []),
  ]
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown }

/**
 * A promise that never rejects: both halves of the work are awaited before DuckDB closes (a query
 * still running on one connection must not meet a closed database), then the first failure thrown.
 */
function settled<T>(work: Promise<T>): Promise<Settled<T>> {
  return work.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  )
}

function unsettled<T>(result: Settled<T>): T {
  if (!result.ok) throw result.error
  return result.value
}
