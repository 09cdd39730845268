import { test } from 'node:test'
import type { FlowRow } from '../flow-row.js'
import { rows } from '../test-rows.js'
import { assertFindings, type Expected, findings } from './test-detect.js'
import type { Thresholds } from './thresholds.js'

const GiB = 1024 ** 3
const host = '10.0.2.40'
/** One record per hour of `bytes` from the host to `dst`. */
const hours = (list: number[], dst = '198.51.100.200') =>
  list.map(
    (bytes, h) =>
      rows(1, () => ({
        src: host,
        dst,
        dport: 443,
        bytes,
        packets: 1000,
        at: h * 3600 + 60,
        direction: 'egress',
      }))[0]!,
  )

const cases: { name: string; rows: FlowRow[]; change?: (t: Thresholds) => void; expect: Expected[] }[] = [
  {
    name: 'a spike over a steady backup',
    rows: hours([1e8, 1e8, 1e8, 1e8, 3 * GiB]),
    expect: [{ source: host, counts: { bytes: 3 * GiB, baselineBytes: 1e8 } }],
  },
  {
    name: 'a big but usual transfer is not unusual',
    rows: hours([2 * GiB, 2 * GiB, 2 * GiB, 2 * GiB, 3 * GiB]),
    expect: [],
  },
  { name: 'without history the floor alone decides', rows: hours([1.5 * GiB]), expect: [{ source: host }] },
  { name: 'below the floor', rows: hours([0.5 * GiB]), expect: [] },
  {
    name: 'traffic to inside addresses is not egress',
    rows: rows(3, (i) => ({ src: host, dst: '10.0.3.5', bytes: 5 * GiB, at: i * 3600 })),
    expect: [],
  },
  {
    name: 'the floor is configurable',
    rows: hours([200e6]),
    change: (t) => {
      t.egressVolume.minBytes = 100e6
    },
    expect: [{ source: host }],
  },
]

for (const c of cases) {
  test(`egress-volume: ${c.name}`, async () =>
    assertFindings(await findings('egress-volume', c.rows, c.change), c.expect))
}
