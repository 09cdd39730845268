import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DuckDBInstance } from '@duckdb/node-api'
import { schemaOf } from '../read/file-schema.js'
import type { FlowRow } from '../read/flow-row.js'
import { LineCursor } from '../read/record-cursor.js'
import { compileFilter } from './compile-filter.js'
import { filterToSql } from './filter-sql.js'
import { parseFilter } from './parse-filter.js'
import { parseCloudWatchPattern } from './parse-pattern.js'

const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'
const LINES = [
  '2 123456789010 eni-a 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK',
  '2 123456789010 eni-a 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK',
  '2 123456789010 eni-a 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK',
  '2 123456789010 eni-b 2001:db8:1234:a100::5 2001:db8:1234:a102::7 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK',
  '2 123456789010 eni-b - - - - - - - 1431280876 1431280934 - NODATA',
  '2 123456789010 eni-c 10.0.1.10 198.51.100.7 45000 443 6 3 180 1717243200 1717243260 ACCEPT OK',
  '2 123456789010 eni-c 198.51.100.7 10.0.1.10 443 45000 17 1 140 1717243301 1717243301 REJECT OK',
]
const schema = schemaOf(HEADER.split(' '), 'aws', HEADER)

/** The indexes of the lines a filter takes, through the line cursor (the scanner's path). */
function matches(filter: string): number[] {
  const test = compileFilter(parseFilter(filter)).bind(schema)
  const cursor = new LineCursor(schema, ' ')
  return LINES.flatMap((line, i) => {
    const bytes = Buffer.from(line)
    cursor.load(bytes, 0, bytes.length)
    return test === null || test(cursor) ? [i] : []
  })
}

describe('filters on records', () => {
  test('field comparisons, numbers and text', () => {
    assert.deepEqual(matches('dstport=22'), [0, 3])
    assert.deepEqual(matches('dstport == 22'), [0, 3])
    assert.deepEqual(matches('dstport != 22'), [1, 2, 4, 5, 6], '!= is "not =": NODATA records too')
    assert.deepEqual(matches('packets>10'), [0, 1, 3])
    assert.deepEqual(matches('bytes>=4249 and bytes<=8855'), [0, 1, 3])
    assert.deepEqual(matches('action=REJECT'), [1, 6])
    assert.deepEqual(matches('action=reject'), [1, 6], 'actions ignore case')
    assert.deepEqual(matches('action=DROP'), [1, 6], "NHN's word for REJECT")
    assert.deepEqual(matches('log-status=NODATA'), [4])
    assert.deepEqual(matches('logStatus=nodata'), [4], 'CloudWatch Insights spelling')
    assert.deepEqual(matches('interface_id=eni-c'), [5, 6], 'Athena spelling')
  })

  test('CIDRs, addresses, IPv6, wildcards', () => {
    assert.deepEqual(matches('srcaddr in 172.31.0.0/16'), [0, 1])
    assert.deepEqual(matches('srcaddr=172.31.16.139'), [0])
    assert.deepEqual(matches('addr=172.31.16.139'), [0, 2], 'addr: either side')
    assert.deepEqual(matches('addr != 172.31.16.139'), [1, 3, 4, 5, 6], 'neither side')
    assert.deepEqual(matches('srcaddr in 2001:db8::/32'), [3])
    assert.deepEqual(matches('dstaddr in 10.0.0.0/8, 172.31.16.0/24'), [0, 2, 6])
    assert.deepEqual(matches('srcaddr=172.31.*'), [0, 1])
    assert.deepEqual(matches('srcaddr = 0.0.0.0/0'), [0, 1, 2, 5, 6])
  })

  test('ranges, lists, protocol names, not applicable', () => {
    assert.deepEqual(matches('dstport in 1-1024'), [0, 3, 5])
    assert.deepEqual(matches('dstport=1-1024'), [0, 3, 5])
    assert.deepEqual(matches('dstport in (22, 3389)'), [0, 1, 3])
    assert.deepEqual(matches('dstport not in 22,3389'), [2, 4, 5, 6])
    assert.deepEqual(matches('port=443'), [5, 6])
    assert.deepEqual(matches('protocol=udp'), [6])
    assert.deepEqual(matches('protocol=icmp'), [2])
    assert.deepEqual(matches('srcaddr=-'), [4])
    assert.deepEqual(matches('srcaddr!=-'), [0, 1, 2, 3, 5, 6])
  })

  test('boolean logic: and, or, not, parentheses, juxtaposition', () => {
    assert.deepEqual(matches('dstport=22 action=ACCEPT'), [0, 3])
    assert.deepEqual(matches('dstport=22 || action=REJECT'), [0, 1, 3, 6])
    assert.deepEqual(matches('not (dstport=22 or action=REJECT)'), [2, 4, 5])
    assert.deepEqual(matches('!dstport=22 && !log-status=NODATA'), [1, 2, 5, 6])
    assert.deepEqual(matches('(protocol=tcp or protocol=udp) and not srcaddr in 172.16.0.0/12'), [3, 5, 6])
  })

  test('times: start/end as ISO or unix, and `time` as the record span', () => {
    assert.deepEqual(matches('start >= 2024-06-01T00:00:00Z'), [5, 6])
    assert.deepEqual(matches('start < 1418530011'), [0, 1])
    assert.deepEqual(matches('time=2024-06-01T12:01:00Z'), [5], 'inside 12:00..12:01')
    assert.deepEqual(matches('time>=2024-06-01T12:01:30Z'), [6])
    assert.deepEqual(matches('time=2024-06-01T12:00:30Z..2024-06-01T12:05:00Z'), [5, 6])
  })

  test('regular expressions', () => {
    assert.deepEqual(matches("interface-id ~ '^eni-[ab]$'"), [0, 1, 2, 3, 4])
    assert.deepEqual(matches('interface-id !~ ^eni-[ab]$'), [5, 6])
  })
})

describe('CloudWatch patterns', () => {
  test("AWS's rejected-SSH metric filter", () => {
    const pattern =
      '[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]'
    assert.deepEqual(matches(pattern), [])
    assert.deepEqual(matches(pattern.replace('"22"', '"3389"')), [1])
  })

  test('ellipsis, wildcards, numeric comparisons, alternatives', () => {
    assert.deepEqual(matches('[..., action="REJECT", status]'), [1, 6])
    assert.deepEqual(matches('[v, a, e, src=172.31.*, ...]'), [0, 1])
    assert.deepEqual(matches('[..., bytes >= 4249, s, e, action, status]'), [0, 1, 3])
    assert.deepEqual(matches('[v, a, e, s, d, sp, dp = 22 || dp = 443, ...]'), [0, 3, 5])
    assert.deepEqual(matches('[v, a, e, s, d, sp, dp != 22, ...]'), [1, 2, 4, 5, 6])
    assert.deepEqual(matches('[..., action = "-", status = NODATA]'), [4])
  })

  test('without an ellipsis the field count must match', () => {
    assert.deepEqual(matches('[version, account, eni, source]'), [])
  })

  test('--pattern without brackets: a list is bracketed, anything else is CloudWatch terms', () => {
    const pattern = (text: string) => {
      const test = compileFilter(parseCloudWatchPattern(text, '--pattern')).bind(schema)
      const cursor = new LineCursor(schema, ' ')
      return LINES.flatMap((line, i) => {
        const bytes = Buffer.from(line)
        cursor.load(bytes, 0, bytes.length)
        return test === null || test(cursor) ? [i] : []
      })
    }
    assert.deepEqual(pattern('..., action="REJECT", status'), [1, 6])
    assert.deepEqual(pattern('REJECT'), [1, 6])
    assert.deepEqual(pattern('REJECT 3389'), [1])
    assert.deepEqual(pattern('"REJECT OK"'), [1, 6])
    assert.deepEqual(pattern('?NODATA ?3389'), [1, 4])
    assert.deepEqual(pattern('REJECT -3389'), [6])
    assert.deepEqual(pattern('"- - - -"'), [4], 'not applicable is written -')
    assert.deepEqual(pattern('reject'), [], 'terms are case-sensitive, as in CloudWatch')
    assert.deepEqual(pattern(''), [0, 1, 2, 3, 4, 5, 6])
    assert.throws(() => parseCloudWatchPattern('action=REJECT', '--pattern'), /"action=REJECT" is not a term/)
    assert.throws(() => parseCloudWatchPattern('{ $.action = "REJECT" }', '--pattern'), /JSON pattern/)
    assert.throws(() => parseCloudWatchPattern('"REJECT', '--pattern'), /quote is not closed/)
  })

  test('term patterns on FlowRow objects (Parquet, JSON Lines)', () => {
    const row: FlowRow = {
      srcaddr: '10.0.0.1',
      dstport: 22,
      action: 'REJECT',
      'log-status': 'OK',
      bytes: null,
    }
    const terms = (text: string) => compileFilter(parseCloudWatchPattern(text, '--pattern')).testRow(row)
    assert.equal(terms('"REJECT OK -"'), true)
    assert.equal(terms('ACCEPT'), false)
  })
})

describe('testRow (filters on FlowRow objects)', () => {
  test('the same filter on a row', () => {
    const row: FlowRow = { srcaddr: '10.0.0.1', dstport: 22, action: 'REJECT', start: 5, end: 9 }
    assert.equal(compileFilter(parseFilter('dstport=22 and srcaddr in 10.0.0.0/8')).testRow(row), true)
    assert.equal(compileFilter(parseFilter('action=ACCEPT')).testRow(row), false)
    assert.equal(compileFilter(parseFilter('time=7')).testRow(row), true)
  })
})

describe('filterToSql takes exactly the records the JavaScript test takes', () => {
  const filters = [
    'dstport=22',
    'dstport != 22',
    'packets>10',
    'action=reject',
    'srcaddr in 172.31.0.0/16',
    'addr != 172.31.16.139',
    'dstport in 1-1024',
    'dstport not in 22,3389',
    'protocol=udp',
    'srcaddr=-',
    'not (dstport=22 or action=REJECT)',
    'time=2024-06-01T12:00:30Z..2024-06-01T12:05:00Z',
    'start >= 2024-06-01T00:00:00Z',
    'log-status=NODATA or bytes<200',
    'srcaddr not in 172.16.0.0/12',
    'not srcaddr in 172.16.0.0/12 and protocol != udp',
    'not (time >= 2024-06-01T12:01:00Z)',
    'not (packets > 10 and not action = ACCEPT)',
    'port != 443',
    'vpc-id = vpc-1 or dstport = 3389',
    'not vpc-id = -',
  ]
  for (const typed of [true, false]) {
    test(`on a DuckDB table of the same records (${typed ? 'typed columns' : 'every column text'})`, async () => {
      const connection = await (await DuckDBInstance.create(':memory:')).connect()
      const columns = HEADER.split(' ')
      const values = LINES.map(
        (line, i) =>
          `(${i}, ${line
            .split(' ')
            .map((v, c) => (v === '-' ? 'NULL' : typed && schema.numeric[c] ? v : `'${v}'`))
            .join(', ')})`,
      )
      await connection.run(
        `CREATE TABLE t AS SELECT * FROM (VALUES ${values.join(', ')}) AS v(i, ${columns.map((c) => `"${c}"`).join(', ')})`,
      )
      for (const filter of filters) {
        const sql = filterToSql(parseFilter(filter), schema, (f) => {
          const c = columns.indexOf(f)
          return c < 0 ? null : { name: f, numeric: typed && schema.numeric[c] === true }
        })
        assert.ok(sql !== null, filter)
        const result = await connection.runAndReadAll(`SELECT i FROM t WHERE ${sql} ORDER BY i`)
        assert.deepEqual(
          result.getRowsJS().map((r) => Number(r[0])),
          matches(filter),
          `${filter}: ${sql}`,
        )
      }
      connection.closeSync()
    })
  }

  test('says null for what it cannot say exactly', () => {
    const none = (f: string) => filterToSql(parseFilter(f), schema, (name) => ({ name, numeric: false }))
    assert.equal(none('[..., action=REJECT, s]'), null)
    assert.equal(none('interface-id ~ ^eni'), null)
    assert.equal(none('srcaddr in 2001:db8::/32'), null)
  })
})
