import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { runFlowlog } from '../support/cli.js'
import { repoPath } from '../support/paths.js'

/**
 * What the README and the quick-start config promise about analysing `npm start`'s output: detect
 * finds the scanner with the documented defaults and its SSH attempts with the setting the text
 * names; audit keeps the public web rules, proposes nothing for DNS to the VPC resolver, and its
 * least-privilege groups change no verdict of the same records.
 */
const NET = repoPath('examples/quickstart/network.yaml')
const dir = mkdtempSync(join(tmpdir(), 'flowlog-e2e-quickstart-'))
const out = join(dir, 'out')
before(() => {
  const r = runFlowlog([
    'replay',
    '--config',
    NET,
    '--out',
    out,
    repoPath('examples/quickstart/traffic.pcap'),
  ])
  assert.equal(r.code, 0, r.stderr)
})
after(() => rmSync(dir, { recursive: true, force: true }))

interface Finding {
  detection: string
  source: string
  evidence: { counts: Record<string, number> }
}
const detect = (...args: string[]): Finding[] => {
  const r = runFlowlog(['detect', '--format', 'json', '--no-summary', ...args, out])
  assert.equal(r.code, 0, r.stderr)
  return (JSON.parse(r.stdout) as { findings: Finding[] }).findings
}

describe('the quick start, analysed as its text says', () => {
  test('detect with the defaults: the port scan; with bruteForce.minAttempts=10, its SSH attempts too', () => {
    const defaults = detect()
    assert.deepEqual(
      defaults.map((f) => `${f.detection} ${f.source}`),
      ['port-scan 198.51.100.66'],
    )
    const lower = detect('--set', 'bruteForce.minAttempts=10')
    const ssh = lower.find((f) => f.detection === 'ssh-brute-force')
    assert.equal(ssh?.source, '198.51.100.66')
    const attempts = ssh?.evidence.counts.attempts ?? 0
    // The text gives the number; it must stay true, and below the default of 20.
    assert.match(readFileSync(NET, 'utf8'), new RegExp(`\\(${attempts} attempts in 2 minutes`))
    assert.ok(attempts >= 10 && attempts < 20, String(attempts))
  })

  test('audit --write-groups keeps the public web rules, proposes nothing for DNS, and changes no verdict', () => {
    const least = join(dir, 'least.yaml')
    const a = runFlowlog(['audit', '--config', NET, '--write-groups', least, '--no-summary', out])
    assert.equal(a.code, 0, a.stderr)
    const yaml = readFileSync(least, 'utf8')
    assert.match(yaml, /\{ id: "sgr-web-http", protocol: "tcp", ports: "80", source: "0\.0\.0\.0\/0"/)
    assert.match(yaml, /\{ id: "sgr-web-https", protocol: "tcp", ports: "443", source: "0\.0\.0\.0\/0"/)
    assert.doesNotMatch(yaml, /ports: "53"/)
    assert.match(a.stdout, /accepted record\(s\) of the platform services/)
    const w = runFlowlog([
      'what-if',
      '--config',
      NET,
      '--groups',
      least,
      '--format',
      'json',
      '--no-summary',
      out,
    ])
    assert.equal(w.code, 0, w.stderr)
    assert.equal((JSON.parse(w.stdout) as { changedRecords: number }).changedRecords, 0)
  })

  test('one time representation in every JSON, in --tz, as in every table', () => {
    const iso = /^2024-06-01T18:0\d:\d\d\+09:00$/
    const json = (...args: string[]) => {
      const r = runFlowlog([...args, '-f', 'json', '--tz', 'Asia/Seoul', '--no-summary', out])
      assert.equal(r.code, 0, r.stderr)
      return JSON.parse(r.stdout) as unknown
    }
    const times: string[] = []
    const collect = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(collect)
      else if (v !== null && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) {
          if (['first', 'last', 'start', 'end'].includes(k)) times.push(String(x))
          else collect(x)
        }
    }
    for (const args of [
      ['query', '--limit', '3'],
      ['report', '--kind', 'top-talkers'],
      ['detect'],
      ['audit', '--config', NET],
      ['what-if', '--config', NET, '--groups', join(dir, 'least.yaml'), '--rule-changes'],
    ]) {
      times.length = 0
      collect(json(...args))
      assert.ok(times.length > 0, `${args[0]} has times`)
      for (const t of times) assert.match(t, iso, `${args[0]}: ${t}`)
    }
    const text = runFlowlog(['detect', '--tz', 'Asia/Seoul', '--no-summary', out])
    assert.match(text.stdout, /span {6}2024-06-01T18:00:20\+09:00 \.\. /)
  })
})
