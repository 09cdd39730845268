import assert from 'node:assert/strict'
import { test } from 'node:test'
import { detect } from '../detect.js'
import type { FlowRow } from '../flow-row.js'
import { row, rows } from '../test-rows.js'
import { assertFindings, type Expected, findings } from './test-detect.js'
import { DEFAULT_THRESHOLDS, type Thresholds } from './thresholds.js'

const scanner = '198.51.100.66'
const web = '10.0.1.10'
/** `n` ports probed one per `every` seconds, rejected except those in `open`. */
const probe = (n: number, every = 1, open: number[] = [], src = scanner) =>
  rows(n, (i) => ({
    src,
    dst: web,
    sport: 51234,
    dport: i + 1,
    at: i * every,
    flags: 2,
    action: open.includes(i + 1) ? 'ACCEPT' : 'REJECT',
  }))

const cases: { name: string; rows: FlowRow[]; change?: (t: Thresholds) => void; expect: Expected[] }[] = [
  {
    name: '40 ports in 40 s, all rejected',
    rows: probe(40),
    expect: [{ source: scanner, counts: { ports: 40, hosts: 1, open: 0 }, severity: 'medium' }],
  },
  {
    name: 'open ports found raise the severity',
    rows: probe(20, 1, [3, 7]),
    expect: [{ source: scanner, counts: { ports: 20, open: 2 }, severity: 'high' }],
  },
  {
    name: 'a scanner inside the network is high severity',
    rows: probe(12, 1, [], '10.0.1.99'),
    expect: [{ source: '10.0.1.99', severity: 'high' }],
  },
  { name: '9 ports is below the default 10', rows: probe(9), expect: [] },
  {
    // The fewest ports and rejected ports there can be (what picks the candidates must keep it).
    name: 'exactly 10 ports, exactly half rejected, is a scan',
    rows: probe(10, 1, [1, 2, 3, 4, 5]),
    expect: [{ source: scanner, counts: { ports: 10, open: 5, rejectedShare: 0.5 }, severity: 'high' }],
  },
  { name: '10 ports spread over 2 hours are not dense enough', rows: probe(10, 800), expect: [] },
  {
    name: 'mostly accepted is not a scan',
    rows: probe(
      20,
      1,
      Array.from({ length: 15 }, (_, i) => i + 1),
    ),
    expect: [],
  },
  {
    name: 'minRejectedShare 0 reports open-port probing too',
    rows: probe(
      20,
      1,
      Array.from({ length: 15 }, (_, i) => i + 1),
    ),
    change: (t) => {
      t.portScan.minRejectedShare = 0
    },
    expect: [{ source: scanner, counts: { open: 15 } }],
  },
  {
    name: "a busy server's answers to many client ports are not a scan",
    rows: rows(50, (i) => ({
      src: web,
      dst: `203.0.113.${i + 1}`,
      sport: 443,
      dport: 40000 + i,
      at: i,
      flags: 18,
      direction: 'egress',
    })),
    expect: [],
  },
  {
    name: 'ignoreSources silences a known scanner',
    rows: probe(40),
    change: (t) => {
      t.ignoreSources = ['198.51.100.0/24']
    },
    expect: [],
  },
]

for (const c of cases) {
  test(`port-scan: ${c.name}`, async () => {
    assertFindings(await findings('port-scan', c.rows, c.change), c.expect)
  })
}

test('port-scan: the evidence lists ports in order, samples, span, and blocks the source', async () => {
  const [f] = await findings('port-scan', [...probe(12, 2)].reverse())
  assert.ok(f)
  assert.deepEqual(f.evidence.ports?.slice(0, 3), ['tcp/1', 'tcp/2', 'tcp/3'])
  assert.equal(f.evidence.samples.length, 5)
  assert.equal(f.evidence.last - f.evidence.first, 22)
  assert.ok(f.suggestions.some((s) => s.kind === 'nacl' && s.text.includes('--cidr-block 198.51.100.66/32')))
  assert.ok(
    f.suggestions.some((s) => s.kind === 'nftables' && s.text.endsWith('ip saddr 198.51.100.66 drop')),
  )
})

test('port-scan: an accepted probe names the rule that let it in', async () => {
  const data = [
    ...probe(12),
    row({ src: scanner, dst: web, sport: 51234, dport: 80, flags: 2, rule: 'sgr-web-http' }),
  ]
  const [f] = await findings('port-scan', data)
  assert.ok(f?.suggestions.some((s) => s.kind === 'security-group' && s.text.includes('sgr-web-http')))
})

test('port-scan: the rule is that of the first accepted record read that names one', async () => {
  // Port 80's first accepted record names no rule; the two read after it name two different ones:
  // the first read of those is the rule, whatever their times.
  const data = [
    ...probe(12),
    row({ src: scanner, dst: web, sport: 51234, dport: 80, flags: 2, at: 1 }),
    row({ src: scanner, dst: web, sport: 51235, dport: 80, flags: 2, at: 30, rule: 'sgr-read-first' }),
    row({ src: scanner, dst: web, sport: 51236, dport: 80, flags: 2, at: 20, rule: 'sgr-read-later' }),
  ]
  const [f] = await findings('port-scan', data)
  const rules = f?.suggestions.filter((s) => s.kind === 'security-group').map((s) => s.text.split(' ')[1])
  assert.deepEqual(rules, ['sgr-read-first'])
})

test('port-scan: records that are not traffic are neither counted nor probes (NODATA, no address)', async () => {
  // Nine probes are one short of a scan: a tenth port in a NODATA line or in a record without a
  // destination must not complete it (the test that leaves such records out is skipped only when
  // every record passes it).
  const nodata: FlowRow = {
    ...row({ src: scanner, dst: web, sport: 51234, dport: 99 }),
    'log-status': 'NODATA',
  }
  const addressless: FlowRow = { ...row({ src: scanner, dst: web, sport: 51234, dport: 98 }), dstaddr: '-' }
  const thresholds = structuredClone(DEFAULT_THRESHOLDS)
  const result = await detect([...probe(9), nodata, addressless], { thresholds, network: null })
  assert.equal(result.records, 9)
  assert.deepEqual(result.findings, [])
  const scan = await detect([...probe(10), nodata, addressless], { thresholds, network: null })
  assert.equal(scan.records, 10)
  assert.deepEqual(
    scan.findings.map((f) => [f.detection, f.evidence.counts.ports]),
    [['port-scan', 10]],
  )
})
