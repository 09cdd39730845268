import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createLogger } from '../ops/logger.js'
import { BRIDGE_SYSCTLS, BridgeSysctls } from './bridge-sysctls.js'

/** A stand-in for /proc/sys with br_netfilter's switches at `value` (or without them). */
function fakeProc(value: string | null): { root: string; read: () => string[]; state: string } {
  const root = mkdtempSync(join(tmpdir(), 'flowlog-sysctl-'))
  mkdirSync(join(root, 'net', 'bridge'), { recursive: true })
  if (value !== null)
    for (const name of BRIDGE_SYSCTLS) writeFileSync(join(root, ...name.split('.')), `${value}\n`)
  return {
    root,
    read: () => BRIDGE_SYSCTLS.map((name) => readFileSync(join(root, ...name.split('.')), 'utf8').trim()),
    state: join(root, 'state'),
  }
}

const quiet = createLogger({ level: 'silent' })

test('the switches are turned on while enforcing and put back as they were', (t) => {
  const proc = fakeProc('0')
  t.after(() => rmSync(proc.root, { recursive: true, force: true }))
  const sysctls = new BridgeSysctls(proc.state, 'flowlog', quiet, proc.root)
  sysctls.enable()
  assert.deepEqual(proc.read(), ['1', '1'])
  assert.ok(existsSync(sysctls.stateFile), 'the originals are on disk before anything changes')
  sysctls.restore()
  assert.deepEqual(proc.read(), ['0', '0'])
  assert.equal(existsSync(sysctls.stateFile), false)
})

test('after a crash, the next start restores the originals from the state file', (t) => {
  const proc = fakeProc('0')
  t.after(() => rmSync(proc.root, { recursive: true, force: true }))
  new BridgeSysctls(proc.state, 'flowlog', quiet, proc.root).enable()
  // The process died here: nothing restored.
  assert.deepEqual(proc.read(), ['1', '1'])
  const next = new BridgeSysctls(proc.state, 'flowlog', quiet, proc.root)
  assert.equal(next.recover(), true)
  assert.deepEqual(proc.read(), ['0', '0'])
  assert.equal(next.recover(), false, 'nothing left to recover')
})

test('without br_netfilter enforce mode refuses, naming the missing kernel feature', (t) => {
  const proc = fakeProc(null)
  t.after(() => rmSync(proc.root, { recursive: true, force: true }))
  const sysctls = new BridgeSysctls(proc.state, 'flowlog', quiet, proc.root)
  assert.throws(
    () => sysctls.enable(),
    /br_netfilter.*net\.bridge\.bridge-nf-call-iptables.*modprobe br_netfilter/,
  )
  assert.equal(existsSync(sysctls.stateFile), false)
})
