import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InputError } from '../core/errors.js'
import type { RecordBatch } from '../core/flow-record.js'
import type { FlowLogSpec, NetworkConfig } from '../core/network.js'
import { ACTION, DIRECTION, LOG_STATUS } from '../core/verdict.js'
import { AwsTextFormatter } from './aws-text-formatter.js'
import { expandBatch } from './expand-batch.js'
import {
  assertGolden,
  SAMPLE_RULE_IDS,
  sampleBatch,
  sampleNetwork,
  testBatch,
  testFlowLog,
  testInterface,
  testNetwork,
} from './test-fixtures.js'

const V2 =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'
const V3 = `${V2} vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr`
const V4 = `${V3} region az-id sublocation-type sublocation-id`
const V5 = `${V4} pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path`
const EXTRAS = 'rule-id reject-reason-detail start-ms end-ms skipped-packets skipped-bytes'

function render(fields: string, batch: RecordBatch, network: NetworkConfig, ruleIds: string[] = []): string {
  const flowLog: FlowLogSpec = testFlowLog({ fields: fields.split(' ') })
  const body = new AwsTextFormatter().encode(expandBatch(batch, network, ruleIds), { flowLog, network })
  return Buffer.from(body).toString('utf8')
}

describe('AWS text format', () => {
  // Golden files end in .txt, not .log: the repository ignores *.log.
  const cases: [string, string][] = [
    ['text-v2-default.txt', V2],
    ['text-v3.txt', V3],
    ['text-v4.txt', V4],
    ['text-v5.txt', V5],
    ['text-v8-extras.txt', `${V5} reject-reason ${EXTRAS}`],
    ['text-extras-only.txt', `interface-id ${EXTRAS} log-status`],
  ]
  for (const [golden, fields] of cases) {
    test(`sample window as ${golden}`, () => {
      assertGolden(import.meta.url, golden, render(fields, sampleBatch(), sampleNetwork(), SAMPLE_RULE_IDS))
    })
  }

  test('version is the highest AWS version among the fields', () => {
    const versionOf = (fields: string) =>
      render(fields, testBatch(0, 60, [{ iface: 0, src: '10.0.1.1', dst: '10.0.1.10' }]), sampleNetwork())
        .split('\n')[1]
        ?.split(' ')[0]
    assert.equal(versionOf(V2), '2')
    assert.equal(versionOf('version tcp-flags'), '3')
    assert.equal(versionOf('version az-id rule-id'), '4')
    assert.equal(versionOf('version flow-direction'), '5')
    assert.equal(versionOf('version reject-reason'), '8')
    assert.equal(versionOf(`version ${EXTRAS}`), '2')
  })

  test('the header repeats the configured names in order', () => {
    const text = render('log-status interface-id version', testBatch(0, 60, []), sampleNetwork())
    assert.equal(text, 'log-status interface-id version\n')
  })

  test('times stay inside the window: floor for start and end, window end - 1 for status records', () => {
    const text = render(
      'start end start-ms end-ms log-status',
      testBatch(100, 160, [
        { iface: 0, src: '10.0.1.1', dst: '10.0.1.10', first: 100.000999, last: 159.999999 },
        { iface: 0, src: '10.0.1.1', dst: '10.0.1.10', first: 101.123, last: 102.000001 },
        { iface: 0, status: LOG_STATUS.NODATA },
      ]),
      sampleNetwork(),
    )
    assert.deepEqual(text.split('\n').slice(1), [
      '100 159 100000 159999 OK',
      '101 102 101123 102000 OK',
      '100 159 100000 159999 NODATA',
      '',
    ])
  })

  test('an unknown field is an input error naming the flow log and the field', () => {
    assert.throws(
      () => render('version srcaddr tcp_flag', testBatch(0, 60, []), sampleNetwork()),
      (error: unknown) =>
        error instanceof InputError &&
        /fl-0001: field "tcp_flag" is not a text \(AWS\) field/.test(error.message),
    )
  })
})

/** The AWS documentation's examples (reference §2.3, §2.4), byte for byte where the model allows. */
describe('AWS documentation examples', () => {
  const account = { account: '123456789010' }

  test('accepted SSH and rejected RDP', () => {
    const ssh = testNetwork([testInterface('eni-1235b8ca123456789', ['172.31.16.21'])], account)
    assert.equal(
      render(
        V2,
        testBatch(1418530010, 1418530080, [
          {
            iface: 0,
            protocol: 6,
            src: '172.31.16.139',
            dst: '172.31.16.21',
            srcPort: 20641,
            dstPort: 22,
            packets: 20,
            bytes: 4249,
            first: 1418530010.2,
            last: 1418530070.9,
          },
        ]),
        ssh,
      ).split('\n')[1],
      '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK',
    )
    const rdp = testNetwork([testInterface('eni-1235b8ca123456789', ['172.31.9.12'])], account)
    assert.equal(
      render(
        V2,
        testBatch(1418530010, 1418530080, [
          {
            iface: 0,
            action: ACTION.REJECT,
            protocol: 6,
            src: '172.31.9.69',
            dst: '172.31.9.12',
            srcPort: 49761,
            dstPort: 3389,
            packets: 20,
            bytes: 4249,
            first: 1418530010,
            last: 1418530070,
            cause: -1,
          },
        ]),
        rdp,
      ).split('\n')[1],
      '2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK',
    )
  })

  test('NODATA, exactly', () => {
    const network = testNetwork([testInterface('eni-1235b8ca123456789', ['172.31.16.21'])], account)
    // AWS's example window: [1431280876, 1431280935), whose last second is 1431280934.
    const text = render(
      V2,
      testBatch(1431280876, 1431280935, [{ iface: 0, status: LOG_STATUS.NODATA }]),
      network,
    )
    assert.equal(
      text,
      `${V2}\n2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA\n`,
    )
  })

  test('SKIPDATA: as AWS except that packets and bytes carry what was skipped', () => {
    const network = testNetwork([testInterface('eni-11111111aaaaaaaaa', ['172.31.16.22'])], account)
    const batch = testBatch(1431280876, 1431280935, [
      { iface: 0, status: LOG_STATUS.SKIPDATA, packets: 7, bytes: 4200 },
    ])
    // AWS: `2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA`
    assert.equal(
      render(V2, batch, network).split('\n')[1],
      '2 123456789010 eni-11111111aaaaaaaaa - - - - - 7 4200 1431280876 1431280934 - SKIPDATA',
    )
  })

  test('stateful security group: ping accepted inbound, reply rejected outbound', () => {
    const network = testNetwork([testInterface('eni-1235b8ca123456789', ['172.31.16.139'])], account)
    const batch = testBatch(1432917000, 1432917180, [
      {
        iface: 0,
        direction: DIRECTION.INGRESS,
        protocol: 1,
        src: '203.0.113.12',
        dst: '172.31.16.139',
        packets: 4,
        bytes: 336,
        first: 1432917027,
        last: 1432917142,
      },
      {
        iface: 0,
        direction: DIRECTION.EGRESS,
        action: ACTION.REJECT,
        protocol: 1,
        src: '172.31.16.139',
        dst: '203.0.113.12',
        packets: 4,
        bytes: 336,
        first: 1432917094,
        last: 1432917142,
        cause: -1,
      },
    ])
    assert.deepEqual(render(V2, batch, network).split('\n').slice(1, 3), [
      '2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK',
      '2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917094 1432917142 REJECT OK',
    ])
  })

  test('TCP flag sequence (custom v3 format): SYN 2 from the clients, SYN-ACK 18 from the server', () => {
    const fields =
      'version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport ' +
      'pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status'
    const network = testNetwork(
      [
        testInterface('eni-1235b8ca123456789', ['10.0.0.62'], {
          instance: 'i-01234567890123456',
          subnet: 'subnet-aaaaaaaa012345678',
        }),
      ],
      {
        ...account,
        vpcs: [
          {
            id: 'vpc-abcdefab012345678',
            cidrs: ['10.0.0.0/16'],
            subnets: [{ id: 'subnet-aaaaaaaa012345678', cidrs: ['10.0.0.0/24'], az: null }],
          },
        ],
      },
    )
    const flow = (out: boolean, clientPort: number, bytes: number, packets: number, flags: number) => ({
      iface: 0,
      direction: out ? DIRECTION.EGRESS : DIRECTION.INGRESS,
      protocol: 6,
      src: out ? '10.0.0.62' : '52.213.180.42',
      dst: out ? '52.213.180.42' : '10.0.0.62',
      srcPort: out ? 5001 : clientPort,
      dstPort: out ? clientPort : 5001,
      bytes,
      packets,
      first: 1566848875.5,
      last: 1566848933.25,
      awsTcpFlags: flags,
    })
    const batch = testBatch(1566848875, 1566848935, [
      flow(false, 43416, 568, 8, 2),
      flow(true, 43416, 376, 7, 18),
      flow(false, 43418, 100701, 70, 2),
      flow(true, 43418, 632, 12, 18),
    ])
    const head =
      '3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4'
    assert.deepEqual(render(fields, batch, network).split('\n').slice(1, 5), [
      `${head} 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 568 8 1566848875 1566848933 ACCEPT 2 OK`,
      `${head} 10.0.0.62 52.213.180.42 5001 43416 10.0.0.62 52.213.180.42 6 376 7 1566848875 1566848933 ACCEPT 18 OK`,
      `${head} 52.213.180.42 10.0.0.62 43418 5001 52.213.180.42 10.0.0.62 6 100701 70 1566848875 1566848933 ACCEPT 2 OK`,
      `${head} 10.0.0.62 52.213.180.42 5001 43418 10.0.0.62 52.213.180.42 6 632 12 1566848875 1566848933 ACCEPT 18 OK`,
    ])
  })

  test('v5: ingress has no traffic-path; egress inside the VPC is 1', () => {
    const network = sampleNetwork()
    const batch = testBatch(0, 60, [
      { iface: 0, direction: DIRECTION.INGRESS, protocol: 6, src: '10.0.2.20', dst: '10.0.1.10' },
      { iface: 0, direction: DIRECTION.EGRESS, protocol: 6, src: '10.0.1.10', dst: '10.0.2.20' },
      { iface: 0, direction: DIRECTION.EGRESS, protocol: 6, src: '10.0.1.10', dst: '52.95.110.1' },
    ])
    assert.deepEqual(
      render('flow-direction traffic-path pkt-src-aws-service', batch, network).split('\n').slice(1, 4),
      ['ingress - -', 'egress 1 -', 'egress - -'],
    )
  })
})
