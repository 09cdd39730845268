import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { listFiles, runFlowlog } from '../support/cli.js'
import { repoPath } from '../support/paths.js'

/**
 * detect, audit, what-if and report give the same output on the same records whether they are
 * gzip text (read by flowlog's reader) or Parquet (which audit and what-if sort, and detect
 * groups, inside DuckDB's own scan of the files). The quick start's capture is replayed into two
 * flow logs of the same fields, one text and one Parquet, and every command runs on each.
 */
const QUICKSTART = repoPath('examples/quickstart/network.yaml')
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
