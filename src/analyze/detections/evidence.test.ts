import assert from 'node:assert/strict'
import { test } from 'node:test'
import { detect } from '../detect.js'
import { renderFindings } from '../findings-text.js'
import { toFlow } from '../flow.js'
import type { FlowRow } from '../flow-row.js'
import { rows } from '../test-rows.js'
import { listText, type SampleRecord, sampleOf } from './finding.js'
import { DEFAULT_THRESHOLDS } from './thresholds.js'

/**
 * Evidence is records a user can find in the log: every sample of every finding is one input record,
 * field for field, whatever order the files hand them over in (the quick-start's scanner once showed
 * the earliest time with a later record's client port).
 */
const scanner = '198.51.100.66'
const web = '10.0.1.10'
/** A scanner that changes its client port every 10 probes, the later probes read first. */
const scan = rows(40, (i) => ({
  src: scanner,
  dst: web,
  sport: 33000 + Math.floor(i / 10) * 33,
  dport: (i % 20) + 1,
  at: i * 2,
  flags: 2,
  action: 'REJECT',
}))
/** Guesses at SSH, each from its own client port. */
const guesses = rows(30, (i) => ({
  src: '203.0.113.9',
  dst: web,
  sport: 50000 + i,
  dport: 22,
  at: 300 + i * 4,
  packets: 3,
  flags: 2,
  action: 'REJECT',
}))

const key = (s: SampleRecord) => JSON.stringify(s)

for (const [order, input] of [
  ['time order', [...scan, ...guesses]],
  ['reversed', [...scan, ...guesses].reverse()],
  [
    'later files first',
    [...scan.slice(20), ...guesses.slice(15), ...scan.slice(0, 20), ...guesses.slice(0, 15)],
  ],
] as [string, FlowRow[]][]) {
  test(`detect: every sample is a record of the input (${order})`, async () => {
    const real = new Set(input.map((r) => key(sampleOf(toFlow(r)))))
    const thresholds = structuredClone(DEFAULT_THRESHOLDS)
    const { findings } = await detect(input, { thresholds, network: null })
    assert.ok(findings.length >= 2, findings.map((f) => f.summary).join('\n'))
    for (const f of findings) {
      assert.ok(f.evidence.samples.length > 0, `${f.detection} shows samples`)
      for (const s of f.evidence.samples)
        assert.ok(real.has(key(s)), `${f.detection}: ${key(s)} is not in the input`)
      assert.equal(
        f.evidence.samples[0]?.start,
        f.evidence.first,
        `${f.detection}: the first sample starts the span`,
      )
    }
  })
}

test('a list cut for display says how many it left out', async () => {
  const wide = rows(45, (i) => ({
    src: scanner,
    dst: web,
    sport: 40000,
    dport: i + 1,
    at: i,
    flags: 2,
    action: 'REJECT',
  }))
  const { findings, records } = await detect(wide, {
    thresholds: structuredClone(DEFAULT_THRESHOLDS),
    network: null,
  })
  const [f] = findings
  assert.equal(f?.evidence.ports?.length, 20)
  assert.match(renderFindings(findings, records), /ports {5}tcp\/1, tcp\/2, .*tcp\/20 \(\+25 more\)\n/)
  assert.equal(listText(['a', 'b', 'c'], 2), 'a, b (+1 more)')
  assert.equal(listText(['a', 'b'], 5), 'a, b')
})
