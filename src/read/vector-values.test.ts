import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DuckDBInstance } from '@duckdb/node-api'
import { duckdbBindings } from './duckdb-connection.js'
import { vectorValues } from './vector-values.js'

// Read in place, a chunk's columns must be what DuckDB's own value-by-value reading gives: short
// and long strings (inline and not), NULLs among them, numbers of both widths, constant columns,
// more rows than a vector holds.
test('vectorValues reads VARCHAR, DOUBLE and INTEGER columns as getColumnValues does', async () => {
  const db = await (await DuckDBInstance.create(':memory:')).connect()
  try {
    const result = await db.stream(`SELECT
        CASE WHEN i % 7 = 0 THEN NULL WHEN i % 2 = 0 THEN 'a' || i ELSE '198.51.100.' || (i % 256) || '-long-' || i END AS text,
        CASE WHEN i % 5 = 0 THEN NULL ELSE i / 3 END::DOUBLE AS number,
        CASE WHEN i % 11 = 0 THEN NULL ELSE i - 2500 END::INTEGER AS integer,
        i::BIGINT AS other,
        'the same long text in every row' AS constant,
        NULL::INTEGER AS nothing
      FROM range(5000) t(i)`)
    const types = result.columnTypes()
    const duckdb = duckdbBindings()
    let rows = 0
    let nulls = 0
    for (
      let chunk = await result.fetchChunk();
      chunk !== null && chunk.rowCount > 0;
      chunk = await result.fetchChunk()
    ) {
      for (let c = 0; c < 3; c++) {
        const read = vectorValues(duckdb, chunk, c, types[c])
        const expected = chunk.getColumnValues(c)
        assert.deepEqual(read, expected, `column ${c}`)
        nulls += expected.filter((v) => v === null).length
      }
      // A type it does not read in place is left to getColumnValues.
      assert.equal(vectorValues(duckdb, chunk, 3, types[3]), null)
      // Columns DuckDB could hold as one constant value come flat, as any other.
      for (const c of [4, 5])
        assert.deepEqual(vectorValues(duckdb, chunk, c, types[c]), chunk.getColumnValues(c))
      rows += chunk.rowCount
    }
    assert.equal(rows, 5000)
    assert.ok(nulls > 1000, `${nulls} NULLs compared`)
  } finally {
    db.closeSync()
  }
})
