import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FlowRow } from '../flow-row.js'
import { row, rows } from '../test-rows.js'
import { assertFindings, type Expected, findings } from './test-detect.js'

/** A trickle of `perMinute` rejected packets for `minutes` minutes, from a new source each time. */
const trickle = (minutes: number, perMinute: number) =>
  rows(minutes, (m) => ({
    src: `77.0.${m}.1`,
    dst: '10.0.1.10',
    dport: 445,
    at: m * 60 + 5,
    packets: perMinute,
    action: 'REJECT',
  }))
const flood = (at: number, from: string, packets: number) =>
  row({ src: from, dst: '10.0.1.10', dport: 8443, at, packets, action: 'REJECT' })

const cases: { name: string; rows: FlowRow[]; expect: Expected[] }[] = [
  {
    name: 'a spike over a quiet hour',
    rows: [...trickle(60, 3), flood(30 * 60 + 10, '198.51.100.90', 500)],
    expect: [{ source: '198.51.100.90', counts: { rejectedPackets: 503, buckets: 1 } }],
  },
  {
    name: 'below minPackets',
    rows: [...trickle(60, 3), flood(30 * 60 + 10, '198.51.100.90', 90)],
    expect: [],
  },
  { name: 'a steady background sets its own baseline', rows: trickle(60, 150), expect: [] },
  {
    name: 'two minutes in a row are one burst',
    rows: [...trickle(30, 1), flood(10 * 60, '198.51.100.90', 400), flood(11 * 60, '198.51.100.90', 400)],
    expect: [{ source: '198.51.100.90', counts: { buckets: 2 } }],
  },
  {
    name: 'accepted traffic is no burst',
    rows: rows(10, (i) => ({ src: '1.2.3.4', dst: '10.0.1.10', packets: 1000, at: i })),
    expect: [],
  },
]

for (const c of cases) {
  test(`reject-burst: ${c.name}`, async () =>
    assertFindings(await findings('reject-burst', c.rows), c.expect))
}

test('reject-burst: blocks the sources with a tenth of the burst or more, not the stragglers', async () => {
  const data = [
    ...trickle(30, 1),
    flood(600, '198.51.100.90', 800),
    flood(601, '198.51.100.91', 200),
    flood(602, '198.51.100.92', 5),
  ]
  const [f] = await findings('reject-burst', data)
  const blocked = f?.suggestions.filter((s) => s.kind === 'nftables').map((s) => s.text.split(' ')[8])
  assert.deepEqual(blocked, ['198.51.100.90', '198.51.100.91'])
})
