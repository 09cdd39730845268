import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { expandBatch } from './expand-batch.js'
import { JsonlFormatter } from './jsonl-formatter.js'
import { assertGolden, SAMPLE_RULE_IDS, sampleBatch, sampleNetwork, testFlowLog } from './test-fixtures.js'

const AWS_ALL =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status ' +
  'vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id ' +
  'pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path reject-reason'
const EXTRAS = 'rule-id reject-reason-detail start-ms end-ms skipped-packets skipped-bytes'

function render(fields: string): string {
  const network = sampleNetwork()
  const flowLog = testFlowLog({ fields: fields.split(' '), fileFormat: 'jsonl' })
  const body = new JsonlFormatter().encode(expandBatch(sampleBatch(), network, SAMPLE_RULE_IDS), {
    flowLog,
    network,
  })
  return Buffer.from(body).toString('utf8')
}

describe('JSONL format', () => {
  const text = render(`${AWS_ALL} ${EXTRAS}`)

  test('sample window with every AWS field and the extras', () => {
    assertGolden(import.meta.url, 'sample.jsonl', text)
  })

  test('one JSON object per line, keys in the configured order, no header', () => {
    const lines = text.trimEnd().split('\n')
    assert.equal(lines.length, sampleBatch().count)
    const first = JSON.parse(lines[0]!) as Record<string, unknown>
    assert.deepEqual(Object.keys(first), `${AWS_ALL} ${EXTRAS}`.split(' '))
    assert.equal(first.version, 8)
    assert.equal(first.srcport, 51000)
    assert.equal(first['account-id'], '123456789010')
    assert.equal(first['traffic-path'], null)
    assert.equal(first['rule-id'], 'sgr-ssh')
  })

  test('status records carry nulls, SKIPDATA its counts', () => {
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    const skip = lines[7]!
    const none = lines[8]!
    assert.deepEqual(
      [skip.srcaddr, skip.packets, skip['skipped-bytes'], skip['log-status']],
      [null, 1234, 567890, 'SKIPDATA'],
    )
    assert.deepEqual(
      [none.srcaddr, none.packets, none.action, none['log-status']],
      [null, null, null, 'NODATA'],
    )
  })

  test('unknown direction is null in flow-direction', () => {
    const unknown = JSON.parse(text.split('\n')[5]!) as Record<string, unknown>
    assert.equal(unknown['flow-direction'], null)
  })

  test('NHN names are not JSONL fields', () => {
    assert.throws(() => render('version tcp_flag'), /field "tcp_flag" is not a jsonl field/)
  })
})
