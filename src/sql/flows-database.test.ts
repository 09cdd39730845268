import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { sqlIdentifier } from '../read/duckdb-connection.js'
import { readFlows } from '../read/read-flows.js'
import { STORED_COLUMNS } from './flows-columns.js'
import { type HoldOptions, openFlowsDatabase } from './flows-database.js'

// Files of three field sets, the first set again after the others (so batches of one file each
// interleave the sets), with a bad line, a NODATA record, a number column holding no number
// (traffic-path) and a column of `-` alone (vpc-id).
const V2 =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'
const V5 =
  'version interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status tcp-flags traffic-path vpc-id'
const FILES: Record<string, string> = {
  'a-v2.log': `${V2}
2 123456789012 eni-a 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1717200000 1717200060 ACCEPT OK
2 123456789012 eni-a 10.0.0.1 10.0.0.2 40000 443 6 10
2 123456789012 eni-a - - - - - - - 1717200000 1717200060 - NODATA
2 123456789012 eni-a 10.0.0.3 10.0.0.2 40001 22 6 abc 99999999999 1717200001 1717200061 REJECT OK
`,
  'b-v5.log': `${V5}
5 eni-b 10.0.1.1 10.0.1.2 1234 53 17 1 80 1717200002 1717200062 ACCEPT OK 0 abc -
5 eni-b 10.0.1.3 10.0.1.2 1235 80 6 3 180 1717200003 1717200063 REJECT OK 2 abc -
`,
  'c-v2.log': `${V2}
2 123456789012 eni-c 10.0.2.1 10.0.2.2 50000 5432 6 7 700 1717200004 1717200064 ACCEPT OK
`,
  'd.jsonl': `${JSON.stringify({ srcaddr: '10.0.3.1', dstaddr: '10.0.3.2', bytes: 5, start: 1717200005, end: 1717200065, action: 'ACCEPT', 'instance-id': 'i-d' })}
not json
`,
}

let dir: string
let expected: { rows: string[]; badLines: number; count: number }
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowlog-flows-db-'))
  for (const [name, text] of Object.entries(FILES)) writeFileSync(join(dir, name), text)
  // What `flowlog query`'s reader makes of the same files.
  const reader = readFlows([dir])
  const rows: string[] = []
  for await (const row of reader) rows.push(key((field) => row[field] ?? null))
  expected = { rows: rows.sort(), badLines: reader.stats.badLines, count: reader.stats.rows }
})
after(() => rmSync(dir, { recursive: true, force: true }))

/** A record as every stored field's value, in one order, for comparing sets of records. */
function key(value: (field: string) => unknown): string {
  return JSON.stringify(STORED_COLUMNS.map((c) => value(c.field)))
}

const holds: [string, HoldOptions][] = [
  ['staged (read by every query)', { textRecords: 'staged' }],
  ['converted to Parquet in batches of one file', { textRecords: 'converted', batchBytes: 1 }],
  ['converted to Parquet in one batch', { textRecords: 'converted' }],
]

for (const [name, hold] of holds) {
  describe(`flows, text records ${name}`, () => {
    test('has the records and counts of the reader, every field as it read it', async () => {
      const db = await openFlowsDatabase([dir], {}, hold)
      try {
        const result = await db.connection.runAndReadAll(
          `SELECT ${STORED_COLUMNS.map((c) => sqlIdentifier(c.column)).join(', ')} FROM flows`,
        )
        const rows = result.getRows().map((r) =>
          key((field) => {
            const v = r[STORED_COLUMNS.findIndex((c) => c.field === field)]
            return typeof v === 'bigint' ? Number(v) : (v ?? null)
          }),
        )
        assert.deepEqual(rows.sort(), expected.rows)
        assert.equal(rows.length, 7)
        assert.equal(db.stats.rows, expected.count)
        assert.equal(db.stats.badLines, expected.badLines)
        assert.equal(db.stats.badLines, 2)
      } finally {
        db.close()
      }
    })

    test('empty columns are those no record has a value in, as a count over the records says', async () => {
      const db = await openFlowsDatabase([dir], {}, hold)
      try {
        const counts = STORED_COLUMNS.map((c) => `count(${sqlIdentifier(c.column)})`).join(', ')
        const [row] = (await db.connection.runAndReadAll(`SELECT ${counts} FROM flows`)).getRows()
        const counted = STORED_COLUMNS.filter((_, i) => Number(row?.[i]) === 0).map((c) => c.column)
        const empty = await db.emptyColumns()
        assert.deepEqual([...empty].sort(), counted.sort())
        for (const column of ['traffic_path', 'vpc_id', 'subnet_id']) assert.ok(empty.has(column), column)
        for (const column of ['tcp_flags', 'instance_id', 'packets', 'account_id'])
          assert.ok(!empty.has(column), column)
      } finally {
        db.close()
      }
    })
  })
}

test('flows: staged and converted text records come in the same order', async () => {
  const order = async (hold: HoldOptions) => {
    const db = await openFlowsDatabase([dir], {}, hold)
    try {
      const result = await db.connection.runAndReadAll('SELECT srcaddr, start FROM flows')
      return JSON.stringify(result.getRowsJson())
    } finally {
      db.close()
    }
  }
  assert.equal(await order({ textRecords: 'converted' }), await order({ textRecords: 'staged' }))
})

test('flows: text records staged with only some columns have those, and every record', async () => {
  const read = async (hold: HoldOptions) => {
    const db = await openFlowsDatabase([dir], {}, hold)
    try {
      const result = await db.connection.runAndReadAll('SELECT tcp_flags FROM flows')
      return { rows: result.getRowsJson().map((r) => JSON.stringify(r)), stats: { ...db.stats } }
    } finally {
      db.close()
    }
  }
  const all = await read({})
  // Only the V5 file has the column: the records of the others are rows all the same.
  const some = await read({ columns: new Set(['tcp_flags']) })
  assert.deepEqual(some.stats, all.stats)
  assert.deepEqual(some.rows.sort(), all.rows.sort())
  assert.equal(some.rows.length, 7)
})
