import assert from 'node:assert/strict'
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { openCapture } from '../../src/capture/open-capture.js'
import { listFiles, readJsonlRecords, readText, runFlowlog } from '../support/cli.js'
import { repoPath } from '../support/paths.js'
import { pcapBytes } from '../support/pcap-writer.js'
import { readFrames } from '../support/read-frames.js'

const MIXED = repoPath('test/fixtures/captures/mixed.pcap')

/** mixed.yaml plus a JSONL flow log that carries the rule and reject reason of every record. */
function mixedConfigWithJsonl(dir: string): string {
  const jsonl = `
  - id: fl-jsonl
    resource: vpc-0a1
    aggregationInterval: 60
    fileFormat: jsonl
    fields: [interface-id, flow-direction, pkt-srcaddr, pkt-dstaddr, srcport, dstport, protocol, packets, bytes, start, end, tcp-flags, action, log-status, rule-id, reject-reason-detail]
    destination: file:///unused
    layout: aws
    compression: none
`
  const path = join(dir, 'mixed-jsonl.yaml')
  writeFileSync(path, readFileSync(repoPath('test/fixtures/mixed.yaml'), 'utf8') + jsonl)
  return path
}

const tmp = () => mkdtempSync(join(tmpdir(), 'flowlog-e2e-'))

describe('flowlog replay (end to end through the CLI)', () => {
  const dir = tmp()
  const out = join(dir, 'out')
  const run = runFlowlog(['replay', '--config', mixedConfigWithJsonl(dir), '--out', out, MIXED])
  const records = run.code === 0 ? readJsonlRecords(out) : []
  const find = (where: Record<string, unknown>) =>
    records.filter((r) => Object.entries(where).every(([k, v]) => r[k] === v))

  test('exits 0 and summarises what it read and wrote', () => {
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /flowlog replay: [\d,]+ packets from 1 capture/)
    assert.match(run.stdout, /not IP +2 /)
    assert.match(run.stdout, /flow log fl-0001: 3 file\(s\)/)
    assert.match(run.stdout, /flow log fl-nhn01: 2 file\(s\)/)
  })

  test('writes one file per flow log per window, in each layout', () => {
    const files = listFiles(out)
    const aws = files.filter(
      (f) => f.startsWith('AWSLogs/123456789012/vpcflowlogs/kr1/2024/06/01/') && f.endsWith('.log.gz'),
    )
    assert.equal(aws.filter((f) => f.includes('_fl-0001_')).length, 3)
    assert.deepEqual(
      aws.filter((f) => f.includes('_fl-0001_')).map((f) => f.match(/_(\d{8}T\d{4}Z)_/)?.[1]),
      ['20240601T1200Z', '20240601T1201Z', '20240601T1202Z'],
    )
    assert.equal(files.filter((f) => f.startsWith('2024/06/01/') && f.includes('fl-nhn01')).length, 2)
  })

  test('text files start with the header line and hold the NODATA of the idle interface', () => {
    const file = listFiles(out).find((f) => f.includes('_fl-0001_') && f.includes('T1202Z'))!
    const lines = readText(join(out, file)).trimEnd().split('\n')
    assert.equal(
      lines[0],
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
    )
    const nodata = lines.filter((l) => l.endsWith(' NODATA'))
    assert.equal(nodata.length, 1)
    assert.match(nodata[0]!, /^2 123456789012 eni-db1 - - - - - - - \d+ \d+ - NODATA$/)
  })

  test('SSH from outside the allowed CIDR is rejected, with the reason', () => {
    const [ssh] = find({ 'pkt-srcaddr': '198.51.100.7', dstport: 22, protocol: 6 })
    assert.ok(ssh, 'a record for the rejected SSH attempt')
    assert.equal(ssh.action, 'REJECT')
    assert.equal(ssh['reject-reason-detail'], 'no-matching-rule')
    assert.equal(ssh.packets, 4, 'the SYN and 3 retransmits')
    assert.equal(ssh['flow-direction'], 'ingress')
  })

  test('allowed SSH and its replies are accepted and name the rule that let the connection in', () => {
    const inbound = find({ 'pkt-srcaddr': '203.0.113.5', srcport: 40022, dstport: 22 })
    const replies = find({ 'pkt-dstaddr': '203.0.113.5', dstport: 40022, srcport: 22 })
    assert.ok(inbound.length > 0 && replies.length > 0)
    for (const r of [...inbound, ...replies]) {
      assert.equal(r.action, 'ACCEPT')
      assert.equal(r['rule-id'], 'sgr-web-ssh')
    }
    assert.ok(replies.every((r) => r['flow-direction'] === 'egress'))
  })

  test('a packet after the connection was reset is REJECT not-established', () => {
    const late = find({ 'pkt-srcaddr': '198.51.100.7', srcport: 443, dstport: 45000, action: 'REJECT' })
    assert.equal(late.length, 1)
    assert.equal(late[0]!['reject-reason-detail'], 'not-established')
    const before = find({ 'pkt-srcaddr': '198.51.100.7', srcport: 443, dstport: 45000, action: 'ACCEPT' })
    assert.ok(before.length > 0, 'the replies before the RST were accepted by connection tracking')
  })

  test('the short connection carries the AWS TCP flags 3 (client) and 19 (server)', () => {
    const client = find({ 'pkt-srcaddr': '203.0.113.5', srcport: 40090 })
    const server = find({ 'pkt-dstaddr': '203.0.113.5', dstport: 40090 })
    assert.equal(client[0]?.['tcp-flags'], 3)
    assert.equal(server[0]?.['tcp-flags'], 19)
  })

  test('traffic between two interfaces is recorded on both; what the sender may not send never arrives', () => {
    const pg = find({ 'pkt-srcaddr': '10.0.1.10', 'pkt-dstaddr': '10.0.1.20', dstport: 5432 })
    assert.deepEqual(pg.map((r) => [r['interface-id'], r['flow-direction'], r.action]).sort(), [
      ['eni-db1', 'ingress', 'ACCEPT'],
      ['eni-web1', 'egress', 'ACCEPT'],
    ])
    assert.equal(pg[0]!.packets, pg[1]!.packets)
    const dbToWebSsh = find({ 'pkt-srcaddr': '10.0.1.20', 'pkt-dstaddr': '10.0.1.10', dstport: 22 })
    assert.deepEqual(dbToWebSsh.map((r) => [r['interface-id'], r.action]).sort(), [
      ['eni-db1', 'ACCEPT'],
      ['eni-web1', 'REJECT'],
    ])
  })

  test('a later IPv4 fragment gets its first fragment ports and verdict', () => {
    const dns = find({ 'pkt-srcaddr': '10.0.0.2', dstport: 53002, protocol: 17 })
    assert.equal(dns.length, 1)
    assert.equal(dns[0]!.action, 'ACCEPT')
    assert.equal(dns[0]!.packets, 2)
  })

  test('IPv6, ICMP and GRE are judged and recorded', () => {
    assert.equal(find({ 'pkt-srcaddr': '2001:db8:beef::5', dstport: 80 })[0]?.action, 'ACCEPT')
    assert.equal(find({ 'pkt-srcaddr': '2001:db8:beef::5', protocol: 58 })[0]?.action, 'ACCEPT')
    // 198.51.100.7's echo requests are rejected; its replies to web's own ping are accepted by state.
    const icmp = find({ 'pkt-srcaddr': '198.51.100.7', protocol: 1 })
    assert.deepEqual(
      icmp.map((r) => [r.action, r.packets, r['rule-id'] ?? r['reject-reason-detail']]).sort(),
      [
        ['ACCEPT', 2, 'sgr-web-out'],
        ['REJECT', 2, 'no-matching-rule'],
      ],
    )
    const gre = find({ 'pkt-srcaddr': '203.0.113.5', protocol: 47 })
    assert.deepEqual(
      gre.map((r) => [r.action, r['rule-id'], r.srcport, r.dstport]),
      [['ACCEPT', 'sgr-web-gre', 0, 0]],
    )
  })

  test('replaying the same capture again writes the same names and bytes (deterministic, overwrite)', () => {
    const again = runFlowlog(['replay', '--config', mixedConfigWithJsonl(dir), '--out', out, MIXED])
    assert.equal(again.code, 0, again.stderr)
    const before = listFiles(out)
    assert.deepEqual(listFiles(out), before)
    const second = join(dir, 'second')
    runFlowlog(['replay', '--config', mixedConfigWithJsonl(dir), '--out', second, MIXED])
    assert.deepEqual(listFiles(second), before)
    for (const f of before) assert.equal(readText(join(second, f)), readText(join(out, f)), f)
  })
})

describe('flowlog replay with bad input', () => {
  test('a file that is not a capture exits 1 and names the file', () => {
    const dir = tmp()
    const bogus = join(dir, 'notes.txt')
    writeFileSync(bogus, 'this is not a capture file at all')
    const r = runFlowlog(['replay', '--config', repoPath('test/fixtures/mixed.yaml'), '--out', dir, bogus])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /notes\.txt/)
  })

  test('an unknown --device exits 1 and lists the devices', () => {
    const r = runFlowlog([
      'replay',
      '--config',
      repoPath('test/fixtures/mixed.yaml'),
      '--device',
      'eth9',
      MIXED,
    ])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /--device: "eth9" is not the device of any interface.*tap-web1, tap-db1/)
  })

  test('an invalid config exits 1 with every problem, each naming path, value and rule', () => {
    const dir = tmp()
    const bad = join(dir, 'bad.yaml')
    const text = readFileSync(repoPath('test/fixtures/mixed.yaml'), 'utf8')
      .replace('ports: "22"', 'ports: "99999"')
      .replace('aggregationInterval: 60', 'aggregationInterval: 1000')
    writeFileSync(bad, text)
    const r = runFlowlog(['validate', '--config', bad])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /securityGroups\[0\]\.inbound\[3\]\.ports: "99999"/)
    assert.match(r.stderr, /flowLogs\[0\]\.aggregationInterval: 1000/)
  })

  test('validate accepts a good config and describes it', () => {
    const r = runFlowlog(['validate', '--config', repoPath('examples/quickstart/network.yaml')])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /valid/)
    assert.match(r.stdout, /flow log fl-quickstart: vpc-0a1 \(2 interface\(s\)\)/)
  })
})

describe('flowlog replay of several captures and device captures', () => {
  test('a capture split in two gives the same files as the whole (merged in time order)', () => {
    const { frames } = readFrames(openCapture(MIXED))
    const dir = tmp()
    // Alternate packets between two files: each file alone is out of step, merged they are whole.
    const [a, b] = [0, 1].map((k) => {
      const path = join(dir, `part${k}.pcap`)
      writeFileSync(
        path,
        pcapBytes(
          frames
            .filter((_, i) => i % 2 === k)
            .map((f) => ({ data: Uint8Array.from(f.data), time: f.time, originalLength: f.originalLength })),
        ),
      )
      return path
    })
    const whole = join(dir, 'whole')
    const split = join(dir, 'split')
    assert.equal(
      runFlowlog(['replay', '--config', repoPath('test/fixtures/mixed.yaml'), '--out', whole, MIXED]).code,
      0,
    )
    const r = runFlowlog(['replay', '--config', repoPath('test/fixtures/mixed.yaml'), '--out', split, b!, a!])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(listFiles(split), listFiles(whole))
    for (const f of listFiles(whole)) assert.equal(readText(join(split, f)), readText(join(whole, f)), f)
  })

  test('--device attributes a whole capture to one interface', () => {
    const dir = tmp()
    const capture = join(dir, 'tap-db1.pcap')
    copyFileSync(MIXED, capture)
    const r = runFlowlog([
      'replay',
      '--config',
      mixedConfigWithJsonl(dir),
      '--device',
      'tap-db1',
      '--out',
      join(dir, 'o'),
      capture,
    ])
    assert.equal(r.code, 0, r.stderr)
    const recs = readJsonlRecords(join(dir, 'o')).filter((x) => x['log-status'] === 'OK')
    assert.ok(recs.length > 0)
    assert.ok(recs.every((x) => x['interface-id'] === 'eni-db1'))
    // AWS knows only ingress/egress: a packet that is not the interface's own has no flow-direction.
    assert.ok(
      recs.some((x) => x['flow-direction'] === null),
      'web traffic seen on the db device has no direction',
    )
    const own = recs.filter((x) => x['pkt-dstaddr'] === '10.0.1.20' && x.dstport === 5432)
    assert.deepEqual(
      own.map((x) => [x['flow-direction'], x.action]),
      [['ingress', 'ACCEPT']],
    )
  })
})
