import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { runFlowlog } from '../support/cli.js'
import { repoPath } from '../support/paths.js'

/**
 * detect, audit and what-if give, byte for byte, the JSON they gave before they were rewritten to
 * scale (issue 14: records sorted and aggregated by DuckDB, bounded state in JavaScript). The
 * golden files in test/fixtures/analysis/golden were written by the earlier, all-in-memory
 * implementation on the crafted fixtures and on the quick start's flow logs; one what-if output
 * is large (its changes name thousands of flows), so its SHA-256 stands in for it.
 */
const GOLDEN = repoPath('test/fixtures/analysis/golden')
const LOGS = repoPath('test/fixtures/analysis/logs')
const NETWORK = repoPath('test/fixtures/analysis/network.yaml')
const QUICKSTART = repoPath('examples/quickstart/network.yaml')
const dir = mkdtempSync(join(tmpdir(), 'flowlog-e2e-golden-'))
const quickstart = join(dir, 'out')

before(() => {
  const r = runFlowlog([
    'replay',
    '--config',
    QUICKSTART,
    '--out',
    quickstart,
    repoPath('examples/quickstart/traffic.pcap'),
  ])
  assert.equal(r.code, 0, r.stderr)
})
after(() => rmSync(dir, { recursive: true, force: true }))

function json(...args: string[]): string {
  const r = runFlowlog([...args, '--format', 'json', '--no-summary', '--no-progress'])
  assert.equal(r.code, 0, r.stderr)
  return r.stdout
}

const golden = (name: string) => readFileSync(join(GOLDEN, name), 'utf8')

describe('analysis outputs are those of the in-memory implementation', () => {
  test('detect on the crafted fixtures, with the config', () => {
    assert.equal(json('detect', '--config', NETWORK, LOGS), golden('detect.json'))
  })
  test('detect on the quick start', () => {
    assert.equal(json('detect', quickstart), golden('detect-quickstart.json'))
  })
  test('audit (re-judged) on the crafted fixtures', () => {
    assert.equal(json('audit', '--config', NETWORK, LOGS), golden('audit.json'))
  })
  test('audit on the quick start', () => {
    assert.equal(json('audit', '--config', QUICKSTART, quickstart), golden('audit-quickstart.json'))
  })
  test('what-if on the crafted fixtures, a proposal that changes thousands of flows', () => {
    const out = json('what-if', '--config', NETWORK, '--groups', join(GOLDEN, 'proposed.yaml'), LOGS)
    assert.equal(createHash('sha256').update(out).digest('hex'), golden('what-if.json.sha256').trim())
  })
  test('what-if and audit write the same JSON to a file (--output), piece by piece', () => {
    const file = join(dir, 'what-if.json')
    const r = runFlowlog([
      'what-if',
      '--config',
      NETWORK,
      '--groups',
      join(GOLDEN, 'proposed.yaml'),
      '--format',
      'json',
      '--output',
      file,
      '--no-summary',
      '--no-progress',
      LOGS,
    ])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '')
    const written = readFileSync(file)
    assert.equal(createHash('sha256').update(written).digest('hex'), golden('what-if.json.sha256').trim())
    const audited = join(dir, 'audit.json')
    const a = runFlowlog([
      'audit',
      '--config',
      NETWORK,
      '-f',
      'json',
      '-o',
      audited,
      '--no-summary',
      '--no-progress',
      LOGS,
    ])
    assert.equal(a.code, 0, a.stderr)
    assert.equal(readFileSync(audited, 'utf8'), golden('audit.json'))
  })
  test('an audit whose DuckDB runs out of memory before any record is replayed tries again with more, and says so', () => {
    // 8 MB is far too little for DuckDB's work on the records (loading, placing, sorting): it fails,
    // then succeeds on a larger share before a record is counted, so the output is the golden one.
    const r = runFlowlog(
      ['audit', '--config', NETWORK, '--format', 'json', '--no-summary', '--no-progress', LOGS],
      { env: { FLOWLOG_DUCKDB_MEMORY: '8MB' } },
    )
    assert.equal(r.code, 0, r.stderr)
    assert.match(
      r.stderr,
      /DuckDB needed more than its memory share for the records; trying again with 16 MB/,
    )
    assert.equal(r.stdout, golden('audit.json'))
  })
  test('what-if on the quick start', () => {
    const proposal = join(GOLDEN, 'proposed-quickstart.yaml')
    assert.equal(
      json('what-if', '--config', QUICKSTART, '--groups', proposal, quickstart),
      golden('what-if-quickstart.json'),
    )
  })
  test('what-if --rule-changes with the least-privilege groups of the quick start', () => {
    const proposal = join(GOLDEN, 'least-privilege-quickstart.yaml')
    assert.equal(
      json('what-if', '--rule-changes', '--config', QUICKSTART, '--groups', proposal, quickstart),
      golden('what-if-rule-changes-quickstart.json'),
    )
  })
})
