import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { after, describe, test } from 'node:test'
import { liveScratchDirs, makeScratchDir, removeScratchDir } from './scratch-dirs.js'

const MODULE = new URL('./scratch-dirs.js', import.meta.url).href
const work = mkdtempSync(join(tmpdir(), 'flowlog-scratch-test-'))
after(() => rmSync(work, { recursive: true, force: true }))

/** Runs a module script in a process of its own whose TMPDIR is a fresh directory; what it left there. */
function runScript(name: string, body: string) {
  const tmp = join(work, name)
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp)
  const script = `import { makeScratchDir, removeScratchDir } from ${JSON.stringify(MODULE)}\n${body}`
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, TMPDIR: tmp },
    encoding: 'utf8',
    timeout: 20_000,
  })
  return { status: result.status, signal: result.signal, stderr: result.stderr, left: readdirSync(tmp) }
}

/** A scratch directory with a file in it, as a staging directory has. */
const FILLED = `import { writeFileSync } from 'node:fs'
const dir = makeScratchDir('flowlog-test-')
writeFileSync(dir + '/staged.tsv', 'a\\tb\\n')
makeScratchDir('flowlog-test-spill-')
`

describe('scratch directories', () => {
  test('are made under the temporary directory and removed with their contents', () => {
    const dir = makeScratchDir('flowlog-unit-')
    assert.equal(dirname(dir), tmpdir())
    assert.match(basename(dir), /^flowlog-unit-.{6}$/)
    writeFileSync(join(dir, 'staged.tsv'), 'x\n')
    assert.deepEqual(liveScratchDirs(), [dir])
    removeScratchDir(dir)
    assert.equal(existsSync(dir), false)
    assert.deepEqual(liveScratchDirs(), [])
  })

  test('listen to SIGINT and SIGTERM only while a directory exists', () => {
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]
    const a = makeScratchDir('flowlog-unit-')
    const b = makeScratchDir('flowlog-unit-')
    assert.deepEqual(
      [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')],
      [before[0]! + 1, before[1]! + 1],
    )
    removeScratchDir(a)
    assert.equal(process.listenerCount('SIGINT'), before[0]! + 1)
    removeScratchDir(b)
    assert.deepEqual([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')], before)
  })

  test('leave a signal that someone else stops on to them (run, console)', async () => {
    const dir = makeScratchDir('flowlog-unit-')
    const stopped = new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()))
    // Signal handles do not keep the event loop alive: this does, until the signal is in.
    const alive = setInterval(() => {}, 1000)
    process.kill(process.pid, 'SIGTERM')
    await stopped
    clearInterval(alive)
    assert.equal(existsSync(dir), true)
    removeScratchDir(dir)
  })

  test('go when the process ends normally, by process.exit or by an uncaught error', () => {
    for (const [name, end, status] of [
      ['normal', '', 0],
      ['exit', 'process.exit(3)', 3],
      ['throw', "throw new Error('boom')", 1],
    ] as const) {
      const run = runScript(name, `${FILLED}${end}\n`)
      assert.equal(run.status, status, `${name}: ${run.stderr}`)
      assert.deepEqual(run.left, [], name)
    }
  })

  test('go on SIGINT and SIGTERM, and the process ends as killed by the signal', () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const run = runScript(
        signal,
        `${FILLED}setInterval(() => {}, 1000)\nprocess.kill(process.pid, '${signal}')\n`,
      )
      assert.equal(run.signal, signal, `${signal}: exit ${run.status} ${run.stderr}`)
      assert.deepEqual(run.left, [], signal)
    }
  })

  test('a removed directory is not removed again at exit (a new one of its name is not touched)', () => {
    const run = runScript(
      'reused',
      `import { mkdirSync } from 'node:fs'
const dir = makeScratchDir('flowlog-test-')
removeScratchDir(dir)
mkdirSync(dir)
`,
    )
    assert.equal(run.status, 0, run.stderr)
    assert.equal(run.left.length, 1)
  })
})
