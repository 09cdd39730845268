import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { DuckDBInstance } from '@duckdb/node-api'
import type { FlowRow } from './flow-row.js'
import { localFile } from './list-sources.js'
import { emptyStats } from './read-options.js'
import { scanFiles } from './scan-files.js'

const tmp = () => mkdtempSync(join(tmpdir(), 'flowlog-parquet-'))

/** Writes the rows of a SELECT to a Parquet file; returns its path. */
async function parquet(dir: string, name: string, select: string): Promise<string> {
  const path = join(dir, name)
  const connection = await (await DuckDBInstance.create(':memory:')).connect()
  await connection.run(`COPY (${select}) TO '${path}' (FORMAT parquet)`)
  connection.closeSync()
  return path
}

/** Every row the scan hands over; `where` is the SQL the sink gives DuckDB (null: none, so JavaScript tests). */
async function scan(
  paths: string[],
  where: string | null,
  range: { since?: number; until?: number } = {},
): Promise<{ rows: FlowRow[]; counted: number }> {
  const stats = emptyStats()
  const rows: FlowRow[] = []
  const bad: string[] = []
  const files = paths.map((p) => localFile(p, 1))
  for await (const _ of scanFiles({
    files,
    options: { onBadLine: (f, l, r) => bad.push(`${f}:${l}: ${r}`), ...range },
    stats,
    sink: {
      bind: () => null,
      take: (cursor) => {
        rows.push(cursor.toRow())
        return undefined
      },
      sqlFor: () => where,
    },
  })) {
    // Rows are collected as they come.
  }
  assert.deepEqual(bad, [])
  return { rows, counted: stats.rows }
}

const EVERY_TYPE = `SELECT * FROM (VALUES
  (2::TINYINT, 'eni-0123456789abcdef0', '10.0.0.1', 22::USMALLINT, 9007199254740993::BIGINT, -5::BIGINT,
   1.5::DOUBLE, 12.34::DECIMAL(10, 2), 18446744073709551615::UBIGINT,
   TIMESTAMP '2024-06-01 12:00:00', true, 'ünïcödé ünïcödé ünïcödé', 'REJECT', 4294967295::UINTEGER),
  (NULL, '-', '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (5::TINYINT, 'eni-1', 'fe80::1234:5678:9abc:def0', 65535::USMALLINT, 0::BIGINT, 9007199254740991::BIGINT,
   -0.25::DOUBLE, 0::DECIMAL(10, 2), 1::UBIGINT,
   TIMESTAMP '1970-01-01 00:00:00', false, 'twelve chars', 'ACCEPT', 0::UINTEGER))
  AS t(version, interface_id, srcaddr, dstport, big, packets, bytes, price, unsigned, seen, flag, note, action, start)`

describe('scanParquet (Parquet through DuckDB, read in place)', () => {
  test('every column type, NULL, `-` and empty text, long and non-ASCII text', async () => {
    const path = await parquet(tmp(), 'types.parquet', EVERY_TYPE)
    const { rows, counted } = await scan([path], null)
    assert.equal(counted, 3)
    assert.deepEqual(rows[0], {
      version: 2,
      'interface-id': 'eni-0123456789abcdef0',
      srcaddr: '10.0.0.1',
      dstport: 22,
      big: '9007199254740993',
      packets: -5,
      bytes: 1.5,
      price: '12.34',
      unsigned: '18446744073709551615',
      seen: '2024-06-01 12:00:00',
      flag: 'true',
      note: 'ünïcödé ünïcödé ünïcödé',
      action: 'REJECT',
      start: 4294967295,
    })
    // Absent, `-` and empty are all "not applicable".
    for (const value of Object.values(rows[1]!)) assert.equal(value, null)
    assert.equal(rows[2]!.srcaddr, 'fe80::1234:5678:9abc:def0')
    assert.equal(rows[2]!.packets, 9007199254740991)
    assert.equal(rows[2]!.bytes, -0.25)
    assert.equal(rows[2]!.note, 'twelve chars')
  })

  test('a filter said in SQL reads the same values and counts every row', async () => {
    const path = await parquet(tmp(), 'types.parquet', EVERY_TYPE)
    const whole = await scan([path], null)
    const filtered = await scan([path], 'TRUE')
    assert.deepEqual(filtered.rows, whole.rows)
    assert.equal(filtered.counted, 3)
    const some = await scan([path], `"action" = 'ACCEPT'`)
    assert.deepEqual(some.rows, [whole.rows[2]])
    assert.equal(some.counted, 3)
  })

  test('within --since/--until, a filtered scan counts the rows of that time only, as text files do', async () => {
    // Windows of 60 s from 1000 s on; one row without times (kept by any range, like text).
    const path = await parquet(
      tmp(),
      'times.parquet',
      `SELECT * FROM (VALUES (1000, 1060, 22), (1060, 1120, 80), (1120, 1180, 22), (1180, 1240, 443),
        (NULL, NULL, 22)) AS t(start, "end", dstport)`,
    )
    const range = { since: 1070, until: 1180 }
    const unfiltered = await scan([path], null, range)
    assert.deepEqual(
      unfiltered.rows.map((r) => r.start),
      [1060, 1120, null],
    )
    assert.equal(unfiltered.counted, 3)
    const filtered = await scan([path], '"dstport" = 22', range)
    assert.deepEqual(
      filtered.rows.map((r) => r.start),
      [1120, null],
    )
    assert.equal(filtered.counted, unfiltered.counted, 'the same records read, filter or not')
    assert.equal((await scan([path], '"dstport" = 22', { since: 1200 })).counted, 2)
    assert.equal((await scan([path], '"dstport" = 22')).counted, 5)
  })

  test('thousands of rows: long text (read a run at a time), short text and NULL interleaved', async () => {
    const path = await parquet(
      tmp(),
      'many.parquet',
      `SELECT CASE WHEN i % 7 = 0 THEN NULL WHEN i % 5 = 0 THEN 's' || i ELSE 'eni-ü-long-' || i END
        AS interface_id, i AS packets FROM range(5000) t(i)`,
    )
    const expected = Array.from({ length: 5000 }, (_, i) => ({
      'interface-id': i % 7 === 0 ? null : i % 5 === 0 ? `s${i}` : `eni-ü-long-${i}`,
      packets: i,
    }))
    for (const where of [null, 'TRUE']) assert.deepEqual((await scan([path], where)).rows, expected)
  })

  test('files with different columns are one scan, columns matched by name', async () => {
    const dir = tmp()
    const a = await parquet(dir, 'a.parquet', `SELECT 'eni-a' AS interface_id, 22::INTEGER AS dstport`)
    const b = await parquet(
      dir,
      'b.parquet',
      `SELECT 'REJECT' AS action, 3389::BIGINT AS dstport, 'eni-b-with-a-long-name' AS interface_id`,
    )
    for (const where of [null, 'TRUE']) {
      const { rows } = await scan([a, b], where)
      assert.deepEqual(rows, [
        { 'interface-id': 'eni-a', dstport: 22, action: null },
        { 'interface-id': 'eni-b-with-a-long-name', dstport: 3389, action: 'REJECT' },
      ])
    }
  })
})
