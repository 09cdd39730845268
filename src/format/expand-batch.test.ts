import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DIRECTION, LOG_STATUS } from '../core/verdict.js'
import { expandBatch } from './expand-batch.js'
import {
  SAMPLE_RULE_IDS,
  SAMPLE_WINDOW,
  sampleBatch,
  sampleNetwork,
  testBatch,
  testInterface,
  testNetwork,
} from './test-fixtures.js'

describe('expandBatch', () => {
  const records = expandBatch(sampleBatch(), sampleNetwork(), SAMPLE_RULE_IDS)

  test('ingress to a secondary address shows the primary as dstaddr and the packet in pkt-dstaddr', () => {
    const r = records[0]!
    assert.equal(r.srcAddr, '203.0.113.5')
    assert.equal(r.dstAddr, '10.0.1.10')
    assert.equal(r.pktDstAddr, '10.0.1.11')
    assert.equal(r.ipVersion, 4)
  })

  test('egress from a secondary address shows the primary as srcaddr', () => {
    const r = records[1]!
    assert.equal(r.srcAddr, '10.0.1.10')
    assert.equal(r.pktSrcAddr, '10.0.1.11')
    assert.equal(r.dstAddr, '203.0.113.5')
  })

  test('IPv6 uses the primary IPv6 address and ipVersion 6', () => {
    const r = records[4]!
    assert.equal(r.ipVersion, 6)
    assert.equal(r.dstAddr, '2001:db8:a::10')
    assert.equal(r.srcAddr, '2001:db8:ffff::1')
  })

  test('unknown direction keeps both packet addresses', () => {
    const r = records[5]!
    assert.equal(r.direction, DIRECTION.UNKNOWN)
    assert.equal(r.srcAddr, '10.0.9.9')
    assert.equal(r.dstAddr, '10.0.9.8')
  })

  test('cause names the accepting rule or the reject reason', () => {
    assert.deepEqual(
      records.slice(0, 7).map((r) => [r.ruleId, r.rejectReason]),
      [
        ['sgr-ssh', null],
        ['sg-web-out-1', null],
        ['sg-web-out-1', null],
        [null, 'no-matching-rule'],
        [null, 'not-established'],
        ['sg-web-out-1', null],
        ['sg-db-in-1', null],
      ],
    )
  })

  test('NODATA spans the window and counts nothing; SKIPDATA keeps what was skipped', () => {
    const skip = records[7]!
    const none = records[8]!
    assert.equal(skip.status, LOG_STATUS.SKIPDATA)
    assert.deepEqual(
      [skip.start, skip.end, skip.packets, skip.bytes],
      [SAMPLE_WINDOW, SAMPLE_WINDOW + 60, 1234, 567890],
    )
    assert.equal(none.status, LOG_STATUS.NODATA)
    assert.deepEqual(
      [none.start, none.end, none.packets, none.bytes],
      [SAMPLE_WINDOW, SAMPLE_WINDOW + 60, 0, 0],
    )
  })

  test('an interface with no address of the packet family shows the packet address', () => {
    const network = testNetwork([testInterface('eni-v4only', ['10.0.1.5'])])
    const [r] = expandBatch(
      testBatch(0, 60, [
        { iface: 0, direction: DIRECTION.EGRESS, src: '2001:db8:a::99', dst: '2001:db8::1' },
      ]),
      network,
      [],
    )
    assert.equal(r?.srcAddr, '2001:db8:a::99')
  })
})
