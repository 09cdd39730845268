import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { runFlowlog } from '../support/cli.js'

const COMMANDS = [
  'validate',
  'replay',
  'run',
  'sg',
  'spool',
  'query',
  'sql',
  'report',
  'detect',
  'audit',
  'what-if',
  'export-config',
  'datastore',
]

describe('flowlog <command> --help', () => {
  for (const command of COMMANDS) {
    test(`${command}: usage and options, every default in words`, () => {
      const r = runFlowlog([command, '--help'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, new RegExp(`^Usage: flowlog ${command} `, 'm'))
      assert.match(r.stdout, /^Options:$/m)
      // An empty list shown as a default says nothing to a user (Commander's "(default: [])").
      assert.doesNotMatch(r.stdout, /\(default: \[\]\)/)
    })
  }
})

describe('flowlog --version and --help', () => {
  test('--version and -V print the version alone', () => {
    for (const flag of ['--version', '-V']) {
      const r = runFlowlog([flag])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/)
    }
  })

  test('--help lists every command', () => {
    const r = runFlowlog(['--help'])
    assert.equal(r.code, 0, r.stderr)
    for (const command of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${command}\\b`, 'm'), command)
  })
})
