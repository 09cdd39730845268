import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseFilter } from '../query/parse-filter.js'
import { parseCloudWatchPattern } from '../query/parse-pattern.js'
import { queryCommand } from './query-command.js'

/** `flowlog query --help` as a user reads it. */
function helpText(): string {
  let out = ''
  const command = queryCommand().configureOutput({ writeOut: (s) => (out += s), writeErr: () => {} })
  command.outputHelp()
  return out
}

/** The text between a line starting with `from` and the next blank line. */
function section(text: string, from: string): string[] {
  const lines = text.split('\n')
  const start = lines.findIndex((l) => l.startsWith(from))
  assert.ok(start >= 0, `help has a "${from}" section`)
  const end = lines.findIndex((l, i) => i > start && l.trim() === '')
  return lines.slice(start + 1, end < 0 ? undefined : end)
}

test('query --help: every filter in the Filters table parses as written', () => {
  const table = section(helpText(), 'Filters (--where)').filter((l) => l.startsWith('  '))
  const filters = table.flatMap((l) => l.trim().split(/\s{2,}/))
  assert.ok(filters.length >= 14, filters.join(' | '))
  for (const f of filters) assert.doesNotThrow(() => parseFilter(f), f)
})

test('query --help: every bracketed CloudWatch pattern parses as written', () => {
  const text = section(helpText(), 'CloudWatch patterns').join('\n')
  const patterns = [...text.matchAll(/\[[^\]]*\]/g)].map((m) => m[0].replace(/\s+/g, ' '))
  assert.ok(patterns.length >= 4, patterns.join(' | '))
  for (const p of patterns) assert.doesNotThrow(() => parseCloudWatchPattern(p, '--pattern'), p)
})

test('query --help: every --where and --pattern of the examples parses as written', () => {
  const examples = section(helpText(), 'Examples:').join('\n')
  const uses = [...examples.matchAll(/--(where|pattern) '([^']*)'/g)]
  assert.ok(uses.length >= 3)
  for (const [, option, value = ''] of uses) {
    assert.doesNotThrow(
      () => (option === 'where' ? parseFilter(value) : parseCloudWatchPattern(value, '--pattern')),
      value,
    )
  }
})

test('a time range whose end is a time of day is on the start date, in the zone written once', () => {
  const matcher = (f: string) => {
    const node = parseFilter(f, { zone: 'Asia/Seoul' })
    assert.equal(node.kind, 'match')
    return node.matcher
  }
  assert.deepEqual(
    matcher('time=2024-06-01T12:00..12:30Z'),
    matcher('time=2024-06-01T12:00Z..2024-06-01T12:30Z'),
  )
  assert.deepEqual(matcher('time=2024-06-01T12:00..12:30Z'), {
    kind: 'range',
    low: 1717243200,
    high: 1717245000,
  })
})
