import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { after, before, test } from 'node:test'
import { STORED_COLUMNS } from './flows-columns.js'
import { openFlowsDatabase } from './flows-database.js'
import { runSql } from './run-sql.js'
import { statementColumns } from './statement-columns.js'

test('statementColumns names the stored columns a statement reads, filters and computed columns too', async () => {
  const cases: [string, string[]][] = [
    ['SELECT srcaddr, sum(bytes) FROM flows GROUP BY 1', ['bytes', 'srcaddr']],
    // Only a filter reads dstport and action: a pushed-down filter would hide them from the scan.
    ["SELECT count(*) FROM flows WHERE dstport = 22 AND action = 'REJECT'", ['action', 'dstport']],
    // Computed in the view: the date from start, the Community ID from the 5-tuple.
    ['SELECT "date", count(*) FROM flows GROUP BY ALL', ['start']],
    [
      'SELECT community_id FROM flows',
      ['dstaddr', 'dstport', 'pkt_dstaddr', 'pkt_srcaddr', 'protocol', 'srcaddr', 'srcport'],
    ],
    // Both sides of a self-join.
    [
      'SELECT a.srcaddr FROM flows a JOIN flows b ON a.dstaddr = b.srcaddr WHERE b.protocol = 6',
      ['dstaddr', 'protocol', 'srcaddr'],
    ],
    ['SELECT count(*) FROM flows;', []],
    ['SELECT 1', []],
  ]
  for (const [sql, columns] of cases)
    assert.deepEqual([...((await statementColumns(sql)) ?? [])].sort(), columns, sql)
  assert.deepEqual(
    [...((await statementColumns('SELECT * FROM flows')) ?? [])].sort(),
    STORED_COLUMNS.map((c) => c.column).sort(),
  )
  // Not one statement DuckDB can plan here: every column.
  for (const sql of [
    'CREATE VIEW v AS SELECT srcaddr FROM flows; SELECT * FROM v',
    'SELEC srcaddr',
    'SELECT nope FROM flows',
  ])
    assert.equal(await statementColumns(sql), null, sql)
})

// A statement's answer is the same whether the text records were staged with every column or only
// those it reads: `sql` stages only those.
const V2 =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'
let dir: string
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowlog-statement-columns-'))
  writeFileSync(
    join(dir, 'a.log'),
    `${V2}
2 123456789012 eni-a 10.0.0.1 10.0.0.2 40000 443 6 10 1000 1717200000 1717200060 ACCEPT OK
2 123456789012 eni-a 198.51.100.7 10.0.0.2 40001 22 6 3 180 1717200001 1717200061 REJECT OK
2 123456789012 eni-a - - - - - - - 1717200000 1717200060 - NODATA
2 123456789012 eni-b 198.51.100.7 10.0.0.3 40002 22 6 1 60 1717203700 1717203760 REJECT OK
2 123456789012 eni-b 10.0.0.3 10.0.0.2 53000 53 17 1 80 1717203701 1717203761 ACCEPT OK
`,
  )
})
after(() => rmSync(dir, { recursive: true, force: true }))

test('sql answers the same with only the columns the statement reads staged', async () => {
  const statements = [
    'SELECT srcaddr, sum(bytes) AS bytes FROM flows GROUP BY 1 ORDER BY 2 DESC, 1',
    "SELECT count(*) FROM flows WHERE dstport = 22 AND action = 'REJECT'",
    'SELECT CAST("date" AS VARCHAR) AS day, count(*) AS n FROM flows GROUP BY ALL ORDER BY ALL',
    'SELECT count(*), count(srcaddr) FROM flows',
    'SELECT interface_id, community_id FROM flows ORDER BY ALL',
  ]
  for (const sql of statements) {
    const pruned = await output((out) => runSql(sql, [dir], { format: 'csv' }, out))
    const whole = await output(async (out) => {
      const db = await openFlowsDatabase([dir], {}, { textRecords: 'staged' })
      try {
        const rows = (await db.connection.runAndReadAll(sql)).getRowsJS()
        out.write(`${JSON.stringify(rows, (_, v) => (typeof v === 'bigint' ? Number(v) : v))}\n`)
      } finally {
        db.close()
      }
    })
    const csvRows = pruned.trim().split('\n').slice(1)
    const wholeRows = (JSON.parse(whole) as unknown[][]).map((row) =>
      row.map((v) => (v === null ? '' : String(v))).join(','),
    )
    assert.deepEqual(csvRows, wholeRows, sql)
    assert.ok(csvRows.length > 0, sql)
  }
})

/** What `write` writes to a stream, as text. */
async function output(write: (out: Writable) => Promise<unknown>): Promise<string> {
  let text = ''
  const out = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk)
      done()
    },
  })
  await write(out)
  return text
}
