import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InputError } from '../core/errors.js'
import { EXIT, reportError } from './run-action.js'

function stderrOf(error: unknown): { code: number; lines: string[] } {
  const lines: string[] = []
  const original = console.error
  console.error = (...args: unknown[]) => lines.push(args.join(' '))
  try {
    return { code: reportError(error), lines }
  } finally {
    console.error = original
  }
}

test('a config error that lists its problems in its message prints each problem once', () => {
  const problems = ['flowLogs[0].aggregationInterval: 1000 is not in 1..900', 'region: "" is not a valid id']
  const error = new InputError(
    `net.yaml is not a valid flowlog config (2 problems):\n  ${problems.join('\n  ')}`,
    problems,
  )
  const { code, lines } = stderrOf(error)
  assert.equal(code, EXIT.BAD_INPUT)
  const text = lines.join('\n')
  for (const p of problems) assert.equal(text.split(p).length - 1, 1, `${p} printed once in:\n${text}`)
})

test('problems that the message does not name are listed under it', () => {
  const { code, lines } = stderrOf(
    new InputError('2 filters are bad', ['--where "a": no', '--where "b": no']),
  )
  assert.equal(code, EXIT.BAD_INPUT)
  assert.deepEqual(lines, ['flowlog: 2 filters are bad', '  - --where "a": no', '  - --where "b": no'])
})

test('a single problem that is the message is printed once', () => {
  const { lines } = stderrOf(new InputError('--limit: "x" is not a number'))
  assert.deepEqual(lines, ['flowlog: --limit: "x" is not a number'])
})

test('anything else is a runtime failure (exit 2)', () => {
  const { code, lines } = stderrOf(new Error('disk full'))
  assert.equal(code, EXIT.FAILURE)
  assert.deepEqual(lines, ['flowlog: disk full'])
})
