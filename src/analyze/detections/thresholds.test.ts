import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { InputError } from '../../core/errors.js'
import { DEFAULT_THRESHOLDS, loadThresholds } from './thresholds.js'

const dir = mkdtempSync(join(tmpdir(), 'flowlog-thresholds-'))
const file = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

test('thresholds: defaults without a file or flags', () => {
  assert.deepEqual(loadThresholds(undefined), DEFAULT_THRESHOLDS)
})

test('thresholds: a file sets some keys, --set wins over it, the rest stay default', () => {
  const path = file('t.yaml', 'portScan:\n  minPorts: 25\nignoreSources: [10.0.0.5]\n')
  const t = loadThresholds(path, ['portScan.minPorts=30', 'bruteForce.sshPorts=22,2222'])
  assert.equal(t.portScan.minPorts, 30)
  assert.equal(t.portScan.windowSeconds, DEFAULT_THRESHOLDS.portScan.windowSeconds)
  assert.deepEqual(t.ignoreSources, ['10.0.0.5/32'])
  assert.deepEqual(t.bruteForce.sshPorts, [22, 2222])
})

const bad: { name: string; text?: string; set?: string[]; message: RegExp }[] = [
  {
    name: 'unknown key, with a suggestion',
    text: 'portScan:\n  minPort: 3\n',
    message: /portScan\.minPort: unknown key \(did you mean "minPorts"\?\)/,
  },
  {
    name: 'a share above 1',
    set: ['sweep.minRejectedShare=2'],
    message: /sweep\.minRejectedShare: 2 is above 1/,
  },
  {
    name: 'not a number',
    set: ['rejectBurst.minPackets=lots'],
    message: /rejectBurst\.minPackets: "lots" is not a number/,
  },
  {
    name: 'a bad CIDR',
    text: 'ignoreSources: [10.0.0.300]\n',
    message: /ignoreSources\[0\]: "10\.0\.0\.300" is not an IPv4 or IPv6 CIDR/,
  },
  {
    name: 'not key=value',
    set: ['portScan.minPorts'],
    message: /--set: "portScan\.minPorts" is not key=value/,
  },
  { name: 'YAML syntax', text: 'portScan: [\n', message: /t-bad\.yaml:\d+:\d+:/ },
]

for (const c of bad) {
  test(`thresholds: refused: ${c.name}`, () => {
    const path = c.text === undefined ? undefined : file('t-bad.yaml', c.text)
    assert.throws(
      () => loadThresholds(path, c.set ?? []),
      (e: unknown) => e instanceof InputError && c.message.test(e.message),
    )
  })
}
