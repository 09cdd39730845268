import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  type Column,
  csvHeader,
  csvLines,
  jsonChunks,
  jsonChunksStreamed,
  renderCsv,
  renderTable,
  tableHeader,
  tableLines,
  tableWidths,
  withIsoTimes,
} from './output.js'

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

async function* inBatches<T>(items: readonly T[], size: number): AsyncGenerator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size)
}

async function joined(pieces: AsyncIterable<string>): Promise<string> {
  let out = ''
  for await (const piece of pieces) out += piece
  return out
}

test('an array that comes in batches is written as jsonChunks writes it whole', async () => {
  const changes = Array.from({ length: 50 }, (_, i) => ({ first: 1717243200 + i, records: i, n: [i] }))
  for (const [items, size] of [
    [changes, 7],
    [changes, 50],
    [[], 3],
  ] as const) {
    const doc = { records: 3, first: 1717243200, last: null, changes: items, notes: ['a'] }
    const streamed = { ...doc, changes: inBatches(items, size) }
    assert.equal(await joined(jsonChunksStreamed(streamed)), [...jsonChunks(doc)].join(''))
  }
})

test('a table or CSV written in parts is the table or CSV written whole', () => {
  const columns: Column[] = [
    { name: 'first', kind: 'time' },
    { name: 'source', kind: 'text' },
    { name: 'bytes', kind: 'number' },
    { name: 'records', kind: 'number' },
  ]
  const rows = Array.from({ length: 30 }, (_, i) => ({
    first: 1717243200 + i * 3601,
    source: i % 4 === 0 ? null : `198.51.100.${i * 7}, "x"`.slice(0, 5 + (i % 17)),
    bytes: i ** 5,
    records: i % 3 === 0 ? 1.23456 : i * 1000,
  }))
  const parts = [rows.slice(0, 11), rows.slice(11, 12), rows.slice(12)]
  let widths: number[] = []
  for (const part of parts) widths = tableWidths({ columns, rows: part }, widths)
  const table =
    tableHeader(columns, widths) + parts.map((part) => tableLines({ columns, rows: part }, widths)).join('')
  assert.equal(table, renderTable({ columns, rows }))
  const csv = csvHeader(columns) + parts.map((part) => csvLines({ columns, rows: part })).join('')
  assert.equal(csv, renderCsv({ columns, rows }))
})
