import type { NetworkConfig } from '../core/network.js'
import type { FlowReader } from '../read/index.js'
import { AddressScope, CidrSet } from './address-scope.js'
import { BruteForceDetector } from './detections/brute-force.js'
import { ContactStore } from './detections/contact-store.js'
import type { DetectContext } from './detections/context.js'
import { EgressVolumeDetector } from './detections/egress-volume.js'
import { DETECTION_NAMES, type DetectionName, type Detector, type Finding } from './detections/finding.js'
import { portScanFindings } from './detections/port-scan.js'
import { RejectBurstDetector } from './detections/reject-burst.js'
import { RuleNamer } from './detections/rule-namer.js'
import { sweepFindings } from './detections/sweep.js'
import type { Thresholds } from './detections/thresholds.js'
import { ANALYSIS_FIELDS, isTraffic, toFlow } from './flow.js'
import type { FlowRow } from './flow-row.js'
import { parquetInReadOrder } from './parquet-own-scan.js'

/**
 * `flowlog detect`: every record goes once through every detection, which keeps only what it
 * counts (per source and target), so the input streams. Findings come out most severe first.
 */
export interface DetectOptions {
  thresholds: Thresholds
  network: NetworkConfig | null
  /** Detections to run (default: all). */
  only?: readonly DetectionName[]
  /** Told DuckDB's progress while it groups the contacts (rows processed of rows to process). */
  onGrouping?: (done: number, total: number) => void
}

export interface DetectResult {
  findings: Finding[]
  /** Traffic records looked at, and those skipped because their source is in ignoreSources. */
  records: number
  ignored: number
}

const SEVERITY_RANK = { high: 0, medium: 1, low: 2 } as const

export async function detect(
  rows: AsyncIterable<FlowRow> | Iterable<FlowRow> | FlowReader,
  options: DetectOptions,
): Promise<DetectResult> {
  const context: DetectContext = {
    thresholds: options.thresholds,
    scope: AddressScope.of(options.network),
    namer: new RuleNamer(options.network),
  }
  const only = new Set<DetectionName>(options.only ?? DETECTION_NAMES)
  // Port scans and sweeps count the same contacts two ways: one table serves both.
  const contacts = only.has('port-scan') || only.has('sweep') ? new ContactStore(context) : null
  try {
    return await run(rows, options, context, only, contacts)
  } finally {
    contacts?.close()
  }
}

/**
 * The records in read order, a block at a time: local Parquet files through an own scan of the
 * columns the detections read (parquet-own-scan.ts), anything else as the reader gives it.
 */
async function* batchesOf(
  rows: AsyncIterable<FlowRow> | Iterable<FlowRow> | FlowReader,
): AsyncGenerator<readonly FlowRow[]> {
  if ('parquetFiles' in rows) {
    const parquet = await rows.parquetFiles()
    const scan = parquet === null ? null : await parquetInReadOrder(parquet, ANALYSIS_FIELDS)
    if (scan !== null) {
      try {
        yield* scan.batches()
      } finally {
        scan.close()
      }
      return
    }
    yield* rows.batches()
    return
  }
  if (Array.isArray(rows)) {
    yield rows
    return
  }
  for await (const row of rows) yield [row]
}

async function run(
  rows: AsyncIterable<FlowRow> | Iterable<FlowRow> | FlowReader,
  options: DetectOptions,
  context: DetectContext,
  only: ReadonlySet<DetectionName>,
  store: ContactStore | null,
): Promise<DetectResult> {
  const detectors: Detector[] = []
  if (only.has('ssh-brute-force') || only.has('rdp-brute-force'))
    detectors.push(new BruteForceDetector(context))
  if (only.has('reject-burst')) detectors.push(new RejectBurstDetector(context))
  if (only.has('egress-volume')) detectors.push(new EgressVolumeDetector(context))

  const ignore = new CidrSet(options.thresholds.ignoreSources)
  let records = 0
  let ignored = 0
  for await (const batch of batchesOf(rows)) {
    for (const row of batch) {
      const flow = toFlow(row)
      if (!isTraffic(flow)) continue
      records++
      if (ignore.has(flow.srcaddr ?? '')) {
        ignored++
        continue
      }
      store?.observe(flow)
      for (const d of detectors) d.observe(flow)
    }
  }

  const t = options.thresholds
  const contacts =
    store === null ? null : await store.candidates(t.portScan.minPorts, t.sweep.minHosts, options.onGrouping)
  let findings = [
    ...(contacts !== null && only.has('port-scan') ? portScanFindings(contacts, context) : []),
    ...(contacts !== null && only.has('sweep') ? sweepFindings(contacts, context) : []),
    ...detectors.flatMap((d) => d.finish()),
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
  return { findings, records, ignored }
}
