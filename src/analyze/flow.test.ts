import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isTraffic, toFlow } from './flow.js'

const cases: {
  name: string
  row: Record<string, string | number | null>
  expect: Record<string, unknown>
}[] = [
  {
    name: 'AWS text row: numbers stay numbers, packet addresses win',
    row: {
      srcaddr: '10.0.0.1',
      dstaddr: '10.0.0.2',
      'pkt-srcaddr': '192.0.2.1',
      srcport: 1,
      dstport: 2,
      protocol: 6,
      packets: 3,
      bytes: 4,
      start: 10,
      end: 20,
      action: 'ACCEPT',
      'log-status': 'OK',
    },
    expect: {
      srcaddr: '192.0.2.1',
      ifSrcaddr: '10.0.0.1',
      dstaddr: '10.0.0.2',
      packets: 3,
      start: 10,
      action: 'ACCEPT',
    },
  },
  {
    name: 'NHN names and DROP',
    row: {
      src_addr: '10.0.0.1',
      dst_addr: '10.0.0.2',
      filter: 'DROP',
      direction: 'ingress',
      timestamp_start: 5,
      tcp_flag: 18,
    },
    expect: { srcaddr: '10.0.0.1', action: 'REJECT', direction: 'ingress', start: 5, tcpFlags: 18 },
  },
  {
    name: 'milliseconds win over seconds; "-" is null',
    row: {
      srcaddr: '10.0.0.1',
      dstaddr: '-',
      start: 10,
      'start-ms': 10250,
      'rule-id': '-',
      action: 'REJECT',
    },
    expect: { start: 10.25, dstaddr: null, ruleId: null, action: 'REJECT' },
  },
  {
    name: 'numbers as text (a reader that kept strings)',
    row: { srcaddr: '10.0.0.1', dstaddr: '10.0.0.2', dstport: '443', packets: '7' },
    expect: { dstport: 443, packets: 7 },
  },
]

for (const c of cases) {
  test(`toFlow: ${c.name}`, () => {
    const flow = toFlow(c.row)
    for (const [k, v] of Object.entries(c.expect)) assert.deepEqual(flow[k as keyof typeof flow], v, k)
  })
}

test('isTraffic: NODATA and SKIPDATA lines are not traffic', () => {
  assert.equal(isTraffic(toFlow({ srcaddr: '10.0.0.1', dstaddr: '10.0.0.2', 'log-status': 'OK' })), true)
  assert.equal(isTraffic(toFlow({ 'interface-id': 'eni-1', 'log-status': 'NODATA' })), false)
  assert.equal(
    isTraffic(toFlow({ srcaddr: '10.0.0.1', dstaddr: '10.0.0.2', 'log-status': 'SKIPDATA' })),
    false,
  )
})
