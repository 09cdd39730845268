import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { DuckDBInstance } from '@duckdb/node-api'
import { listFiles, runFlowlog } from '../support/cli.js'
import { repoPath } from '../support/paths.js'

/**
 * detect, audit, what-if and report give the same output on the same records whether they are
 * gzip text (read by flowlog's reader) or Parquet (which audit and what-if sort, and detect
 * groups, inside DuckDB's own scan of the files). The quick start's capture is replayed into two
 * flow logs of the same fields, one text and one Parquet, and every command runs on each.
 */
const QUICKSTART = repoPath('examples/quickstart/network.yaml')
const NETWORK = repoPath('test/fixtures/analysis/network.yaml')
const LOGS = repoPath('test/fixtures/analysis/logs')
/** The crafted fixtures in AWS text (the others are NHN CSV and JSONL). */
const CRAFTED = ['normal', 'port-scan', 'ssh-brute-force', 'reject-burst', 'egress-volume'].map((n) =>
  join(LOGS, n, `${n}.txt`),
)
const GOLDEN = repoPath('test/fixtures/analysis/golden')
/** One format for both flow logs: the default fields, then direction, TCP flags and packet addresses. */
const FIELDS =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status flow-direction tcp-flags pkt-srcaddr pkt-dstaddr'
    .split(' ')
    .map((f) => `\${${f}}`)
    .join(' ')
const dir = mkdtempSync(join(tmpdir(), 'flowlog-e2e-analysis-parquet-'))
const out = join(dir, 'out')
let text: string[] = []
let parquet: string[] = []

before(() => {
  const config = join(dir, 'network.yaml')
  const flowLog = (id: string, format: string) => `
  - id: ${id}
    resource: vpc-0a1
    trafficType: ALL
    aggregationInterval: 60
    logFormat: "${FIELDS}"
    fileFormat: ${format}
    destination: file:///unused
    layout: aws
`
  const base = readFileSync(QUICKSTART, 'utf8').replace(/\nflowLogs:\n[\s\S]*$/, '\nflowLogs:')
  writeFileSync(config, `${base}${flowLog('fl-text', 'text')}${flowLog('fl-parquet', 'parquet')}`)
  const r = runFlowlog([
    'replay',
    '--config',
    config,
    '--out',
    out,
    repoPath('examples/quickstart/traffic.pcap'),
  ])
  assert.equal(r.code, 0, r.stderr)
  const files = listFiles(out).map((f) => join(out, f))
  text = files.filter((f) => f.includes('fl-text'))
  parquet = files.filter((f) => f.includes('fl-parquet'))
  assert.ok(text.length >= 2, `text files: ${text.join(' ')}`)
  assert.equal(parquet.length, text.length)
  assert.ok(parquet.every((f) => f.endsWith('.parquet')))
})
after(() => rmSync(dir, { recursive: true, force: true }))

/** The command's JSON on one set of files, and its summary line. */
function run(args: readonly string[], files: readonly string[]): { json: string; summary: string } {
  const r = runFlowlog([...args, '--format', 'json', '--no-progress', ...files])
  assert.equal(r.code, 0, r.stderr)
  return { json: r.stdout, summary: r.stderr }
}

function same(args: readonly string[]): string {
  const a = run(args, text)
  const b = run(args, parquet)
  assert.equal(b.json, a.json, `${args.join(' ')}: Parquet and text differ`)
  // The read's summary counts the same records (files and bytes differ by format).
  const records = (s: string) => s.match(/[\d,]+ records?/)?.[0]
  assert.equal(records(b.summary), records(a.summary), `${b.summary} / ${a.summary}`)
  return a.json
}

describe('analyses give the same output on text and on Parquet', () => {
  test('detect, with the brute force found and the port scan grouped', () => {
    const json = same(['detect', '--config', QUICKSTART, '--set', 'bruteForce.minAttempts=10'])
    const detections = (JSON.parse(json) as { findings: { detection: string }[] }).findings.map(
      (f) => f.detection,
    )
    assert.ok(detections.includes('port-scan'), detections.join(' '))
    assert.ok(detections.includes('ssh-brute-force'), detections.join(' '))
  })
  test('audit', () => {
    const json = same(['audit', '--config', QUICKSTART])
    assert.ok((JSON.parse(json) as { placed: number }).placed > 100)
  })
  test('what-if', () => {
    const json = same([
      'what-if',
      '--config',
      QUICKSTART,
      '--groups',
      join(GOLDEN, 'least-privilege-quickstart.yaml'),
      '--rule-changes',
    ])
    assert.ok((JSON.parse(json) as { replayed: number }).replayed > 100)
  })
  test('report', () => {
    same(['report', '--config', QUICKSTART])
  })
  test('--since and --until keep the same records on both', () => {
    const window = ['--since', '2024-06-01T09:00:30Z', '--until', '2024-06-01T09:01:50Z']
    const all = JSON.parse(run(['audit', '--config', QUICKSTART], text).json) as { placed: number }
    const some = JSON.parse(same(['audit', '--config', QUICKSTART, ...window])) as { placed: number }
    assert.ok(some.placed > 0 && some.placed < all.placed, `${some.placed} of ${all.placed}`)
    same(['detect', '--config', QUICKSTART, ...window])
    same(['what-if', '--config', QUICKSTART, '--groups', join(GOLDEN, 'proposed-quickstart.yaml'), ...window])
  })
})

/**
 * The crafted fixtures' AWS text files converted to Parquet by DuckDB: with the types DuckDB reads
 * (numbers as integers: audit and what-if sort in DuckDB's scan of the files) and with every column
 * text (a start that is not a number cannot be sorted there: the reader's scan and the staged sort).
 */
async function craftedParquet(allText: boolean): Promise<string[]> {
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  try {
    const files: string[] = []
    for (const source of CRAFTED) {
      const target = join(dir, `${allText ? 'text-' : ''}${source.split('/').pop()}.parquet`)
      await connection.run(
        `COPY (SELECT * FROM read_csv('${source}', delim = ' ', header = true, nullstr = '-', all_varchar = ${allText})) TO '${target}' (FORMAT parquet)`,
      )
      files.push(target)
    }
    return files
  } finally {
    connection.closeSync()
    instance.closeSync()
  }
}

describe('the crafted fixtures give the same output as text and as Parquet', () => {
  for (const allText of [false, true]) {
    const kind = allText ? 'every column text' : 'typed columns'
    test(`detect, audit and what-if (${kind})`, async () => {
      const files = await craftedParquet(allText)
      const twice = (args: readonly string[]) => {
        const a = run(args, CRAFTED)
        const b = run(args, files)
        assert.equal(b.json, a.json, `${args.join(' ')}: Parquet (${kind}) and text differ`)
        return JSON.parse(a.json) as Record<string, unknown>
      }
      const found = twice(['detect', '--config', NETWORK]) as { findings: unknown[] }
      assert.ok(found.findings.length >= 3)
      const audited = twice(['audit', '--config', NETWORK]) as { placed: number }
      assert.ok(audited.placed > 4000)
      const changed = twice(['what-if', '--config', NETWORK, '--groups', join(GOLDEN, 'proposed.yaml')]) as {
        changedRecords: number
      }
      assert.ok(changed.changedRecords > 100)
    })
  }
})
