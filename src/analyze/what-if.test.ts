import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { NetworkConfig } from '../core/network.js'
import { type GroupSpec, makeNetwork } from '../policy/test-kit.js'
import type { FlowRow } from './flow-row.js'
import { row } from './test-rows.js'
import { whatIf } from './what-if.js'

const current: Record<string, GroupSpec> = {
  'sg-a': {
    inbound: [
      { id: 'a-ssh', protocol: 'tcp', ports: '22', peer: '0.0.0.0/0' },
      { id: 'a-http', protocol: 'tcp', ports: '80', peer: '0.0.0.0/0' },
    ],
    outbound: [{ id: 'a-out', protocol: 'all', peer: '0.0.0.0/0' }],
  },
}
const net = (groups: Record<string, GroupSpec>): NetworkConfig =>
  makeNetwork(groups, [{ id: 'eni-1', addresses: ['10.0.0.1'], groups: ['sg-a'] }])

const rows: FlowRow[] = [
  row({
    iface: 'eni-1',
    src: '203.0.113.10',
    dst: '10.0.0.1',
    sport: 50000,
    dport: 22,
    flags: 2,
    direction: 'ingress',
  }),
  row({
    iface: 'eni-1',
    src: '10.0.0.1',
    dst: '203.0.113.10',
    sport: 22,
    dport: 50000,
    flags: 18,
    direction: 'egress',
  }),
  row({
    iface: 'eni-1',
    src: '203.0.113.10',
    dst: '10.0.0.1',
    sport: 50000,
    dport: 22,
    at: 60,
    flags: 1,
    direction: 'ingress',
  }),
  row({
    iface: 'eni-1',
    src: '198.51.100.7',
    dst: '10.0.0.1',
    sport: 41000,
    dport: 3389,
    at: 30,
    flags: 2,
    direction: 'ingress',
    action: 'REJECT',
  }),
]

const summary = (changes: Awaited<ReturnType<typeof whatIf>>['changes']) =>
  changes.map(
    (c) => `${c.srcaddr}:${c.srcport}->${c.dstport} ${c.current.action}->${c.proposed.action} x${c.records}`,
  )

const cases: {
  name: string
  proposed: Record<string, GroupSpec>
  expect: string[]
  responsible?: RegExp[]
}[] = [
  { name: 'the same groups change nothing', proposed: current, expect: [] },
  {
    name: 'SSH removed: its first record is rejected, and the rest of its connection never happens',
    proposed: {
      'sg-a': {
        ...current['sg-a'],
        inbound: [{ id: 'a-http', protocol: 'tcp', ports: '80', peer: '0.0.0.0/0' }],
      },
    },
    expect: [
      '203.0.113.10:50000->22 ACCEPT->REJECT x1',
      '10.0.0.1:22->50000 ACCEPT->REJECT x1',
      '203.0.113.10:50000->22 ACCEPT->REJECT x1',
    ],
    responsible: [
      /^no-matching-rule: no proposed rule allows it; a-ssh \(sg-a inbound tcp 22 from 0\.0\.0\.0\/0\) is gone$/,
      /the first record of its connection is rejected now/,
    ],
  },
  {
    name: 'SSH narrowed to the office: same traffic, nothing changes',
    proposed: {
      'sg-a': {
        ...current['sg-a'],
        inbound: [{ id: 'a-ssh', protocol: 'tcp', ports: '22', peer: '203.0.113.0/24' }],
      },
    },
    expect: [],
  },
  {
    name: 'SSH narrowed elsewhere: the rule that now reads differently is named',
    proposed: {
      'sg-a': {
        ...current['sg-a'],
        inbound: [{ id: 'a-ssh', protocol: 'tcp', ports: '22', peer: '192.0.2.0/24' }],
      },
    },
    expect: [
      '203.0.113.10:50000->22 ACCEPT->REJECT x1',
      '10.0.0.1:22->50000 ACCEPT->REJECT x1',
      '203.0.113.10:50000->22 ACCEPT->REJECT x1',
    ],
    responsible: [/a-ssh now reads: a-ssh \(sg-a inbound tcp 22 from 192\.0\.2\.0\/24\)/],
  },
  {
    name: 'RDP opened: the rejected attempt would be accepted, by the new rule',
    proposed: {
      'sg-a': {
        ...current['sg-a'],
        inbound: [
          ...(current['sg-a']?.inbound ?? []),
          { id: 'a-rdp', protocol: 'tcp', ports: '3389', peer: '0.0.0.0/0' },
        ],
      },
    },
    expect: ['198.51.100.7:41000->3389 REJECT->ACCEPT x1'],
    responsible: [/^accepted by a-rdp \(sg-a inbound tcp 3389 from 0\.0\.0\.0\/0\)$/],
  },
]

for (const c of cases) {
  test(`what-if: ${c.name}`, async () => {
    const result = await whatIf(rows, net(current), net(c.proposed))
    assert.deepEqual(summary(result.changes), c.expect)
    c.responsible?.forEach((re, i) => {
      assert.match(result.changes[i]?.responsible ?? '', re)
    })
    assert.equal(result.compared, 4)
    assert.equal(result.agreeing, 4, 'the current replay agrees with every recorded action')
  })
}

test('what-if: rule changes are listed only when asked', async () => {
  const proposed = {
    'sg-a': {
      ...current['sg-a'],
      inbound: [{ id: 'a-ssh-2', protocol: 'tcp' as const, ports: '22', peer: '0.0.0.0/0' }],
    },
  }
  const quiet = await whatIf(rows, net(current), net(proposed))
  assert.equal(quiet.changes.length, 0)
  assert.equal(quiet.otherRule, 3)
  const loud = await whatIf(rows, net(current), net(proposed), { ruleChanges: true })
  assert.equal(loud.changes.length, 2)
})

test("what-if: a replay tracks every connection, however small a live host's table (limits.connectionTableCapacity)", async () => {
  // No outbound rule: an answer is accepted only by the connection its request opened.
  const groups: Record<string, GroupSpec> = {
    'sg-a': { inbound: [{ id: 'a-ssh', protocol: 'tcp', ports: '22', peer: '0.0.0.0/0' }], outbound: [] },
  }
  const base = net(groups)
  const network: NetworkConfig = { ...base, limits: { ...base.limits, connectionTableCapacity: 4 } }
  // 40 connections open before any is answered: ten times what the live table would hold.
  const records: FlowRow[] = []
  for (let i = 0; i < 40; i++) {
    const client = `203.0.113.${i}`
    const connection = { iface: 'eni-1', duration: 1, sport: 50000, dport: 22 }
    records.push(
      row({ ...connection, src: client, dst: '10.0.0.1', at: i, flags: 2, direction: 'ingress' }),
      row({
        iface: 'eni-1',
        src: '10.0.0.1',
        dst: client,
        sport: 22,
        dport: 50000,
        at: 60 + i,
        duration: 1,
        flags: 18,
        direction: 'egress',
      }),
    )
  }
  const result = await whatIf(records, network, network)
  assert.equal(result.compared, 80)
  assert.equal(result.agreeing, 80, 'every recorded answer is accepted by its connection in the replay')
})
