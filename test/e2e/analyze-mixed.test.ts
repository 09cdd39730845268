import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { runFlowlog } from '../support/cli.js'
import { repoPath } from '../support/paths.js'

/**
 * report, detect, audit and what-if through the real CLI on mixed.pcap replayed with mixed.yaml:
 * the known answers of the capture's header comment (test/fixtures/mixed.yaml). Three flow logs of
 * the same traffic: AWS text in the default v2 format (no rule-id: audit re-judges), NHN CSV, and
 * JSONL with rule-id and flow-direction.
 */
const MIXED = repoPath('test/fixtures/captures/mixed.pcap')
const CONFIG = repoPath('test/fixtures/mixed.yaml')
const dir = mkdtempSync(join(tmpdir(), 'flowlog-analyze-'))
const config = join(dir, 'mixed-jsonl.yaml')
writeFileSync(
  config,
  `${readFileSync(CONFIG, 'utf8')}
  - id: fl-jsonl
    resource: vpc-0a1
    aggregationInterval: 60
    fileFormat: jsonl
    fields: [interface-id, flow-direction, srcaddr, dstaddr, pkt-srcaddr, pkt-dstaddr, srcport, dstport, protocol, packets, bytes, start, end, tcp-flags, action, log-status, rule-id, reject-reason-detail]
    destination: file:///unused
    layout: aws-hive
    compression: none
`,
)
const out = join(dir, 'out')
const replay = runFlowlog(['replay', '--config', config, '--out', out, '--no-progress', MIXED])
const TEXT = join(out, 'AWSLogs/123456789012')
const JSONL = join(out, 'AWSLogs/aws-account-id=123456789012')
const NHN = join(out, '2024')
const flowlog = (...args: string[]) => runFlowlog([...args, '--no-summary'])
const json = <T>(args: string[]): T => {
  const run = flowlog(...args)
  assert.equal(run.code, 0, run.stderr)
  return JSON.parse(run.stdout) as T
}

type Row = Record<string, string | number | null>

describe('flowlog report on mixed.pcap', () => {
  test('the replay worked', () => assert.equal(replay.code, 0, replay.stderr))

  // The header's REJECT lines: SSH from 198.51.100.7 (SYN + 3 retransmits), its 2 echo requests,
  // db -> web SSH (SYN + 1 retransmit), and the packet after the RST.
  const rejected = [
    '198.51.100.7 10.0.1.10 22 tcp 4',
    '198.51.100.7 10.0.1.10 0 icmp 2',
    '10.0.1.20 10.0.1.10 22 tcp 2',
    '198.51.100.7 10.0.1.10 45000 tcp 1',
  ]
  for (const [name, source] of [
    ['AWS text', TEXT],
    ['NHN CSV', NHN],
    ['JSONL', JSONL],
  ] as const) {
    test(`rejected traffic from ${name} is the header's REJECT list`, () => {
      const rows = json<Row[]>(['report', '--kind', 'rejected', '--format', 'json', source])
      assert.deepEqual(
        rows.map((r) => `${r.srcaddr} ${r.dstaddr} ${r.dstport} ${r.protocol} ${r.packets}`),
        rejected,
      )
    })
  }

  test('SSH: one login accepted, one source rejected, db refused on web', () => {
    const rows = json<Row[]>(['report', '--kind', 'ssh-rdp', '--format', 'json', JSONL])
    assert.deepEqual(rows.map((r) => `${r.srcaddr} ${r.service} ${r.action}`).sort(), [
      '10.0.1.20 ssh ACCEPT', // db's egress record: its own group lets it out
      '10.0.1.20 ssh REJECT', // web's ingress record
      '198.51.100.7 ssh REJECT',
      '203.0.113.5 ssh ACCEPT',
    ])
  })

  test('traffic over time: the capture spans the windows 12:00, 12:01 and 12:02', () => {
    const rows = json<Row[]>(['report', '--kind', 'over-time', '--format', 'json', TEXT])
    assert.deepEqual(
      rows.map((r) => r.bucket),
      ['2024-06-01T12:00:00Z', '2024-06-01T12:01:00Z', '2024-06-01T12:02:00Z'],
    )
    assert.equal(
      rows.reduce((n, r) => n + Number(r.rejected_packets), 0),
      9,
    )
  })

  test('top instances, from the config when the records have no instance-id', () => {
    const rows = json<Row[]>([
      'report',
      '--kind',
      'top-instances',
      '--config',
      CONFIG,
      '--format',
      'json',
      TEXT,
    ])
    assert.deepEqual(rows.map((r) => r.instance).sort(), ['i-db1', 'i-web1'])
  })

  test('traffic from and to an address', () => {
    const rows = json<Row[]>([
      'report',
      '--kind',
      'address',
      '--address',
      '198.51.100.7',
      '--format',
      'json',
      JSONL,
    ])
    assert.ok(rows.length > 0)
    assert.ok(rows.every((r) => r.peer === '10.0.1.10'))
    assert.ok(rows.some((r) => r.direction === 'from' && r.dstport === 22 && r.action === 'REJECT'))
  })

  test('the overview without --kind, and CSV of one report', () => {
    const overview = flowlog('report', TEXT)
    assert.equal(overview.code, 0, overview.stderr)
    assert.match(
      overview.stdout,
      /^Top talkers by bytes \(top-talkers\)\nsrcaddr +records +packets +bytes +first +last\n10\.0\.1\.10 /,
    )
    const csv = flowlog('report', '--kind', 'rejected-tcp', '--format', 'csv', TEXT)
    assert.equal(csv.stdout.split('\n')[0], 'srcaddr,dstaddr,dstport,records,packets,bytes,first,last')
    assert.equal(
      csv.stdout.split('\n')[1],
      '198.51.100.7,10.0.1.10,22,1,4,208,2024-06-01T12:00:20Z,2024-06-01T12:00:27Z',
    )
  })

  test('bad input exits 1 and names it', () => {
    for (const [args, message] of [
      [['--kind', 'top-talker'], /--kind: "top-talker" is not a report/],
      [['--kind', 'address'], /--kind address needs --address/],
      [['--kind', 'rejected,accepted', '--format', 'csv'], /--format csv: choose one --kind/],
      [['--limit', '0'], /--limit: "0" is not a whole number from 1/],
    ] as const) {
      const run = flowlog('report', ...args, TEXT)
      assert.equal(run.code, 1, run.stderr)
      assert.match(run.stderr, message)
    }
    const missing = flowlog('report', join(dir, 'nope'))
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /no such file or directory/)
  })
})

describe('flowlog detect on mixed.pcap', () => {
  test('ordinary traffic raises nothing', () => {
    const run = flowlog('detect', out)
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /^no findings in \d+ record\(s\)/)
  })
})

describe('flowlog audit on mixed.pcap', () => {
  test('by rule-id (JSONL) and by re-judging (AWS v2 text, NHN CSV), the same answer', () => {
    for (const [source, method] of [
      [JSONL, 'rule-id'],
      [TEXT, 're-judged'],
      [NHN, 're-judged'],
    ] as const) {
      const result = json<{ method: string; rules: { id: string; status: string }[] }>([
        'audit',
        '--config',
        CONFIG,
        '--format',
        'json',
        source,
      ])
      assert.equal(result.method, method)
      const unused = result.rules.filter((r) => r.status !== 'used').map((r) => `${r.id} ${r.status}`)
      // Web's IPv6 traffic is all inbound; its answers leave by connection tracking, not by this rule.
      assert.deepEqual(unused, ['sgr-web-out6 unused'], source)
    }
  })

  test('the least-privilege groups carry exactly the recorded traffic (what-if: no change)', () => {
    const least = join(dir, 'least.yaml')
    const audit = flowlog('audit', '--config', CONFIG, '--write-groups', least, JSONL)
    assert.equal(audit.code, 0, audit.stderr)
    assert.match(
      audit.stdout,
      /sgr-web-ssh \(sg-web inbound tcp 22 from 203\.0\.113\.0\/24\)\n +source 203\.0\.113\.0\/24 → 203\.0\.113\.5\/32/,
    )
    assert.match(readFileSync(least, 'utf8'), /# removed sgr-web-out6/)
    for (const source of [JSONL, TEXT]) {
      const whatIf = flowlog('what-if', '--config', CONFIG, '--groups', least, '--fail-on-change', source)
      assert.equal(whatIf.code, 0, whatIf.stdout + whatIf.stderr)
      assert.match(whatIf.stdout, / 0 record\(s\) would change verdict/)
    }
  })
})

describe('flowlog what-if on mixed.pcap', () => {
  const proposed = join(dir, 'proposed.yaml')
  // SSH moves from 203.0.113.0/24 to 198.51.100.0/24; everything else as in mixed.yaml.
  writeFileSync(
    proposed,
    readFileSync(CONFIG, 'utf8')
      .split('securityGroups:')[1]!
      .split('interfaces:')[0]!
      .replace(
        '{ id: sgr-web-ssh, protocol: tcp, ports: "22", source: 203.0.113.0/24 }',
        '{ id: sgr-web-ssh, protocol: tcp, ports: "22", source: 198.51.100.0/24 }',
      )
      .replace(/^/, 'securityGroups:'),
  )

  test('lists every flow whose verdict changes, with the rule responsible', () => {
    const result = json<{
      changedRecords: number
      agreeing: number
      compared: number
      changes: {
        srcaddr: string
        srcport: number
        dstport: number
        current: { action: string }
        proposed: { action: string; rule: string | null }
        responsible: string
      }[]
    }>(['what-if', '--config', CONFIG, '--groups', proposed, '--format', 'json', JSONL])
    assert.equal(result.agreeing, result.compared, 'the current replay agrees with every recorded verdict')
    const lines = result.changes.map(
      (c) => `${c.srcaddr}:${c.srcport}->${c.dstport} ${c.current.action}->${c.proposed.action}`,
    )
    assert.deepEqual(lines, [
      '203.0.113.5:40022->22 ACCEPT->REJECT',
      '10.0.1.10:22->40022 ACCEPT->REJECT',
      '198.51.100.7:50022->22 REJECT->ACCEPT',
    ])
    assert.match(result.changes[0]!.responsible, /sgr-web-ssh now reads: .*from 198\.51\.100\.0\/24/)
    assert.match(result.changes[2]!.responsible, /^accepted by sgr-web-ssh /)
  })

  test('--fail-on-change exits 3; a bad proposal exits 1 with its path', () => {
    assert.equal(
      flowlog('what-if', '--config', CONFIG, '--groups', proposed, '--fail-on-change', JSONL).code,
      3,
    )
    const bad = join(dir, 'bad.yaml')
    writeFileSync(
      bad,
      '- id: sg-web\n  inbound:\n    - { protocol: tcp, ports: "70000", source: 0.0.0.0/0 }\n',
    )
    const run = flowlog('what-if', '--config', CONFIG, '--groups', bad, JSONL)
    assert.equal(run.code, 1)
    assert.match(run.stderr, /securityGroups\[0\]\.inbound\[0\]\.ports: "70000" is not a port range 0-65535/)
  })
})
