import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { listFiles, readText, runFlowlog } from '../support/cli.js'
import { pcapBytes } from '../support/pcap-writer.js'

const LINKTYPE_RAW = 101
const TCP = 6
const UDP = 17

/** A raw-IP IPv4 packet with a TCP or UDP header (checksums 0: nothing here checks them). */
function ipv4(protocol: number, src: string, dst: string, srcPort: number, dstPort: number): Uint8Array {
  const transport = protocol === TCP ? 20 : 8
  const bytes = new Uint8Array(20 + transport)
  const v = new DataView(bytes.buffer)
  v.setUint8(0, 0x45)
  v.setUint16(2, bytes.length)
  v.setUint8(8, 64)
  v.setUint8(9, protocol)
  bytes.set(src.split('.').map(Number), 12)
  bytes.set(dst.split('.').map(Number), 16)
  v.setUint16(20, srcPort)
  v.setUint16(22, dstPort)
  if (protocol === TCP) {
    v.setUint8(32, 0x50)
    v.setUint8(33, 0x02) // SYN
  } else v.setUint16(24, 8)
  return bytes
}

/** One VPC (resolver 10.0.0.2) and one interface in it, with these groups and flow logs (YAML). */
function config(securityGroups: string, flowLogs: string): string {
  return `
account: "123456789012"
region: kr1
vpcs:
  - id: vpc-1
    cidrs: [10.0.0.0/16]
    subnets: [{ id: subnet-1, cidrs: [10.0.1.0/24], az: kr1-az1 }]
securityGroups:
${securityGroups}
interfaces:
  - { id: eni-1, subnet: subnet-1, addresses: [10.0.1.10], securityGroups: [sg-1] }
flowLogs:
${flowLogs}
`
}

const CONFIG = config(
  `  - id: sg-1
    vpc: vpc-1
    inbound: [{ protocol: tcp, ports: "443", source: 0.0.0.0/0 }]
    outbound: [{ protocol: all, destination: 0.0.0.0/0 }]`,
  [
    ['fl-all', 'include'],
    ['fl-aws', 'exclude'],
  ]
    .map(
      ([id, platform]) => `  - id: ${id}
    resource: vpc-1
    aggregationInterval: 60
    fileFormat: jsonl
    fields: [srcaddr, dstaddr, srcport, dstport, protocol, packets, action]
    destination: file:///unused
    compression: none
    platformTraffic: ${platform}`,
    )
    .join('\n'),
)

describe('platformTraffic: exclude leaves out what AWS does not log (end to end)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-platform-'))
  const t = 1717243200
  const packets = [
    ipv4(UDP, '10.0.1.10', '10.0.0.2', 40000, 53), // DNS to the VPC resolver
    ipv4(UDP, '10.0.0.2', '10.0.1.10', 53, 40000),
    ipv4(TCP, '10.0.1.10', '169.254.169.254', 40001, 80), // instance metadata
    ipv4(UDP, '10.0.1.10', '169.254.169.123', 123, 123), // Amazon Time Sync
    ipv4(UDP, '10.0.1.10', '8.8.8.8', 40002, 53), // DNS elsewhere: logged
    ipv4(TCP, '203.0.113.5', '10.0.1.10', 50000, 443), // web: logged
  ].map((data, i) => ({ data, time: t + i }))
  const capture = join(dir, 'platform.pcap')
  writeFileSync(capture, pcapBytes(packets, { linkType: LINKTYPE_RAW }))
  const config = join(dir, 'net.yaml')
  writeFileSync(config, CONFIG)
  const out = join(dir, 'out')
  const run = runFlowlog(['replay', '--config', config, '--out', out, capture])
  const recordsOf = (id: string) =>
    listFiles(out)
      .filter((f) => f.includes(`_${id}_`))
      .flatMap((f) => readText(join(out, f)).trim().split('\n'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .map((r) => `${r.srcaddr}:${r.srcport} > ${r.dstaddr}:${r.dstport}`)
      .sort()

  test('the default keeps every packet of the capture', () => {
    assert.equal(run.code, 0, run.stderr)
    assert.deepEqual(recordsOf('fl-all'), [
      '10.0.0.2:53 > 10.0.1.10:40000',
      '10.0.1.10:123 > 169.254.169.123:123',
      '10.0.1.10:40000 > 10.0.0.2:53',
      '10.0.1.10:40001 > 169.254.169.254:80',
      '10.0.1.10:40002 > 8.8.8.8:53',
      '203.0.113.5:50000 > 10.0.1.10:443',
    ])
  })

  test('exclude keeps only the traffic AWS logs', () => {
    assert.deepEqual(recordsOf('fl-aws'), [
      '10.0.1.10:40002 > 8.8.8.8:53',
      '203.0.113.5:50000 > 10.0.1.10:443',
    ])
  })
})

describe('security groups do not filter the platform services (end to end)', () => {
  // No outbound rule at all, and only 443 in: the platform services pass anyway, AWS's way.
  const strict = config(
    `  - id: sg-1
    vpc: vpc-1
    inbound: [{ id: sgr-https, protocol: tcp, ports: "443", source: 0.0.0.0/0 }]
    outbound: []`,
    `  - id: fl-1
    resource: vpc-1
    aggregationInterval: 60
    fileFormat: jsonl
    fields: [srcaddr, dstaddr, dstport, action, rule-id, reject-reason-detail]
    destination: file:///unused
    compression: none`,
  )
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-platform-sg-'))
  const t = 1717243200
  const packets = [
    ipv4(UDP, '10.0.1.10', '10.0.0.2', 40000, 53), // DNS to the VPC resolver
    ipv4(UDP, '10.0.0.2', '10.0.1.10', 53, 40000), // its answer, on the connection
    ipv4(TCP, '10.0.1.10', '169.254.169.254', 40001, 80), // instance metadata
    ipv4(UDP, '10.0.1.10', '8.8.8.8', 40002, 53), // DNS elsewhere: no rule lets it out
    ipv4(TCP, '203.0.113.5', '10.0.1.10', 50000, 443), // web: sgr-https
    ipv4(TCP, '203.0.113.5', '10.0.1.10', 50001, 22), // ssh: no rule
  ].map((data, i) => ({ data, time: t + i }))
  const capture = join(dir, 'platform.pcap')
  writeFileSync(capture, pcapBytes(packets, { linkType: LINKTYPE_RAW }))
  writeFileSync(join(dir, 'net.yaml'), strict)
  const out = join(dir, 'out')

  test('DNS to the resolver and metadata are accepted by implicit:platform-services; the rest by the rules', () => {
    const run = runFlowlog(['replay', '--config', join(dir, 'net.yaml'), '--out', out, capture])
    assert.equal(run.code, 0, run.stderr)
    const records = listFiles(out)
      .flatMap((f) => readText(join(out, f)).trim().split('\n'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .map(
        (r) =>
          `${r.srcaddr} > ${r.dstaddr}:${r.dstport} ${r.action} ${r['rule-id'] ?? r['reject-reason-detail']}`,
      )
      .sort()
    assert.deepEqual(records, [
      '10.0.0.2 > 10.0.1.10:40000 ACCEPT implicit:platform-services',
      '10.0.1.10 > 10.0.0.2:53 ACCEPT implicit:platform-services',
      '10.0.1.10 > 169.254.169.254:80 ACCEPT implicit:platform-services',
      '10.0.1.10 > 8.8.8.8:53 REJECT no-matching-rule',
      '203.0.113.5 > 10.0.1.10:22 REJECT no-matching-rule',
      '203.0.113.5 > 10.0.1.10:443 ACCEPT sgr-https',
    ])
  })
})
