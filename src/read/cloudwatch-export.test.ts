import assert from 'node:assert/strict'
import { test } from 'node:test'
import { exportStampLength } from './cloudwatch-export.js'

const length = (line: string) => exportStampLength(Buffer.from(line), 0, Buffer.byteLength(line))

test('an export timestamp and its space are recognised, with any fraction of a second or none', () => {
  assert.equal(length('2024-06-01T13:00:05.000Z 2 123'), 25)
  assert.equal(length('2024-06-01T13:00:05Z 2 123'), 21)
  assert.equal(length('2024-06-01T13:00:05.123456789Z x'), 31)
})

test('anything else is not one: records, other dates, a missing Z or space, a cut line', () => {
  for (const line of [
    '2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1620000000 1620000060 ACCEPT OK',
    '1717246800 1717246860 ACCEPT',
    '2024-06-01 13:00:05 2 123',
    '2024-06-01T13:00:05.000 2 123',
    '2024-06-01T13:00:05.000Z',
    '2024-06-01T13:00:05.Z 2',
    '2024-6-01T13:00:05.000Z 2',
    '2024-06-01T13:00:05+09:00 2',
    '',
  ]) {
    assert.equal(length(line), 0, line)
  }
  // The line's end bounds the look: a stamp cut by `limit` is no stamp.
  assert.equal(exportStampLength(Buffer.from('2024-06-01T13:00:05.000Z 2'), 0, 20), 0)
})
