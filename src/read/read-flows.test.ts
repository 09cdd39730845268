import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { DuckDBInstance } from '@duckdb/node-api'
import { runFlowlog } from '../../test/support/cli.js'
import { repoPath } from '../../test/support/paths.js'
import { streamBlocks } from './file-blocks.js'
import type { FlowRow } from './flow-row.js'
import { type FlowReader, readFlows } from './read-flows.js'
import type { ReadOptions } from './read-options.js'

const AWS = repoPath('test/fixtures/aws')
const tmp = () => mkdtempSync(join(tmpdir(), 'flowlog-read-'))

async function all(
  sources: string[],
  options: ReadOptions = {},
): Promise<{ rows: FlowRow[]; reader: FlowReader; bad: string[] }> {
  const bad: string[] = []
  const reader = readFlows(sources, { ...options, onBadLine: (f, l, r) => bad.push(`${f}:${l}: ${r}`) })
  const rows: FlowRow[] = []
  for await (const row of reader) rows.push(row)
  return { rows, reader, bad }
}

describe('readFlows on real AWS records (test/fixtures/aws)', () => {
  test('every file, version and field order; nothing is a bad line', async () => {
    const { rows, reader, bad } = await all([AWS])
    assert.deepEqual(bad, [])
    assert.equal(rows.length, 29)
    assert.equal(reader.stats.files, 9)
    assert.equal(reader.stats.rows, 29)
  })

  test('default format (gzip, header line): numbers are numbers, `-` is null', async () => {
    const { rows } = await all([join(AWS, 'AWSLogs/123456789010/vpcflowlogs/us-east-1/2014')])
    assert.deepEqual(rows[0], {
      version: 2,
      'account-id': '123456789010',
      'interface-id': 'eni-1235b8ca123456789',
      srcaddr: '172.31.16.139',
      dstaddr: '172.31.16.21',
      srcport: 20641,
      dstport: 22,
      protocol: 6,
      packets: 20,
      bytes: 4249,
      start: 1418530010,
      end: 1418530070,
      action: 'ACCEPT',
      'log-status': 'OK',
    })
    const { rows: status } = await all([join(AWS, 'AWSLogs/123456789010/vpcflowlogs/us-east-1/2015')])
    const nodata = status.find((r) => r['log-status'] === 'NODATA')!
    assert.equal(nodata.srcaddr, null)
    assert.equal(nodata.packets, null)
    assert.equal(nodata.action, null)
    assert.equal(nodata.start, 1431280876)
  })

  test('custom v3 order from the header: tcp-flags, packets and bytes land in their fields', async () => {
    const { rows } = await all([join(AWS, 'v3-tcp-flags.txt')])
    assert.equal(rows.length, 8)
    assert.deepEqual(
      rows.map((r) => r['tcp-flags']),
      [2, 18, 2, 18, 1, 1, 3, 19],
    )
    assert.equal(rows[0]!.bytes, 568)
    assert.equal(rows[0]!.packets, 8)
    assert.equal(rows[0]!['vpc-id'], 'vpc-abcdefab012345678')
    // The guide's record with a doubled space reads like the others.
    assert.equal(rows[7]!.dstport, 43638)
    assert.equal(rows[7]!['log-status'], 'OK')
  })

  test('six-field NAT gateway format: no version, packet addresses differ from the interface view', async () => {
    const { rows } = await all([join(AWS, 'v3-nat-gateway.txt')])
    assert.equal(rows.length, 6)
    assert.deepEqual(Object.keys(rows[0]!), [
      'instance-id',
      'interface-id',
      'srcaddr',
      'dstaddr',
      'pkt-srcaddr',
      'pkt-dstaddr',
    ])
    assert.equal(rows[0]!['instance-id'], null)
    assert.equal(rows[0]!.dstaddr, '10.0.0.220')
    assert.equal(rows[0]!['pkt-dstaddr'], '203.0.113.5')
  })

  test('version 5: flow-direction, traffic-path, AWS service names', async () => {
    const { rows } = await all([join(AWS, 'v5-traffic-path.txt')])
    assert.equal(rows[0]!['flow-direction'], 'ingress')
    assert.equal(rows[0]!['traffic-path'], null)
    assert.equal(rows[0]!['pkt-src-aws-service'], 'S3')
    assert.equal(rows[1]!['traffic-path'], 8)
    assert.equal(rows[1]!.region, 'ap-southeast-2')
  })

  test('a headerless file in AWS default format is read as that format', async () => {
    const { rows, bad } = await all([join(AWS, 'headerless-v2.txt')])
    assert.deepEqual(bad, [])
    assert.equal(rows[1]!.dstport, 3389)
    assert.equal(rows[1]!.action, 'REJECT')
  })

  test('since/until: folders and files outside the range are skipped unopened, records outside dropped', async () => {
    const since = Date.parse('2015-05-29T00:00:00Z') / 1000
    const until = Date.parse('2015-06-01T00:00:00Z') / 1000
    const { rows, reader } = await all([join(AWS, 'AWSLogs')], { since, until })
    // Only 2015/05/29 is opened: the 2014 and 2016 year folders and the 2015/05/10 day folder are not.
    assert.equal(reader.stats.files, 1)
    assert.equal(reader.stats.skippedFiles, 3)
    assert.deepEqual(
      rows.map((r) => r.action),
      ['ACCEPT', 'REJECT'],
    )
    const records = await all([join(AWS, 'v3-tcp-flags.txt')], { since: 1566848934, until: 1566849000 })
    assert.deepEqual(
      records.rows.map((r) => r.start),
      [1566848933, 1566848933],
      'only the records whose span overlaps [since, until)',
    )
  })
})

describe('readFlows: formats, compression, layouts', () => {
  test('--log-format for a headerless file in a custom order', async () => {
    const dir = tmp()
    const file = join(dir, 'nat.txt')
    writeFileSync(file, readFileSync(join(AWS, 'v3-nat-gateway.txt'), 'utf8').split('\n').slice(1).join('\n'))
    const without = await all([file])
    assert.equal(without.rows.length, 0)
    assert.match(
      without.bad[0]!,
      /nat\.txt:1: no header line, and 6 fields are not AWS's default format: give --log-format/,
    )
    const withFormat = await all([file], {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: AWS's ${field} syntax
      logFormat: '${instance-id} ${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr}',
    })
    assert.equal(withFormat.rows.length, 6)
    assert.equal(withFormat.rows[5]!['instance-id'], 'i-01234567890123456')
  })

  test('gzip is recognised by its bytes, not the name; plain and gzip read alike', async () => {
    const dir = tmp()
    const text = readFileSync(join(AWS, 'v3-transit-gateway.txt'))
    writeFileSync(join(dir, 'plain.log'), text)
    writeFileSync(join(dir, 'zipped.txt'), gzipSync(text))
    const { rows } = await all([join(dir, 'plain.log'), join(dir, 'zipped.txt')])
    assert.equal(rows.length, 8)
    assert.deepEqual(rows.slice(0, 4), rows.slice(4))
  })

  test('bad lines are counted and reported with file and line, never fatal', async () => {
    const dir = tmp()
    const file = join(dir, 'bad.txt')
    writeFileSync(
      file,
      [
        'version srcaddr dstaddr dstport action',
        '2 10.0.0.1 10.0.0.2 22 ACCEPT',
        '2 10.0.0.1 10.0.0.2 ACCEPT',
        '',
        '2 10.0.0.1 10.0.0.2 x REJECT',
        'garbage',
        '2 10.0.0.3 10.0.0.4 443 ACCEPT',
      ].join('\n'),
    )
    const { rows, reader, bad } = await all([file])
    assert.deepEqual(bad, [
      `${file}:3: 4 fields where the header has 5`,
      `${file}:6: 1 fields where the header has 5`,
    ])
    assert.equal(reader.stats.badLines, 2)
    assert.equal(rows.length, 3)
    assert.equal(rows[1]!.dstport, null, 'a value that is not a number reads as not applicable')
  })

  test('blanks around or between fields, tab-separated headerless files, and JSON that is not flow records', async () => {
    const dir = tmp()
    const record = '2 123456789010 eni-1 10.0.0.1 10.0.0.2 49152 22 6 1 40 1620000000 1620000060 REJECT OK'
    writeFileSync(
      join(dir, 'spaced.log'),
      `version srcaddr dstaddr dstport action\n2 10.0.0.1 10.0.0.2 22 ACCEPT \n`,
    )
    writeFileSync(join(dir, 'tabs.log'), `${record.replaceAll(' ', '\t')}\n`)
    writeFileSync(join(dir, 'manifest.json'), '{"files": 3, "version": 1}\n')
    const { rows, bad } = await all([dir])
    assert.deepEqual(bad, [`${join(dir, 'manifest.json')}:1: a JSON object that is not a flow-log record`])
    assert.deepEqual(
      rows.map((r) => [r.dstport, r.action]),
      [
        [22, 'ACCEPT'],
        [22, 'REJECT'],
      ],
    )
  })

  test('CloudWatch Logs exports: the timestamp before each record is skipped, with or without fractions', async () => {
    const dir = tmp()
    const lines = [
      '2024-06-01T13:00:05.000Z 2 123456789012 eni-0a1b 10.0.1.5 198.51.100.7 443 49152 6 10 8400 1717246800 1717246860 ACCEPT OK',
      '2024-06-01T13:00:05Z 2 123456789012 eni-0a1b 203.0.113.9 10.0.1.5 51515 22 6 1 44 1717246801 1717246859 REJECT OK',
      '2024-06-01T13:01:05.123456Z 2 123456789012 eni-0a1b - - - - - - - 1717246860 1717246920 - NODATA',
    ]
    // CreateExportTask writes gzip objects named 000000.gz, without a header line.
    writeFileSync(join(dir, '000000.gz'), gzipSync(`${lines.join('\n')}\n`))
    const { rows, bad } = await all([dir])
    assert.deepEqual(bad, [])
    assert.deepEqual(
      rows.map((r) => [
        r.version,
        r['interface-id'],
        r.srcaddr,
        r.dstport,
        r.packets,
        r.start,
        r['log-status'],
      ]),
      [
        [2, 'eni-0a1b', '10.0.1.5', 49152, 10, 1717246800, 'OK'],
        [2, 'eni-0a1b', '203.0.113.9', 22, 1, 1717246801, 'OK'],
        [2, 'eni-0a1b', null, null, null, 1717246860, 'NODATA'],
      ],
    )
    // Positional patterns count from the record, as CloudWatch Logs does (the timestamp is not a field).
    const ssh = runFlowlog([
      'query',
      '-f',
      'csv',
      '--pattern',
      '[v, account, eni, src, dst, sport, dport=22, ...]',
      dir,
    ])
    assert.equal(ssh.code, 0, ssh.stderr)
    assert.match(ssh.stdout, /^2024-06-01T13:00:01Z,.*203\.0\.113\.9,51515,10\.0\.1\.5,22,/m)
    assert.equal(ssh.stdout.trim().split('\n').length, 2, 'the header and one record')
    // A custom format exported the same way, read with --log-format.
    writeFileSync(join(dir, '000001.gz'), gzipSync('2024-06-01T13:02:00.000Z 10.0.1.5 22 REJECT\n'))
    const { rows: custom } = await all([join(dir, '000001.gz')], {
      logFormat: 'srcaddr dstport action',
    })
    assert.deepEqual(
      custom.map((r) => [r.srcaddr, r.dstport, r.action]),
      [['10.0.1.5', 22, 'REJECT']],
    )
  })

  test('concatenated files (cat a b > c): repeated and changed header lines switch the format', async () => {
    const dir = tmp()
    const a = readFileSync(join(AWS, 'v3-transit-gateway.txt'), 'utf8')
    const b = readFileSync(join(AWS, 'v3-nat-gateway.txt'), 'utf8')
    writeFileSync(join(dir, 'all.txt'), a + a + b)
    const { rows, bad } = await all([join(dir, 'all.txt')])
    assert.deepEqual(bad, [])
    assert.equal(rows.length, 4 + 4 + 6)
    assert.equal(rows[13]!['pkt-srcaddr'], '203.0.113.5')
    assert.equal(rows[13]!.version, undefined)
  })

  test('NHN CSV: NHN names become AWS names, DROP becomes REJECT, quoted cells are unquoted', async () => {
    const dir = tmp()
    const file = join(dir, 'fl-nhn_2024-06-01T12:00:00Z.csv')
    writeFileSync(
      file,
      [
        'timestamp_start,timestamp_end,interface_id,owner_id,protocol,src_addr,dst_addr,src_port,dst_port,tcp_flag,packets,bytes,direction,filter,status,rule-id',
        '1717243200,1717243210,nic-1,vm-1,6,198.51.100.7,10.0.1.10,50022,22,2,4,208,ingress,DROP,OK,',
        '1717243200,1717243200,nic-1,vm-1,17,10.0.1.10,10.0.0.2,53001,53,0,1,61,egress,ACCEPT,OK,"rule,with ""quotes"""',
        '1717243200,1717243259,nic-2,,,,,,,,,,,,NODATA,',
      ].join('\r\n'),
    )
    const { rows, bad } = await all([file])
    assert.deepEqual(bad, [])
    assert.equal(rows[0]!.action, 'REJECT')
    assert.equal(rows[0]!.srcaddr, '198.51.100.7')
    assert.equal(rows[0]!['pkt-srcaddr'], '198.51.100.7')
    assert.equal(rows[0]!.start, 1717243200)
    assert.equal(rows[0]!['instance-id'], 'vm-1')
    assert.equal(rows[0]!['flow-direction'], 'ingress')
    assert.equal(rows[0]!['tcp-flags'], 2)
    assert.equal(rows[1]!['rule-id'], 'rule,with "quotes"')
    assert.equal(rows[2]!['log-status'], 'NODATA')
    assert.equal(rows[2]!.protocol, null)
  })

  test("headerless NHN CSV in NHN's whole documented order (24 fields) or its API example (17)", async () => {
    const dir = tmp()
    writeFileSync(
      join(dir, 'full.csv'),
      '1717243200,1717243210,nic-1,instance,vm-1,sub-1,vpc-1,KR1,6,198.51.100.7,10.0.1.10,50022,22,2,4,208,ingress,DROP,-1,-1,-1,-1,OK,2\n',
    )
    writeFileSync(
      join(dir, 'basic.csv'),
      '1717243200,1717243210,nic-2,vm-2,sub-1,vpc-1,KR1,17,10.0.1.10,10.0.0.2,53001,53,0,1,61,ACCEPT,OK\n',
    )
    writeFileSync(join(dir, 'short.csv'), '1717243200,nic-3,6\n')
    const { rows, bad } = await all([dir])
    assert.deepEqual(bad, [
      `${join(dir, 'short.csv')}:1: no header row, and 3 fields are none of NHN's lists (18, 24, 17 fields): give --log-format`,
    ])
    assert.deepEqual(
      rows.map((r) => [r['interface-id'], r.dstport, r.action, r['instance-id']]),
      [
        ['nic-2', 53, 'ACCEPT', 'vm-2'],
        ['nic-1', 22, 'REJECT', 'vm-1'],
      ],
    )
  })

  test('JSONL: typed values pass through; a line that is not JSON is a bad line', async () => {
    const dir = tmp()
    const file = join(dir, 'x.jsonl')
    writeFileSync(
      file,
      '{"interface-id":"eni-1","srcaddr":"10.0.0.1","dstport":22,"action":"REJECT","start":1,"end":2}\n{oops\n{"interface-id":"eni-2","srcaddr":null,"dstport":null,"action":null,"start":3,"end":4,"log-status":"NODATA"}\n',
    )
    const { rows, bad } = await all([file])
    assert.equal(bad.length, 1)
    assert.match(bad[0]!, /x\.jsonl:2: not a JSON object/)
    assert.deepEqual(rows[0], {
      'interface-id': 'eni-1',
      srcaddr: '10.0.0.1',
      dstport: 22,
      action: 'REJECT',
      start: 1,
      end: 2,
    })
    assert.equal(rows[1]!['log-status'], 'NODATA')
  })

  test('Parquet through DuckDB, with AWS Parquet column names (underscores)', async () => {
    const dir = tmp()
    const path = join(dir, 'x.log.parquet')
    const db = await (await DuckDBInstance.create(':memory:')).connect()
    await db.run(`COPY (SELECT * FROM (VALUES
        (5, 'eni-1', '10.0.0.1', '10.0.0.2', 40000, 22, 6::BIGINT, 3::BIGINT, 180::BIGINT, 100::BIGINT, 160::BIGINT, 'REJECT', 'OK', 'ingress'),
        (5, 'eni-1', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 100::BIGINT, 159::BIGINT, NULL, 'NODATA', NULL))
      AS t(version, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, "end", action, log_status, flow_direction))
      TO '${path}' (FORMAT parquet)`)
    db.closeSync()
    const { rows, bad } = await all([path])
    assert.deepEqual(bad, [])
    assert.equal(rows.length, 2)
    assert.equal(rows[0]!.dstport, 22)
    assert.equal(rows[0]!.bytes, 180)
    assert.equal(rows[0]!['log-status'], 'OK')
    assert.equal(rows[0]!['flow-direction'], 'ingress')
    assert.equal(rows[1]!.srcaddr, null)
  })

  test('directories are walked recursively in key order; dot files (temporaries) are skipped', async () => {
    const dir = tmp()
    mkdirSync(join(dir, 'b/c'), { recursive: true })
    const text = readFileSync(join(AWS, 'headerless-v2.txt'))
    writeFileSync(join(dir, 'b/c/2.txt'), text)
    writeFileSync(join(dir, 'a.txt'), text)
    writeFileSync(join(dir, 'b/.x.tmp'), 'garbage')
    const { reader, bad } = await all([dir])
    assert.deepEqual(bad, [])
    assert.equal(reader.stats.files, 2)
  })

  test('a source that does not exist is bad input', async () => {
    await assert.rejects(all(['/nonexistent/flowlog']), {
      code: 'ERR_INVALID_INPUT',
      message: /no such file/,
    })
  })
})

describe('streamBlocks (files too big to hold)', () => {
  test('gunzips a stream in pieces and yields whole lines only', async () => {
    const lines = Array.from(
      { length: 5000 },
      (_, i) => `2 1 eni-1 10.0.0.${i % 250} 10.0.1.1 ${i} 22 6 1 60 1 2 ACCEPT OK`,
    )
    const zipped = gzipSync(`${lines.join('\n')}\n`)
    const pieces = Array.from({ length: Math.ceil(zipped.length / 1000) }, (_, i) =>
      zipped.subarray(i * 1000, i * 1000 + 1000),
    )
    let text = ''
    for await (const block of streamBlocks(Readable.from(pieces))) {
      assert.equal(block[block.length - 1], 10, 'a block ends at a line break')
      text += block.toString('utf8')
    }
    assert.equal(text, `${lines.join('\n')}\n`)
  })
})
