import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { listFiles, runFlowlog } from '../support/cli.js'
import { repoPath } from '../support/paths.js'

const MIXED = repoPath('test/fixtures/captures/mixed.pcap')
const AWS = repoPath('test/fixtures/aws')

/**
 * mixed.yaml (fl-0001: AWS text v2, 60 s; fl-nhn01: NHN CSV, 120 s) plus a JSONL and a Parquet flow
 * log with the packet addresses, so every reader path sees the same traffic.
 */
function mixedConfig(dir: string): string {
  const extra = `
  - id: fl-jsonl
    resource: vpc-0a1
    aggregationInterval: 60
    fileFormat: jsonl
    fields: [interface-id, flow-direction, srcaddr, dstaddr, pkt-srcaddr, pkt-dstaddr, srcport, dstport, protocol, packets, bytes, start, end, action, log-status, reject-reason-detail]
    destination: file:///unused
    layout: aws-hive
    compression: gzip
  - id: fl-parquet
    resource: vpc-0a1
    aggregationInterval: 60
    logFormat: "\${version} \${interface-id} \${srcaddr} \${dstaddr} \${srcport} \${dstport} \${protocol} \${packets} \${bytes} \${start} \${end} \${action} \${log-status} \${flow-direction}"
    fileFormat: parquet
    destination: file:///unused
    layout: aws-hive
`
  const path = join(dir, 'mixed-query.yaml')
  writeFileSync(path, readFileSync(repoPath('test/fixtures/mixed.yaml'), 'utf8') + extra)
  return path
}

const dir = mkdtempSync(join(tmpdir(), 'flowlog-e2e-query-'))
const out = join(dir, 'out')
const replay = runFlowlog(['replay', '--config', mixedConfig(dir), '--out', out, MIXED])
const AWS_TEXT = join(out, 'AWSLogs/123456789012/vpcflowlogs')
const HIVE = join(out, 'AWSLogs/aws-account-id=123456789012')
const NHN = join(out, '2024')

/** `flowlog query ... -o jsonl` as objects. */
function query(args: string[]): { rows: Record<string, unknown>[]; stderr: string } {
  const r = runFlowlog(['query', '-f', 'jsonl', ...args])
  assert.equal(r.code, 0, r.stderr)
  return {
    rows: r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l)),
    stderr: r.stderr,
  }
}

/** `flowlog sql ... -o json` as objects. */
function sql(statement: string, sources: string[]): Record<string, unknown>[] {
  const r = runFlowlog(['sql', '-f', 'json', statement, ...sources])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as Record<string, unknown>[]
}

const key = (r: Record<string, unknown>) =>
  [
    r['interface-id'] ?? r.interface_id,
    r.srcaddr,
    r.srcport,
    r.dstaddr,
    r.dstport,
    r.protocol,
    r.action,
  ].join(' ')

describe('flowlog query on replayed mixed.pcap (known answers in mixed.yaml)', () => {
  test('the replay wrote text, NHN CSV, JSONL and Parquet', () => {
    assert.equal(replay.code, 0, replay.stderr)
    assert.match(replay.stdout, /flow log fl-parquet: 3 file\(s\)/)
  })

  test('rejected SSH: the outside attempt (4 packets) and db -> web, on eni-web1', () => {
    const { rows, stderr } = query(['--where', 'dstport=22 and action=REJECT', '--unix-times', AWS_TEXT])
    assert.deepEqual(rows.map(key).sort(), [
      'eni-web1 10.0.1.20 46100 10.0.1.10 22 6 REJECT',
      'eni-web1 198.51.100.7 50022 10.0.1.10 22 6 REJECT',
    ])
    assert.equal(rows.find((r) => r.srcaddr === '198.51.100.7')?.packets, 4)
    assert.match(stderr, /flowlog query: 2 matching record\(s\) from \d+ record\(s\) in 3 file\(s\)/)
  })

  test("AWS's CloudWatch metric-filter pattern selects the same records as the expression", () => {
    const pattern = query([
      '--pattern',
      '[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]',
      AWS_TEXT,
    ])
    const expression = query(['--where', 'dstport=22 and protocol=tcp and action=REJECT', AWS_TEXT])
    assert.deepEqual(pattern.rows.map(key).sort(), expression.rows.map(key).sort())
  })

  test('every format reads to the same records: text, JSONL (gzip), Parquet', () => {
    const files = listFiles(HIVE).map((f) => join(HIVE, f))
    const jsonl = files.filter((f) => f.endsWith('.jsonl.gz'))
    const parquet = files.filter((f) => f.endsWith('.parquet'))
    assert.equal(jsonl.length, 3)
    assert.equal(parquet.length, 3)
    for (const filter of [
      'protocol=tcp or log-status=NODATA',
      'addr in 198.51.100.0/24 and dstport != 443',
    ]) {
      const text = query(['--where', filter, AWS_TEXT]).rows.map(key).sort()
      assert.ok(text.length > 0, filter)
      assert.deepEqual(
        query(['--where', filter, ...jsonl])
          .rows.map(key)
          .sort(),
        text,
        `${filter} (JSONL)`,
      )
      assert.deepEqual(
        query(['--where', filter, ...parquet])
          .rows.map(key)
          .sort(),
        text,
        `${filter} (Parquet)`,
      )
    }
  })

  test('NHN CSV: filter DROP is action REJECT; the 120 s windows hold the same rejected flows', () => {
    const nhn = query(['--where', 'action=REJECT', NHN]).rows
    const aws = query(['--where', 'action=REJECT', AWS_TEXT]).rows
    const tuple = (r: Record<string, unknown>) => [r.srcaddr, r.dstaddr, r.dstport, r.protocol].join(' ')
    assert.deepEqual([...new Set(nhn.map(tuple))].sort(), [...new Set(aws.map(tuple))].sort())
  })

  test('readable times in UTC, or in --tz', () => {
    const utc = runFlowlog([
      'query',
      '--where',
      'srcport=50022',
      '-f',
      'csv',
      '--fields',
      'start,srcaddr',
      AWS_TEXT,
    ])
    assert.equal(utc.stdout, 'start,srcaddr\n2024-06-01T12:00:20Z,198.51.100.7\n')
    const seoul = runFlowlog([
      'query',
      '--where',
      'srcport=50022',
      '--tz',
      'Asia/Seoul',
      '--fields',
      'start,srcaddr',
      AWS_TEXT,
    ])
    assert.match(seoul.stdout, /^start \(Asia\/Seoul\) +srcaddr\n2024-06-01 21:00:20 +198\.51\.100\.7\n$/)
  })

  test('--since/--until skip files by key and drop records outside', () => {
    const r = query([
      '--since',
      '2024-06-01T12:01:00Z',
      '--until',
      '2024-06-01T12:02:00Z',
      '--unix-times',
      AWS_TEXT,
    ])
    assert.ok(r.rows.length > 0)
    for (const row of r.rows) {
      assert.ok((row.end as number) >= 1717243260 && (row.start as number) < 1717243320, JSON.stringify(row))
    }
    const later = query(['--since', '2024-06-03', out])
    assert.equal(later.rows.length, 0)
    assert.match(later.stderr, /in 0 file\(s\); \d+ file\(s\)\/folder\(s\) skipped by time/)
  })

  test('--count, --limit, --community-id', () => {
    const count = runFlowlog(['query', '--count', '--where', 'protocol=tcp', AWS_TEXT])
    assert.match(count.stdout, /^\d+\n$/)
    // The number alone in every output format: no CSV header row, no JSON bracket around it.
    for (const format of ['csv', 'json', 'jsonl', 'table']) {
      const r = runFlowlog(['query', '--count', '-f', format, '--where', 'protocol=tcp', AWS_TEXT])
      assert.equal(r.stdout, count.stdout, format)
    }
    const limited = query(['--limit', '2', AWS_TEXT])
    assert.equal(limited.rows.length, 2)
    const ids = query(['--where', 'dstport=22', '--community-id', AWS_TEXT]).rows
    assert.ok(
      ids.every((r) => typeof r['community-id'] === 'string' && String(r['community-id']).startsWith('1:')),
    )
    // Both directions of a connection carry one id.
    const ssh = query(['--where', 'port=40022', '--community-id', AWS_TEXT]).rows
    assert.equal(new Set(ssh.map((r) => r['community-id'])).size, 1)
    assert.ok(ssh.length >= 2)
  })
})

describe('flowlog sql selects what flowlog query selects', () => {
  const cases: [string, string][] = [
    ['dstport=22 and action=REJECT', `dstport = 22 AND action = 'REJECT'`],
    ['srcaddr in 203.0.113.0/24 and protocol=tcp', `srcaddr LIKE '203.0.113.%' AND protocol = 6`],
    ['packets>3 or bytes>=1000', 'packets > 3 OR bytes >= 1000'],
    ['log-status=NODATA', `log_status = 'NODATA'`],
  ]
  cases.forEach(([filter, where], i) => {
    test(`${filter}  ≡  WHERE ${where}`, () => {
      // Every format for the first case; text for the rest (each run is a process start).
      for (const source of i === 0 ? [AWS_TEXT, NHN, HIVE] : [AWS_TEXT]) {
        const q = query(['--where', filter, '--unix-times', source]).rows.map(key).sort()
        const s = sql(`SELECT * FROM flows WHERE ${where}`, [source]).map(key).sort()
        assert.deepEqual(s, q, source)
      }
    })
  })

  test('community_id in SQL equals --community-id in query', () => {
    const q = query(['--where', 'protocol=tcp', '--community-id', AWS_TEXT]).rows
    const s = sql(
      'SELECT interface_id, srcaddr, srcport, dstaddr, dstport, protocol, action, community_id FROM flows WHERE protocol = 6',
      [AWS_TEXT],
    )
    const ids = (rows: Record<string, unknown>[], k: string) => rows.map((r) => `${key(r)} ${r[k]}`).sort()
    assert.deepEqual(ids(s, 'community_id'), ids(q, 'community-id'))
  })

  test('--sort -bytes --limit 5: the five largest records, as SQL orders them', () => {
    const q = query(['--sort', '-bytes', '--limit', '5', AWS_TEXT]).rows.map((r) => r.bytes)
    const s = sql('SELECT bytes FROM flows ORDER BY bytes DESC LIMIT 5', [AWS_TEXT]).map((r) => r.bytes)
    assert.deepEqual(q, s)
    assert.equal(q.length, 5)
  })

  test('sql SELECT * as a table shows the columns the sources have; CSV keeps them all', () => {
    const table = runFlowlog(['sql', 'SELECT * FROM flows LIMIT 2', AWS_TEXT])
    assert.equal(table.code, 0, table.stderr)
    const header = table.stdout.split('\n')[0] ?? ''
    assert.match(header, /^version +account_id +interface_id +srcaddr/)
    assert.doesNotMatch(header, /vpc_id|pkt_srcaddr|ecs_cluster_arn/)
    assert.match(table.stderr, /column\(s\) no record has a value in are not shown in the table: vpc_id/)
    const csv = runFlowlog(['sql', '-f', 'csv', 'SELECT * FROM flows LIMIT 2', AWS_TEXT])
    assert.match(csv.stdout.split('\n')[0] ?? '', /,vpc_id,/)
    // Asked for by name, an empty column is shown.
    const named = runFlowlog(['sql', 'SELECT vpc_id FROM flows LIMIT 1', AWS_TEXT])
    assert.match(named.stdout, /^vpc_id\n/)
  })

  test('- reads standard input: gzip or text, as a file would be read', () => {
    const files = listFiles(AWS_TEXT).filter((f) => f.endsWith('.log.gz'))
    assert.ok(files.length > 0)
    const gz = Buffer.concat(files.map((f) => readFileSync(join(AWS_TEXT, f))))
    const fromDir = runFlowlog(['query', '-f', 'csv', '--where', 'action=REJECT', '--no-summary', AWS_TEXT])
    const fromStdin = runFlowlog(['query', '-f', 'csv', '--where', 'action=REJECT', '--no-summary', '-'], {
      input: gz,
    })
    assert.equal(fromStdin.code, 0, fromStdin.stderr)
    assert.equal(fromStdin.stdout, fromDir.stdout)
    const sqlCount = runFlowlog(['sql', '-f', 'csv', 'SELECT count(*) AS n FROM flows', '-'], { input: gz })
    const count = runFlowlog(['query', '--count', '--no-summary', AWS_TEXT]).stdout
    assert.equal(sqlCount.stdout, `n\n${count}`)
  })

  test('tables say bytes and protocols in words; CSV and JSON keep the numbers', () => {
    const args = [
      '--where',
      'protocol=tcp',
      '--fields',
      'protocol,bytes',
      '--limit',
      '1',
      '--no-summary',
      AWS_TEXT,
    ]
    const csv = runFlowlog(['query', '-f', 'csv', ...args]).stdout.split('\n')[1] ?? ''
    const [protocol, bytes] = csv.split(',')
    assert.equal(protocol, '6')
    const table = runFlowlog(['query', ...args]).stdout.split('\n')[1] ?? ''
    const n = Number(bytes)
    const words = n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`
    assert.match(table, new RegExp(`^tcp +${words.replace('.', '\\.')}$`))
  })

  test('-o FILE writes the results there; -o csv is still --format csv, with a warning', () => {
    const file = join(dir, 'rejected.csv')
    const toFile = runFlowlog(['query', '-f', 'CSV', '-o', file, '--where', 'action=REJECT', AWS_TEXT])
    assert.equal(toFile.code, 0, toFile.stderr)
    assert.equal(toFile.stdout, '')
    const toStdout = runFlowlog(['query', '--format', 'csv', '--where', 'action=REJECT', AWS_TEXT])
    assert.equal(readFileSync(file, 'utf8'), toStdout.stdout)
    const legacy = runFlowlog(['query', '-o', 'csv', '--where', 'action=REJECT', AWS_TEXT])
    assert.equal(legacy.stdout, toStdout.stdout)
    assert.match(legacy.stderr, /-o is --output FILE in every command; taken as --format csv/)
    const report = join(dir, 'report.json')
    const r = runFlowlog(['report', '--kind', 'rejected', '-f', 'json', '-o', report, AWS_TEXT])
    assert.equal(r.code, 0, r.stderr)
    assert.ok(Array.isArray(JSON.parse(readFileSync(report, 'utf8'))))
  })

  test('community-id-elastic: in query and SQL alike, and given to ICMP where community-id is not', () => {
    const fields =
      'interface-id,srcaddr,srcport,dstaddr,dstport,protocol,action,community-id,community-id-elastic'
    const q = query(['--fields', fields, AWS_TEXT]).rows
    const icmp = q.filter((r) => r.protocol === 1)
    assert.ok(icmp.length > 0, 'the capture has ICMP')
    assert.ok(
      icmp.every((r) => r['community-id'] === null && String(r['community-id-elastic']).startsWith('1:')),
    )
    // Without packet addresses the two agree on everything else.
    const tcp = q.filter((r) => r.protocol === 6)
    assert.ok(tcp.length > 0 && tcp.every((r) => r['community-id'] === r['community-id-elastic']))
    const s = sql(
      'SELECT interface_id, srcaddr, srcport, dstaddr, dstport, protocol, action, community_id_elastic FROM flows',
      [AWS_TEXT],
    )
    const ids = (rows: Record<string, unknown>[], k: string) => rows.map((r) => `${key(r)} ${r[k]}`).sort()
    assert.deepEqual(ids(s, 'community_id_elastic'), ids(q, 'community-id-elastic'))
    const filtered = query([
      '--where',
      `community-id-elastic='${icmp[0]?.['community-id-elastic']}'`,
      AWS_TEXT,
    ]).rows
    assert.ok(filtered.length >= 1 && filtered.every((r) => r.protocol === 1))
  })

  test("AWS's Athena sample queries run unchanged (reference 8.1)", () => {
    const top = sql(
      `SELECT dstaddr, sum(packets) AS packetcount FROM flows WHERE dstport = 443 AND "date" > current_date - interval '7' day GROUP BY dstaddr ORDER BY packetcount DESC LIMIT 10`,
      [repoPath('test/fixtures/aws')],
    )
    assert.deepEqual(top, [])
    const rejected = sql(
      `SELECT day_of_week("date") AS day, "date", interface_id, srcaddr, action, protocol FROM flows WHERE action = 'REJECT' AND protocol = 6 LIMIT 100`,
      [AWS],
    )
    assert.deepEqual(
      rejected.map((r) => [r.day, r.date, r.srcaddr]),
      [
        [7, '2014-12-14', '172.31.9.69'],
        [7, '2014-12-14', '172.31.9.69'],
      ],
    )
    const times = sql(
      `SELECT to_iso8601(from_unixtime(start)) AS t FROM flows WHERE split_part(srcaddr, '.', 1) = '203' AND start IS NOT NULL`,
      [AWS],
    )
    assert.deepEqual(times, [{ t: '2015-05-29T16:30:27.000Z' }])
  })
})

describe('bad input and bad lines', () => {
  test('a bad filter, field, time, output or SQL exits 1 and names it', () => {
    const cases: [string[], RegExp][] = [
      [['query', '--where', 'dstport=ssh', AWS], /dstport=ssh.*"ssh" is not a number/],
      [['query', '--where', 'bogus=1', AWS], /"bogus" is not a flow-log field/],
      [['query', '--fields', 'srcaddr,nope', AWS], /--fields: "nope" is not a flow-log field/],
      [['query', '--since', 'tomorrow', AWS], /--since: "tomorrow" is not a time/],
      [['query', '-f', 'xml', AWS], /--format: "xml" is not one of table, csv, jsonl, json/],
      [['query', '--tz', 'Mars/Base', AWS], /--tz: "Mars\/Base" is not a time zone/],
      [['query', '/nonexistent/logs'], /source "\/nonexistent\/logs": no such file or directory/],
      [['query', '--log-format', 'srcaddr bogus', AWS], /--log-format: "bogus" is not a flow-log field/],
      [['sql', 'SELEC 1', AWS], /SQL: .*Parser Error/],
      [['sql', 'SELECT nope FROM flows', AWS], /SQL: Binder Error: .*"nope"/],
    ]
    for (const [args, message] of cases) {
      const r = runFlowlog(args)
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, message)
    }
  })

  test('bad lines are reported with file and line, counted, and the rest is read (exit 0)', () => {
    const d = join(dir, 'bad')
    mkdirSync(d)
    const file = join(d, 'mixed-up.txt')
    writeFileSync(
      file,
      `${readFileSync(join(AWS, 'v3-transit-gateway.txt'), 'utf8')}not a record\n\n3 eni-1 short\n`,
    )
    const r = runFlowlog(['query', '--count', d])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '4\n')
    assert.match(r.stderr, new RegExp(`${file}:6: 3 fields where the header has 17`))
    assert.match(r.stderr, /; 2 bad line\(s\)/)
    const s = runFlowlog(['sql', 'SELECT count(*) AS n FROM flows', d])
    assert.equal(s.code, 0, s.stderr)
    assert.match(s.stderr, /2 bad line\(s\)/)
  })
})

test("a record with a start no calendar holds is shown with the file's other records", async () => {
  const bad = join(dir, 'bad-time')
  mkdirSync(bad, { recursive: true })
  writeFileSync(
    join(bad, 'flows.log'),
    [
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
      '2 123456789012 eni-a 10.0.0.1 10.0.0.2 1024 22 6 3 180 18446744073204 18446744073204 ACCEPT OK',
      '2 123456789012 eni-a 10.0.0.1 10.0.0.2 1025 22 6 4 240 1717243200 1717243210 ACCEPT OK',
      '',
    ].join('\n'),
  )
  const result = await runFlowlog(['query', '--format', 'csv', '--fields', 'srcport,start', bad])
  assert.equal(result.code, 0, result.stderr)
  assert.deepEqual(result.stdout.trim().split('\n').slice(1).sort(), [
    '1024,18446744073204',
    '1025,2024-06-01T12:00:00Z',
  ])
})
