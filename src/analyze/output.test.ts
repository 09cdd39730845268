import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { jsonChunks, withIsoTimes } from './output.js'

const whole = (value: unknown) => JSON.stringify(withIsoTimes(value), null, 2)

test('jsonChunks writes the text JSON.stringify writes, times as ISO 8601', () => {
  const timed = fc.record({
    first: fc.oneof(fc.integer({ min: 0, max: 2_000_000_000 }), fc.constant(null), fc.double()),
    last: fc.integer({ min: 0, max: 2_000_000_000 }),
    note: fc.option(fc.string(), { nil: undefined }),
  })
  const value = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      fc.jsonValue(),
      timed,
      fc.array(tie('node'), { maxLength: 4 }),
      fc.dictionary(fc.string(), tie('node'), { maxKeys: 4 }),
    ),
  })).node
  fc.assert(
    fc.property(value, (v) => {
      assert.equal([...jsonChunks(v)].join(''), whole(v))
    }),
    { numRuns: 2000 },
  )
  const odd = { a: undefined, b: [undefined, () => 1, 2], c: new Set([1]), d: {}, e: [], start: 1717243200 }
  assert.equal([...jsonChunks(odd)].join(''), whole(odd))
  assert.match([...jsonChunks({ start: 1717243200 })].join(''), /"start": "2024-06-01T12:00:00Z"/)
  // A key named __proto__ (JSON.parse makes it an own key) is a key like any other in both.
  const proto = JSON.parse('{"__proto__": {"first": 1717243200}}') as unknown
  assert.equal([...jsonChunks(proto)].join(''), whole(proto))
  assert.match(whole(proto), /"__proto__": \{\n {4}"first": "2024-06-01T12:00:00Z"/)
})

test('a large array is written a member at a time', () => {
  const changes = Array.from({ length: 10_000 }, (_, i) => ({ first: 1717243200 + i, records: i }))
  let largest = 0
  const pieces: string[] = []
  for (const piece of jsonChunks({ changes })) {
    largest = Math.max(largest, piece.length)
    pieces.push(piece)
  }
  assert.equal(pieces.join(''), whole({ changes }))
  assert.ok(largest < 100, `largest piece ${largest} characters`)
})
