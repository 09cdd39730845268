import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { readFlows } from '../read/index.js'
import { LineCursor, type RecordCursor } from '../read/record-cursor.js'
import { cursorFlowMaker, type Flow, isTraffic, toFlow } from './flow.js'

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

test("a record read in place from the reader's cursor is the Flow toFlow makes of its row", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-flow-'))
  try {
    // NHN CSV (mapped names, DROP, quoted cells, a status line) beside the repository's AWS and
    // analysis fixtures (text of several versions, gzip, CSV, JSONL).
    writeFileSync(
      join(dir, 'fl-nhn_2024-06-01T12:00:00Z.csv'),
      [
        'timestamp_start,timestamp_end,interface_id,owner_id,protocol,src_addr,dst_addr,src_port,dst_port,tcp_flag,packets,bytes,direction,filter,status,rule-id',
        '1717243200,1717243210,nic-1,vm-1,6,198.51.100.7,10.0.1.10,50022,22,2,4,208,ingress,DROP,OK,',
        '1717243200,1717243200,nic-1,vm-1,17,10.0.1.10,10.0.0.2,53001,53,0,1,61,egress,ACCEPT,OK,"rule,with ""quotes"""',
        '1717243200,1717243259,nic-2,,,,,,,,,,,,NODATA,',
      ].join('\r\n'),
    )
    const sources = [dir, 'test/fixtures/aws', 'test/fixtures/analysis/logs']
    let compared = 0
    let inPlace = 0
    let makeFlow: ((cursor: RecordCursor) => Flow) | null = null
    const reader = readFlows(sources, { onBadLine: () => {} })
    for await (const _ of reader.scan({
      bind: (schema) => {
        makeFlow = cursorFlowMaker(schema)
        return null
      },
      take: (cursor) => {
        assert.ok(makeFlow !== null)
        assert.deepEqual(makeFlow(cursor), toFlow(cursor.toRow()))
        compared++
        if (cursor instanceof LineCursor) inPlace++
        return undefined
      },
    })) {
      // Compared as they are read.
    }
    assert.ok(inPlace > 100, `${inPlace} text records compared`)
    assert.ok(compared > inPlace, 'JSONL records compared too')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
