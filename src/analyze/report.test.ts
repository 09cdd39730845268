import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { InputError } from '../core/errors.js'
import { makeNetwork } from '../policy/test-kit.js'
import { type FlowsDatabase, openFlowsDatabase } from '../sql/flows-database.js'
import { isoTime } from './output.js'
import {
  checkReportOptions,
  DEFAULT_REPORT_OPTIONS,
  loadInterfaceMap,
  REPORTS,
  type ReportOptions,
  reportColumns,
  reportDefinition,
  runReport,
} from './report.js'
import { row, T0 } from './test-rows.js'

// Two interfaces; web gets HTTPS from two clients, an SSH login and a rejected RDP probe; db is asked by web.
const records = [
  row({ iface: 'eni-web', src: '203.0.113.5', dst: '10.0.1.10', dport: 443, packets: 10, bytes: 1000 }),
  row({
    iface: 'eni-web',
    src: '10.0.1.10',
    dst: '203.0.113.5',
    sport: 443,
    dport: 40000,
    packets: 20,
    bytes: 30000,
  }),
  row({
    iface: 'eni-web',
    src: '198.51.100.7',
    dst: '10.0.1.10',
    dport: 443,
    packets: 4,
    bytes: 400,
    at: 70,
  }),
  row({
    iface: 'eni-web',
    src: '203.0.113.5',
    dst: '10.0.1.10',
    dport: 22,
    packets: 30,
    bytes: 5000,
    at: 80,
  }),
  row({
    iface: 'eni-web',
    src: '198.51.100.7',
    dst: '10.0.1.10',
    dport: 3389,
    packets: 3,
    bytes: 180,
    at: 130,
    action: 'REJECT',
  }),
  row({
    iface: 'eni-web',
    src: '198.51.100.7',
    dst: '10.0.1.10',
    dport: 23,
    packets: 2,
    bytes: 120,
    at: 131,
    action: 'REJECT',
  }),
  row({ iface: 'eni-db', src: '10.0.1.10', dst: '10.0.2.20', dport: 5432, packets: 5, bytes: 700, at: 140 }),
  row({
    iface: 'eni-db',
    src: '2001:db8::5',
    dst: '2001:db8::20',
    dport: 5432,
    packets: 1,
    bytes: 100,
    at: 150,
    action: 'REJECT',
    proto: 6,
  }),
  { 'interface-id': 'eni-db', 'log-status': 'NODATA', start: T0, end: T0 + 59 },
]

let db: FlowsDatabase
let dir: string
const network = makeNetwork({ 'sg-a': {} }, [
  { id: 'eni-web', addresses: ['10.0.1.10'], groups: ['sg-a'] },
  { id: 'eni-db', addresses: ['10.0.2.20'], groups: ['sg-a'] },
])
network.interfaces[0]!.instance = 'i-web'
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowlog-report-'))
  writeFileSync(join(dir, 'flows.jsonl'), `${records.map((r) => JSON.stringify(r)).join('\n')}\n`)
  db = await openFlowsDatabase([dir])
  await loadInterfaceMap(db.connection, network)
})
after(() => db.close())

const options = (o: Partial<ReportOptions> = {}): ReportOptions => ({ ...DEFAULT_REPORT_OPTIONS, ...o })
/** Rows as compact strings of the named columns. */
async function run(kind: string, columns: string[], o: Partial<ReportOptions> = {}): Promise<string[]> {
  const table = await runReport(db.connection, reportDefinition(kind), options(o))
  return table.rows.map((r) => columns.map((c) => String(r[c])).join(' '))
}

const cases: { kind: string; columns: string[]; options?: Partial<ReportOptions>; expect: string[] }[] = [
  {
    kind: 'accepted',
    columns: ['srcaddr', 'dstport', 'protocol', 'bytes'],
    expect: [
      '10.0.1.10 40000 tcp 30000',
      '203.0.113.5 22 tcp 5000',
      '203.0.113.5 443 tcp 1000',
      '10.0.1.10 5432 tcp 700',
      '198.51.100.7 443 tcp 400',
    ],
  },
  {
    kind: 'rejected',
    columns: ['srcaddr', 'dstport', 'packets'],
    expect: ['198.51.100.7 3389 3', '198.51.100.7 23 2', '2001:db8::5 5432 1'],
  },
  {
    kind: 'rejected-tcp',
    columns: ['srcaddr', 'dstport'],
    options: { limit: 1 },
    expect: ['198.51.100.7 3389'],
  },
  {
    kind: 'admin-ports',
    columns: ['srcaddr', 'dstport', 'action', 'records'],
    expect: ['203.0.113.5 22 ACCEPT 1', '198.51.100.7 3389 REJECT 1', '198.51.100.7 23 REJECT 1'],
  },
  {
    kind: 'admin-ports',
    columns: ['srcaddr', 'dstport'],
    options: { adminPorts: [23] },
    expect: ['198.51.100.7 23'],
  },
  {
    kind: 'ssh-rdp',
    columns: ['srcaddr', 'service', 'action'],
    expect: ['203.0.113.5 ssh ACCEPT', '198.51.100.7 rdp REJECT'],
  },
  {
    kind: 'top-talkers',
    columns: ['srcaddr', 'bytes'],
    options: { limit: 2 },
    expect: ['10.0.1.10 30700', '203.0.113.5 6000'],
  },
  {
    kind: 'top-talkers-packets',
    columns: ['srcaddr', 'packets'],
    options: { limit: 2 },
    expect: ['203.0.113.5 40', '10.0.1.10 25'],
  },
  { kind: 'top-instances', columns: ['instance', 'records'], expect: ['i-web 6', 'eni-db 2'] },
  { kind: 'top-subnets', columns: ['subnet', 'records'], expect: ['subnet-1 8'] },
  {
    kind: 'bytes-transferred',
    columns: ['srcaddr', 'dstaddr', 'bytes'],
    options: { limit: 1 },
    expect: ['10.0.1.10 203.0.113.5 30000'],
  },
  { kind: 'ip-versions', columns: ['type', 'records', 'bytes'], expect: ['IPv4 7 37400', 'IPv6 1 100'] },
  {
    kind: 'address',
    columns: ['direction', 'peer', 'dstport', 'action'],
    options: { address: '198.51.100.7' },
    expect: ['from 10.0.1.10 443 ACCEPT', 'from 10.0.1.10 3389 REJECT', 'from 10.0.1.10 23 REJECT'],
  },
  {
    kind: 'over-time',
    columns: ['bucket', 'records', 'accepted_packets', 'rejected_packets'],
    expect: [`${T0} 2 30 0`, `${T0 + 60} 2 34 0`, `${T0 + 120} 4 5 6`],
  },
  { kind: 'over-time', columns: ['bucket', 'records'], options: { interval: 3600 }, expect: [`${T0} 8`] },
]

for (const c of cases) {
  test(`report ${c.kind}${c.options === undefined ? '' : ` ${JSON.stringify(c.options)}`}`, async () => {
    assert.deepEqual(await run(c.kind, c.columns, c.options), c.expect)
  })
}

test('report: each report gives the same rows from text records staged with only the columns it names', async () => {
  for (const c of cases) {
    const o = options(c.options)
    const columns = reportColumns([c.kind], o)
    assert.ok(columns !== null && !columns.has('version') && !columns.has('account_id'), c.kind)
    const pruned = await openFlowsDatabase([dir], {}, { columns })
    try {
      await loadInterfaceMap(pruned.connection, network)
      const definition = reportDefinition(c.kind)
      const got = await runReport(pruned.connection, definition, o)
      assert.deepEqual(got, await runReport(db.connection, definition, o), c.kind)
    } finally {
      pruned.close()
    }
  }
})

test('every report has a test above', () => {
  assert.deepEqual(new Set(cases.map((c) => c.kind)), new Set(REPORTS.map((r) => r.kind)))
})

test('report: times are unix seconds in the rows (shown as UTC by the output)', async () => {
  const table = await runReport(db.connection, reportDefinition('top-talkers'), options({ limit: 1 }))
  assert.equal(isoTime(Number(table.rows[0]?.first)), '2024-06-02T00:00:00Z')
})

test('report: bad options are refused before anything is read', () => {
  assert.throws(
    () => checkReportOptions(['top-talker'], options()),
    (e: unknown) => e instanceof InputError && /"top-talker" is not a report/.test(e.message),
  )
  assert.throws(() => checkReportOptions(['address'], options()), /needs --address/)
  assert.throws(
    () => checkReportOptions(['address'], options({ address: '10.0.0.300' })),
    /is not an IPv4 or IPv6 address/,
  )
})
