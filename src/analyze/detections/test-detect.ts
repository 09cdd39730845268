import assert from 'node:assert/strict'
import type { NetworkConfig } from '../../core/network.js'
import { detect } from '../detect.js'
import type { FlowRow } from '../flow-row.js'
import type { DetectionName, Finding } from './finding.js'
import { DEFAULT_THRESHOLDS, type Thresholds } from './thresholds.js'

/** Test helper: one detection over rows, with the default thresholds changed as a case says. */
export async function findings(
  detection: DetectionName,
  rows: readonly FlowRow[],
  change: (t: Thresholds) => void = () => {},
  network: NetworkConfig | null = null,
): Promise<Finding[]> {
  const thresholds = structuredClone(DEFAULT_THRESHOLDS)
  change(thresholds)
  return (await detect(rows, { thresholds, network, only: [detection] })).findings
}

export interface Expected {
  source: string
  counts?: Record<string, number>
  severity?: Finding['severity']
}

/** The findings are exactly these (by source, with these counts). */
export function assertFindings(actual: readonly Finding[], expected: readonly Expected[]): void {
  assert.deepEqual(
    actual.map((f) => f.source),
    expected.map((e) => e.source),
    actual.map((f) => f.summary).join('\n'),
  )
  expected.forEach((e, i) => {
    const f = actual[i]
    if (f === undefined) return
    for (const [k, v] of Object.entries(e.counts ?? {}))
      assert.equal(f.evidence.counts[k], v, `${f.source}: ${k}`)
    if (e.severity !== undefined) assert.equal(f.severity, e.severity, f.summary)
    assert.ok(
      f.suggestions.some((s) => s.kind === 'nacl' || s.kind === 'security-group'),
      'suggests a block',
    )
  })
}
