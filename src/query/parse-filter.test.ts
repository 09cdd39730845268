import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseFilter } from './parse-filter.js'
import { parseTime } from './time-value.js'

/** Bad filters are InputErrors whose message names the filter, the value and the rule. */
function rejects(filter: string, message: RegExp): void {
  assert.throws(
    () => parseFilter(filter),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ERR_INVALID_INPUT')
      assert.match(error.message, message)
      return true
    },
  )
}

describe('parseFilter: bad input names the thing, the value and the rule', () => {
  test('unknown field, with the nearest name', () => {
    rejects(
      'dstprot=22',
      /--where "dstprot=22": "dstprot" is not a flow-log field \(did you mean "dstport"\?\)/,
    )
  })
  test('a filter that is one comparison is named once', () => {
    rejects('dstport=ssh', /^--where "dstport=ssh": "ssh" is not a number/)
    rejects('dstport=22 and srcport=x', /^--where "dstport=22 and srcport=x": srcport=x: "x" is not a number/)
  })
  test('values of the wrong kind', () => {
    rejects('dstport=ssh', /"ssh" is not a number \(dstport holds numbers\)/)
    rejects('protocol=tcpp', /"tcpp" is not a number \(protocol holds numbers or tcp, udp, icmp/)
    rejects('srcaddr=10.0.0.300', /"10.0.0.300" is not an IPv4 or IPv6 address/)
    rejects('srcaddr in 10.0.0.0/33', /prefix length "33" is not 0-32/)
    rejects('srcaddr > 10.0.0.1', /addresses take =, !=, in/)
    rejects('dstport=2000-1000', /the range 2000-1000 is empty/)
    rejects('start>=yesterday', /"yesterday" is not a time/)
    rejects("interface-id ~ '('", /is not a regular expression/)
  })
  test('syntax', () => {
    rejects('', /is empty/)
    rejects('dstport', /"dstport" must be followed by an operator/)
    rejects('dstport=', /expected a value at the end/)
    rejects('(dstport=22', /a "\(" is not closed/)
    rejects("srcaddr='10.0.0.1", /the quote at position 9 is not closed/)
    rejects('dstport=22)', /unexpected "\)"/)
  })
  test('CloudWatch patterns', () => {
    rejects('[a, b', /a space-delimited pattern is written \[field, field="value", \.\.\.\]/)
    rejects('[..., a, ...]', /only one "\.\.\." is allowed/)
    rejects('[a, , b]', /an empty field between commas/)
    rejects('[a, b > x]', /< <= > >= compare numbers/)
    rejects('[a, b = 1 || c = 2]', /compares two labels \(b, c\) in one position/)
  })
})

describe('parseTime', () => {
  const now = Date.parse('2024-06-01T12:00:00Z') / 1000
  test('ISO 8601 with and without zones, unix seconds, ages', () => {
    assert.equal(parseTime('2024-06-01T12:00:00Z', 'x'), now)
    assert.equal(parseTime('2024-06-01 12:00', 'x'), now)
    assert.equal(parseTime('2024-06-01', 'x'), now - 12 * 3600)
    assert.equal(parseTime('2024-06-01T21:00:00+09:00', 'x'), now)
    assert.equal(parseTime('2024-06-01T21:00:00', 'x', 'Asia/Seoul'), now, 'no zone: in --tz')
    assert.equal(
      parseTime('2024-01-15T07:00:00', 'x', 'America/New_York'),
      Date.parse('2024-01-15T12:00:00Z') / 1000,
    )
    assert.equal(
      parseTime('2024-07-15T08:00:00', 'x', 'America/New_York'),
      Date.parse('2024-07-15T12:00:00Z') / 1000,
    )
    assert.equal(parseTime('1717243200', 'x'), now)
    assert.equal(parseTime('15m', 'x', 'UTC', now), now - 900)
    assert.equal(parseTime('7d', 'x', 'UTC', now), now - 7 * 86400)
    assert.equal(parseTime('now', 'x', 'UTC', now), now)
  })
})

describe('parseFilter: a value a field can never hold is a warning, not an error', () => {
  const warnings = (filter: string) => {
    const out: string[] = []
    parseFilter(filter, { onWarning: (m) => out.push(m) })
    return out
  }
  test('outside the vocabulary, with the nearest value', () => {
    assert.deepEqual(warnings('action=rejected'), [
      '--where "action=rejected": "rejected" can never match: action is ACCEPT, REJECT or - (did you mean "REJECT"?)',
    ])
    assert.match(
      warnings('dstport=22 and flow-direction=inbound')[0] ?? '',
      /flow-direction=inbound: "inbound" can never match/,
    )
  })
  test('values of the vocabulary in any case, its synonyms, wildcards and "-" are fine', () => {
    for (const f of [
      'action=reject',
      'action=DROP',
      'log-status=nodata',
      'flow-direction=Egress',
      'type=ipv6',
      'action=REJ*',
      'action=-',
    ])
      assert.deepEqual(warnings(f), [], f)
  })
})
