import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import { type HashedRanking, MOST_HASHED_ROWS, rankByHashedKeys } from './hashed-ranking.js'

// Pairs of addresses with bytes and packets, in shapes that decide which way the ranking goes: the
// rows must be the statement's own on every record, whichever way.
let connection: DuckDBConnection
before(async () => {
  connection = await (await DuckDBInstance.create(':memory:')).connect()
  // 3,000 records over 2,000 pairs, most of them one record; bytes and packets spread, some NULL.
  await connection.run(`CREATE TABLE spread AS SELECT '10.0.' || (i % 50) AS srcaddr,
    '198.18.' || (i % 2000 // 50) || '.' || (i % 7) AS dstaddr,
    CASE WHEN i % 97 = 0 THEN NULL ELSE (i * 7919) % 100000 END AS bytes, (i * 31) % 40 + 1 AS packets
    FROM range(3000) r(i)`)
  // 600 pairs of equal bytes and packets: the limit-th has ties past any fetch.
  await connection.run(`CREATE TABLE tied AS SELECT '10.0.0.' || (i % 600) AS srcaddr, '198.18.0.1' AS dstaddr,
    1000 AS bytes, 10 AS packets FROM range(600) r(i)`)
  // Negative bytes (a broken writer): the sums are no longer bounded by the largest values.
  await connection.run(`CREATE TABLE negative AS SELECT '10.0.' || (i % 700) AS srcaddr, '198.18.0.' || (i % 3) AS dstaddr,
    CASE WHEN i % 2 = 0 THEN -((i * 13) % 5000) ELSE (i * 17) % 9000 END AS bytes, 1 AS packets FROM range(2100) r(i)`)
  // Hashing the source alone stands for colliding hashes: one hash group holds many pairs. Source
  // .1 has 100 pairs of 10 bytes (its group bounds 1,000), .2 one of 500, .3 one of 400, and 300
  // sources one of 1 byte.
  const others = `SELECT '10.1.' || i AS srcaddr, '198.18.0.1' AS dstaddr, 1 AS bytes, 1 AS packets FROM range(300) r(i)`
  await connection.run(`CREATE TABLE merged AS SELECT '10.0.0.1' AS srcaddr, '198.18.1.' || i AS dstaddr,
    10 AS bytes, 1 AS packets FROM range(100) r(i)
    UNION ALL VALUES ('10.0.0.2', '198.18.0.1', 500, 1), ('10.0.0.3', '198.18.0.1', 400, 1) UNION ALL ${others}`)
  // Source .1's pairs: 1,000 bytes and -990 (its group sums to 10, but bounds 1,990).
  await connection.run(`CREATE TABLE cancelled AS SELECT * FROM (VALUES ('10.0.0.1', '198.18.0.1', 1000, 1),
    ('10.0.0.1', '198.18.0.2', -990, 1), ('10.0.0.2', '198.18.0.1', 500, 1), ('10.0.0.3', '198.18.0.1', 400, 1))
    v(srcaddr, dstaddr, bytes, packets) UNION ALL ${others}`)
  // Few pairs: fewer than the fetch.
  await connection.run(`CREATE TABLE few AS SELECT * FROM spread WHERE srcaddr = '10.0.1'`)
})
after(() => connection.closeSync())

/** A connection that counts its statements. */
function counting(): { connection: Pick<DuckDBConnection, 'runAndReadAll'>; statements: string[] } {
  const statements: string[] = []
  return {
    statements,
    connection: {
      runAndReadAll: (sql: string) => {
        statements.push(sql)
        return connection.runAndReadAll(sql)
      },
    },
  }
}

function pairs(table: string, limit: number, keys: readonly string[] = ['srcaddr', 'dstaddr']) {
  const ranking: HashedRanking = {
    keys,
    records: `${table} WHERE true`,
    measures: [
      { column: 'bytes', bound: 'sum(abs(bytes))' },
      { column: 'packets', bound: 'sum(abs(packets))' },
    ],
  }
  const statement = (only: string | null) => `SELECT srcaddr, dstaddr, count(*) AS records,
    sum(bytes) AS bytes, sum(packets) AS packets FROM ${table} WHERE ${only ?? 'true'}
    GROUP BY ALL ORDER BY bytes DESC, packets DESC, 1, 2 LIMIT ${limit}`
  return { ranking, statement }
}

async function rank(table: string, limit: number, keys?: readonly string[]) {
  const { ranking, statement } = pairs(table, limit, keys)
  const expected = (await connection.runAndReadAll(statement(null))).getRowObjectsJS()
  const counted = counting()
  const rows = await rankByHashedKeys(counted.connection, ranking, limit, statement)
  assert.deepEqual(rows, expected)
  assert.ok(expected.length > 0)
  return counted.statements
}

const hashedOnly = (statements: readonly string[]) =>
  statements.length === 2 && statements[1]?.includes('::UBIGINT') === true

test('hashed ranking: pairs of one or two records each rank by their hashes first', async () => {
  for (const limit of [1, 5, 50]) assert.ok(hashedOnly(await rank('spread', limit)), `limit ${limit}`)
})

test('hashed ranking: ties past the fetched hash groups rank every record', async () => {
  const statements = await rank('tied', 5)
  assert.equal(statements.length, 2)
  assert.ok(!statements[1]?.includes('::UBIGINT'))
})

test('hashed ranking: negative values and colliding hash groups give the rows of every record', async () => {
  await rank('negative', 10)
  await rank('spread', 20, ['srcaddr'])
  // Source .1's group is a candidate, but its pairs rank low: the candidates' rows are not the top.
  assert.equal((await rank('merged', 2, ['srcaddr'])).length, 3)
  // A candidate by its absolute values, though its values sum to little.
  assert.ok(hashedOnly(await rank('cancelled', 2, ['srcaddr'])))
})

test('hashed ranking: fewer groups than the fetch, or a limit past the most, rank every record', async () => {
  assert.equal((await rank('few', 5)).length, 2)
  assert.equal((await rank('spread', MOST_HASHED_ROWS + 1)).length, 1)
})
