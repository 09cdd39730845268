import type { NetworkConfig } from '../core/network.js'
import { AddressScope, CidrSet } from './address-scope.js'
import { bruteForceFindings } from './detections/brute-force.js'
import { candidateContacts } from './detections/contact-store.js'
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
  // Port scans and sweeps count the same contacts two ways: one table serves both.
  const contacts = only.has('port-scan') || only.has('sweep') ? await candidateContacts(flows, context) : null
  let findings = [
    ...(contacts !== null && only.has('port-scan') ? portScanFindings(contacts, context) : []),
    ...(contacts !== null && only.has('sweep') ? sweepFindings(contacts, context) : []),
    ...(only.has('ssh-brute-force') || only.has('rdp-brute-force')
      ? await bruteForceFindings(flows, context)
      : []),
    ...(only.has('reject-burst') ? await new RejectBurstDetector(context).findings(flows) : []),
    ...(only.has('egress-volume') ? await new EgressVolumeDetector(context).findings(flows) : []),
  ].filter((f) => only.has(f.detection))
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
