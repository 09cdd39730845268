import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { runFlowlog } from '../support/cli.js'
import { repoPath } from '../support/paths.js'

/**
 * An analysis stopped by Ctrl-C or `kill` leaves nothing in the temporary directory: its staging
 * files and DuckDB's spill go with it, and it ends as killed by the signal (a shell's $? is 130 or
 * 143). Each run gets a TMPDIR of its own, which must be empty afterwards.
 */
const work = mkdtempSync(join(tmpdir(), 'flowlog-e2e-scratch-'))
after(() => rmSync(work, { recursive: true, force: true }))

const RECORDS = 300_000
const logs = join(work, 'logs')
const network = join(work, 'network.yaml')
writeRecords(logs, RECORDS)
writeFileSync(
  network,
  `account: "123456789012"
region: us-east-1
vpcs:
  - id: vpc-test
    cidrs: [10.0.0.0/16]
    subnets: [{ id: subnet-test, cidrs: [10.0.0.0/24] }]
securityGroups:
  - id: sg-test
    vpc: vpc-test
    inbound: [{ id: web, protocol: tcp, ports: "443", source: 0.0.0.0/0 }]
    outbound: [{ id: out, protocol: all, destination: 0.0.0.0/0 }]
interfaces:
${[0, 1, 2, 3].map((i) => `  - { id: eni-0000000${i}, subnet: subnet-test, addresses: [10.0.0.${10 + i}], securityGroups: [sg-test] }`).join('\n')}
`,
)

let runs = 0
/** A fresh directory for a run's TMPDIR. */
function freshTmp(): string {
  const dir = join(work, `tmp-${runs++}`)
  mkdirSync(dir)
  return dir
}

const scratchIn = (dir: string) => readdirSync(dir).filter((name) => name.startsWith('flowlog-'))

/**
 * Starts `flowlog args` with its own TMPDIR, waits until it has made a scratch directory there and
 * written into it, sends `signal`, and resolves how the process ended.
 */
async function interrupt(
  args: readonly string[],
  signal: NodeJS.Signals,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; tmp: string }> {
  const tmp = freshTmp()
  const child = spawn(process.execPath, [repoPath('bin/flowlog.js'), ...args], {
    cwd: repoPath(),
    env: { ...process.env, TMPDIR: tmp, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  try {
    const deadline = Date.now() + 20_000
    // A scratch directory with something in it: the command is reading into it.
    while (!scratchIn(tmp).some((name) => readdirSync(join(tmp, name)).length > 0)) {
      if (child.exitCode !== null || Date.now() > deadline) break
      await sleep(20)
    }
    assert.equal(child.exitCode, null, `flowlog ${args[0]} ended before it could be stopped: ${stderr}`)
    child.kill(signal)
    return { ...(await ended), stderr, tmp }
  } finally {
    // A failed assertion leaves no process behind.
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await ended
    }
  }
}

describe('scratch directories', () => {
  test('Ctrl-C (SIGINT) during sql removes its staging and spill directories', async () => {
    const run = await interrupt(['sql', 'SELECT count(*) AS n FROM flows', logs, '--no-progress'], 'SIGINT')
    assert.equal(run.signal, 'SIGINT', `ended with code ${run.code}: ${run.stderr}`)
    assert.deepEqual(scratchIn(run.tmp), [])
  })

  test('SIGTERM during audit removes its scratch directories', async () => {
    const run = await interrupt(['audit', '--config', network, logs, '--no-progress'], 'SIGTERM')
    assert.equal(run.signal, 'SIGTERM', `ended with code ${run.code}: ${run.stderr}`)
    assert.deepEqual(scratchIn(run.tmp), [])
  })

  test('console keeps its graceful stop on SIGINT, and its scratch directories go at its exit', async () => {
    const tmp = freshTmp()
    const small = join(work, 'console.log')
    writeFileSync(small, recordLines(0, 1000))
    const child = spawn(
      process.execPath,
      [repoPath('bin/flowlog.js'), 'console', '--listen', '127.0.0.1:0', small],
      {
        cwd: repoPath(),
        env: { ...process.env, TMPDIR: tmp },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    )
    try {
      let out = ''
      const base = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString()
          const url = /http:\/\/[^/\s]+/.exec(out)
          if (url !== null) resolve(url[0])
        })
        void ended.then(({ code }) => reject(new Error(`flowlog console exited with ${code}`)))
      })
      // The first answer loads the records into DuckDB: its staging and spill directories exist.
      const answer = await fetch(`${base}/v2.0/flowlog-analysis/summary`)
      assert.equal(answer.status, 200, await answer.text())
      assert.notDeepEqual(scratchIn(tmp), [])
      child.kill('SIGINT')
      assert.deepEqual(await ended, { code: 0, signal: null })
      assert.deepEqual(scratchIn(tmp), [])
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await ended
      }
    }
  })

  test('a finished run leaves nothing, standard input included', () => {
    const small = join(work, 'small.log')
    writeFileSync(small, recordLines(0, 1000))
    const runs: { args: string[]; input?: string }[] = [
      { args: ['sql', 'SELECT count(*) AS n FROM flows', small] },
      { args: ['audit', '--config', network, small] },
      { args: ['query', '-', '--count'], input: recordLines(0, 1000) },
    ]
    for (const { args, input } of runs) {
      const tmp = freshTmp()
      const result = runFlowlog(args, { env: { TMPDIR: tmp }, ...(input === undefined ? {} : { input }) })
      assert.equal(result.code, 0, `${args[0]}: ${result.stderr}`)
      assert.deepEqual(scratchIn(tmp), [], args[0])
    }
  })
})

/** `records` AWS default-format records in four files, to 4 interfaces from many clients. */
function writeRecords(dir: string, records: number): void {
  mkdirSync(dir)
  const perFile = Math.ceil(records / 4)
  for (let f = 0; f < 4; f++) writeFileSync(join(dir, `part-${f}.log`), recordLines(f * perFile, perFile))
}

/** Records `first` to `first + count - 1`, with the header line. */
function recordLines(first: number, count: number): string {
  const start = Date.UTC(2024, 5, 1) / 1000
  const lines = [
    'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
  ]
  for (let n = first; n < first + count; n++) {
    const eni = n % 4
    const client = `198.18.${(n >> 8) & 255}.${(n & 255) + 1}`
    const port = n % 7 === 0 ? 22 : 443
    const action = port === 22 ? 'REJECT' : 'ACCEPT'
    const t = start + Math.floor(n / 100)
    lines.push(
      `2 123456789012 eni-0000000${eni} ${client} 10.0.0.${10 + eni} ${32768 + (n % 28000)} ${port} 6 ${1 + (n % 9)} ${100 + (n % 1400)} ${t} ${t + 5} ${action} OK`,
    )
  }
  return `${lines.join('\n')}\n`
}
