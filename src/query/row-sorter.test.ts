import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseSort, RowSorter } from './row-sorter.js'

test('--sort keys: any name --where accepts, - for descending; a typo gets the nearest name', () => {
  assert.deepEqual(parseSort('-bytes, start'), [
    { field: 'bytes', descending: true },
    { field: 'start', descending: false },
  ])
  assert.deepEqual(parseSort('dst_port'), [{ field: 'dstport', descending: false }])
  assert.throws(() => parseSort('-byts'), /--sort: "byts" is not a flow-log field \(did you mean "bytes"\?\)/)
})

test('rows in key order, ties in read order, nulls last; with a limit, the first n of the whole input', () => {
  const rows = Array.from({ length: 5000 }, (_, i) => ({ i, bytes: i % 7 === 0 ? null : (i * 37) % 1000 }))
  const sorter = new RowSorter(parseSort('-bytes'), 10)
  for (const r of rows) sorter.add(r)
  const top = sorter.rows()
  const expected = [...rows]
    .filter((r) => r.bytes !== null)
    .sort((a, b) => (b.bytes ?? 0) - (a.bytes ?? 0) || a.i - b.i)
    .slice(0, 10)
  assert.deepEqual(top, expected)
  const all = new RowSorter(parseSort('bytes'), Number.POSITIVE_INFINITY)
  for (const r of rows) all.add(r)
  const sorted = all.rows()
  assert.equal(sorted.length, 5000)
  assert.equal(sorted.at(-1)?.bytes, null, 'nulls last')
})
