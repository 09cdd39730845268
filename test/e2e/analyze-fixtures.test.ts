import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { runFlowlog } from '../support/cli.js'
import { repoPath } from '../support/paths.js'

/**
 * detect and audit through the real CLI on the crafted flow logs of test/fixtures/analysis
 * (make-fixtures.py): each detection finds its own traffic and nothing else, normal traffic raises
 * nothing, and all of them together give one finding per case.
 */
const LOGS = repoPath('test/fixtures/analysis/logs')
const NETWORK = repoPath('test/fixtures/analysis/network.yaml')
const flowlog = (...args: string[]) => runFlowlog([...args, '--no-summary'])

interface Finding {
  detection: string
  severity: string
  source: string
  evidence: { counts: Record<string, number> }
  suggestions: { kind: string; text: string }[]
}
const detect = (...args: string[]): Finding[] => {
  const run = flowlog('detect', '--format', 'json', ...args)
  assert.equal(run.code, 0, run.stderr)
  return (JSON.parse(run.stdout) as { findings: Finding[] }).findings
}

const cases: { dir: string; detection: string; source: string; counts: Record<string, number> }[] = [
  {
    dir: 'port-scan',
    detection: 'port-scan',
    source: '198.51.100.66',
    counts: { ports: 120, hosts: 1, open: 2 },
  },
  {
    dir: 'ssh-brute-force',
    detection: 'ssh-brute-force',
    source: '203.0.113.99',
    counts: { attempts: 30, accepted: 30 },
  },
  {
    dir: 'rdp-brute-force',
    detection: 'rdp-brute-force',
    source: '192.0.2.77',
    counts: { attempts: 25, rejected: 25 },
  },
  { dir: 'sweep', detection: 'sweep', source: '192.0.2.44', counts: { hosts: 40, ports: 1 } },
  { dir: 'reject-burst', detection: 'reject-burst', source: '198.51.100.90', counts: { buckets: 1 } },
  { dir: 'egress-volume', detection: 'egress-volume', source: '10.0.2.40', counts: { destinations: 1 } },
]

describe('flowlog detect on crafted traffic', () => {
  test('normal traffic raises nothing', () => {
    assert.deepEqual(detect(join(LOGS, 'normal')), [])
  })

  for (const c of cases) {
    test(`${c.dir}: exactly one ${c.detection} finding, with evidence and a block`, () => {
      const findings = detect(join(LOGS, c.dir))
      assert.deepEqual(
        findings.map((f) => `${f.detection} ${f.source}`),
        [`${c.detection} ${c.source}`],
      )
      const f = findings[0]!
      for (const [k, v] of Object.entries(c.counts)) assert.equal(f.evidence.counts[k], v, k)
      assert.ok(f.suggestions.some((s) => s.kind === 'nacl'))
    })
  }

  test('all cases together, over normal traffic: one finding each, nothing else', () => {
    const findings = detect(LOGS)
    assert.deepEqual(
      findings.map((f) => `${f.detection} ${f.source}`).sort(),
      cases.map((c) => `${c.detection} ${c.source}`).sort(),
    )
  })

  test('with the config, the brute force names the rule that let it in', () => {
    const [f] = detect('--config', NETWORK, join(LOGS, 'ssh-brute-force'))
    assert.ok(
      f?.suggestions.some(
        (s) =>
          s.kind === 'security-group' &&
          s.text.includes('sgr-web-ssh (sg-web inbound tcp 22 from 0.0.0.0/0)'),
      ),
    )
  })

  test('thresholds from flags and a file; --only; --fail-on-findings', () => {
    assert.deepEqual(detect('--set', 'bruteForce.minAttempts=31', join(LOGS, 'ssh-brute-force')), [])
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-detect-'))
    const file = join(dir, 'thresholds.yaml')
    writeFileSync(file, 'ignoreSources: [192.0.2.0/24]\n')
    assert.deepEqual(detect('--thresholds', file, join(LOGS, 'sweep')), [])
    assert.deepEqual(detect('--only', 'port-scan', join(LOGS, 'sweep')), [])
    assert.equal(flowlog('detect', '--fail-on-findings', join(LOGS, 'sweep')).code, 3)
    assert.equal(flowlog('detect', '--fail-on-findings', join(LOGS, 'normal')).code, 0)
    rmSync(dir, { recursive: true, force: true })
  })

  test('the table output: summary, evidence, samples, blocks', () => {
    const run = flowlog('detect', join(LOGS, 'rdp-brute-force'))
    assert.match(
      run.stdout,
      /^1 finding\(s\) in 27 record\(s\)\n\n1\. \[medium\] rdp-brute-force: 192\.0\.2\.77 made 25 RDP attempts on 10\.0\.1\.11:3389 in 8 min/,
    )
    assert.match(
      run.stdout,
      /\n {3}sample {4}2024-06-02T00:40:00Z eni-web2 192\.0\.2\.77:49152 -> 10\.0\.1\.11:3389 tcp 3 pkt 156 B REJECT\n/,
    )
    assert.match(
      run.stdout,
      /\n {3}block {5}\[nftables\] nft insert rule inet filter input ip saddr 192\.0\.2\.77 drop\n/,
    )
  })

  test('bad thresholds exit 1 and name the key', () => {
    const run = flowlog('detect', '--set', 'portScan.minPort=3', join(LOGS, 'normal'))
    assert.equal(run.code, 1)
    assert.match(run.stderr, /portScan\.minPort: unknown key \(did you mean "minPorts"\?\)/)
    const only = flowlog('detect', '--only', 'portscan', join(LOGS, 'normal'))
    assert.equal(only.code, 1)
    assert.match(only.stderr, /--only: "portscan" is not a detection/)
  })
})

describe('flowlog audit on crafted normal traffic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-audit-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  const least = join(dir, 'least.yaml')
  const run = flowlog('audit', '--config', NETWORK, '--write-groups', least, join(LOGS, 'normal'))

  test('unused, shadowed, uncovered and exposed rules', () => {
    assert.equal(run.code, 0, run.stderr)
    assert.match(
      run.stdout,
      /sgr-db-admin \(sg-db inbound tcp 0-65535 from 10\.0\.0\.0\/8\): shadowed: sgr-db-pg accepted/,
    )
    assert.match(run.stdout, /Not judged.*\n {2}sgr-old-rdp /)
    assert.match(
      run.stdout,
      /sgr-web-ssh \(sg-web inbound tcp 22 from 0\.0\.0\.0\/0\): open to 0\.0\.0\.0\/0 on tcp 22 \(ssh\); carried \d+ record\(s\) from 1 address/,
    )
    assert.match(
      run.stdout,
      /sgr-bak-out \(sg-bak outbound tcp 443 to 0\.0\.0\.0\/0\)\n +destination 0\.0\.0\.0\/0 → 198\.51\.100\.200\/32/,
    )
  })

  test('public web rules stay open: their clients are too many to list', () => {
    assert.doesNotMatch(run.stdout, /sgr-web-https \(sg-web inbound tcp 443 from 0\.0\.0\.0\/0\)\n +source/)
  })

  test('the least-privilege groups validate as a proposal and change no verdict', () => {
    const text = readFileSync(least, 'utf8')
    assert.match(text, /^# Least-privilege security groups/)
    const whatIf = flowlog(
      'what-if',
      '--config',
      NETWORK,
      '--groups',
      least,
      '--fail-on-change',
      join(LOGS, 'normal'),
    )
    assert.equal(whatIf.code, 0, whatIf.stdout + whatIf.stderr)
  })
})
