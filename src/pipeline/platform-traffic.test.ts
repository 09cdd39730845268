import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DIRECTION, LOG_STATUS } from '../core/verdict.js'
import { type TestRow, testBatch, testInterface, testNetwork } from '../format/test-fixtures.js'
import { PlatformTraffic } from './platform-traffic.js'

// The test VPC is 10.0.0.0/16: its resolver is 10.0.0.2.
const network = testNetwork([testInterface('eni-a', ['10.0.1.10', '2001:db8:a::10'])])
const platform = new PlatformTraffic(network)
const { INGRESS, EGRESS, UNKNOWN } = DIRECTION
const TCP = 6
const UDP = 17

const cases: [string, TestRow, boolean][] = [
  [
    'DNS query to the VPC resolver',
    {
      iface: 0,
      direction: EGRESS,
      protocol: UDP,
      src: '10.0.1.10',
      dst: '10.0.0.2',
      srcPort: 40000,
      dstPort: 53,
    },
    true,
  ],
  [
    'its answer',
    {
      iface: 0,
      direction: INGRESS,
      protocol: UDP,
      src: '10.0.0.2',
      dst: '10.0.1.10',
      srcPort: 53,
      dstPort: 40000,
    },
    true,
  ],
  [
    'DNS over TCP to the resolver',
    {
      iface: 0,
      direction: EGRESS,
      protocol: TCP,
      src: '10.0.1.10',
      dst: '10.0.0.2',
      srcPort: 40001,
      dstPort: 53,
    },
    true,
  ],
  [
    'DNS to another server',
    {
      iface: 0,
      direction: EGRESS,
      protocol: UDP,
      src: '10.0.1.10',
      dst: '8.8.8.8',
      srcPort: 40000,
      dstPort: 53,
    },
    false,
  ],
  [
    'the resolver address on another port',
    {
      iface: 0,
      direction: EGRESS,
      protocol: TCP,
      src: '10.0.1.10',
      dst: '10.0.0.2',
      srcPort: 40000,
      dstPort: 80,
    },
    false,
  ],
  [
    'a packet from port 53 of the interface itself',
    {
      iface: 0,
      direction: INGRESS,
      protocol: UDP,
      src: '10.0.0.9',
      dst: '10.0.1.10',
      srcPort: 40000,
      dstPort: 53,
    },
    false,
  ],
  [
    'instance metadata',
    {
      iface: 0,
      direction: EGRESS,
      protocol: TCP,
      src: '10.0.1.10',
      dst: '169.254.169.254',
      srcPort: 40000,
      dstPort: 80,
    },
    true,
  ],
  [
    'its answer',
    {
      iface: 0,
      direction: INGRESS,
      protocol: TCP,
      src: '169.254.169.254',
      dst: '10.0.1.10',
      srcPort: 80,
      dstPort: 40000,
    },
    true,
  ],
  [
    'Amazon Time Sync',
    {
      iface: 0,
      direction: EGRESS,
      protocol: UDP,
      src: '10.0.1.10',
      dst: '169.254.169.123',
      srcPort: 123,
      dstPort: 123,
    },
    true,
  ],
  [
    'IPv6 instance metadata',
    {
      iface: 0,
      direction: EGRESS,
      protocol: TCP,
      src: '2001:db8:a::10',
      dst: 'fd00:ec2::254',
      srcPort: 40000,
      dstPort: 80,
    },
    true,
  ],
  [
    'other link-local',
    {
      iface: 0,
      direction: EGRESS,
      protocol: TCP,
      src: '10.0.1.10',
      dst: '169.254.1.1',
      srcPort: 40000,
      dstPort: 80,
    },
    false,
  ],
  [
    'DHCP',
    {
      iface: 0,
      direction: EGRESS,
      protocol: UDP,
      src: '0.0.0.0',
      dst: '255.255.255.255',
      srcPort: 68,
      dstPort: 67,
    },
    true,
  ],
  [
    'DHCPv6',
    {
      iface: 0,
      direction: INGRESS,
      protocol: UDP,
      src: 'fe80::1',
      dst: 'fe80::2',
      srcPort: 547,
      dstPort: 546,
    },
    true,
  ],
  [
    'ports 67/68 over TCP',
    {
      iface: 0,
      direction: EGRESS,
      protocol: TCP,
      src: '10.0.1.10',
      dst: '10.0.1.11',
      srcPort: 68,
      dstPort: 67,
    },
    false,
  ],
  [
    'unknown direction, resolver as source',
    {
      iface: 0,
      direction: UNKNOWN,
      protocol: UDP,
      src: '10.0.0.2',
      dst: '10.0.3.3',
      srcPort: 53,
      dstPort: 40000,
    },
    true,
  ],
  [
    'web traffic',
    {
      iface: 0,
      direction: INGRESS,
      protocol: TCP,
      src: '203.0.113.5',
      dst: '10.0.1.10',
      srcPort: 40000,
      dstPort: 443,
    },
    false,
  ],
  ['a NODATA record', { iface: 0, status: LOG_STATUS.NODATA }, false],
]

describe('PlatformTraffic', () => {
  const batch = testBatch(
    0,
    60,
    cases.map(([, row]) => row),
  )
  for (const [i, [name, , expected]] of cases.entries()) {
    test(`${name}: ${expected ? 'platform traffic' : 'not'}`, () => {
      assert.equal(platform.isPlatform(batch, i), expected)
    })
  }
})
