import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FlowLogDelivery } from './flow-log-delivery.js'

test('a flow log is FAILED with the reason while its files wait after a failed attempt, SUCCESS once delivered', () => {
  const d = new FlowLogDelivery()
  const at = new Date('2026-12-06T20:00:00.000Z')
  assert.deepEqual(d.status('fl-1'), {
    status: 'SUCCESS',
    error: null,
    lastFile: null,
    lastFileAt: null,
    spooled: 0,
  })
  d.fileWritten({ flowLogId: 'fl-1', key: 'k1', location: 's3://b/k1', spooled: true }, at)
  assert.equal(d.status('fl-1').status, 'SUCCESS', 'an attempt under way is no failure')
  assert.equal(d.status('fl-1').spooled, 1)
  d.outcome({ flowLogId: 'fl-1', key: 'k1', delivered: false, error: 'NoSuchBucket: b' })
  d.fileWritten({ flowLogId: 'fl-1', key: 'k2', location: 's3://b/k2', spooled: true }, at)
  assert.deepEqual(d.status('fl-1'), {
    status: 'FAILED',
    error: 'NoSuchBucket: b',
    lastFile: 's3://b/k2',
    lastFileAt: '2026-12-06T20:00:00.000Z',
    spooled: 2,
  })
  assert.equal(d.status('fl-2').status, 'SUCCESS', 'other flow logs are not affected')
  d.outcome({ flowLogId: 'fl-1', key: 'k1', delivered: true, error: null })
  d.outcome({ flowLogId: 'fl-1', key: 'k2', delivered: true, error: null })
  assert.deepEqual(
    { ...d.status('fl-1'), lastFileAt: null },
    { status: 'SUCCESS', error: null, lastFile: 's3://b/k2', lastFileAt: null, spooled: 0 },
  )
})
