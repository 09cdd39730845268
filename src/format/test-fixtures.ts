import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAddress } from '../core/address.js'
import type { RecordBatch } from '../core/flow-record.js'
import type { FlowLogSpec, NetworkConfig, NetworkInterface } from '../core/network.js'
import { ACTION, DIRECTION, LOG_STATUS } from '../core/verdict.js'

/** Test-only builders for networks, flow logs and record batches (used by format and deliver tests). */

export const DEFAULT_FIELDS = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
]

export function testInterface(
  id: string,
  addresses: string[],
  overrides: Partial<NetworkInterface> = {},
): NetworkInterface {
  return {
    id,
    instance: null,
    subnet: 'subnet-0a1',
    mac: null,
    addresses,
    device: null,
    securityGroups: [],
    ...overrides,
  }
}

export function testNetwork(
  interfaces: NetworkInterface[],
  overrides: Partial<NetworkConfig> = {},
): NetworkConfig {
  return {
    account: '123456789010',
    region: 'kr1',
    vpcs: [
      {
        id: 'vpc-0a1',
        cidrs: ['10.0.0.0/16', '2001:db8:a::/56'],
        subnets: [
          { id: 'subnet-0a1', cidrs: ['10.0.1.0/24'], az: 'kr1-az1' },
          { id: 'subnet-0a2', cidrs: ['10.0.2.0/24'], az: null },
        ],
      },
    ],
    securityGroups: [],
    interfaces,
    flowLogs: [],
    limits: { flowTableCapacity: 1000, connectionTableCapacity: 1000 },
    ...overrides,
  }
}

export function testFlowLog(overrides: Partial<FlowLogSpec> = {}): FlowLogSpec {
  return {
    id: 'fl-0001',
    resource: 'vpc-0a1',
    trafficType: 'ALL',
    aggregationInterval: 60,
    fields: DEFAULT_FIELDS,
    fileFormat: 'text',
    destination: 'file:///var/lib/flowlog/logs',
    layout: 'aws',
    perHourPartition: false,
    compression: 'gzip',
    fileNameTemplate: '#{logger_id}_#{year}-#{month}-#{day}T#{hour}:#{minute}:#{second}Z',
    platformTraffic: 'include',
    ...overrides,
  }
}

/** One row of a test batch; addresses as text. */
export interface TestRow {
  iface: number
  status?: number
  direction?: number
  action?: number
  protocol?: number
  src?: string
  dst?: string
  srcPort?: number
  dstPort?: number
  packets?: number
  bytes?: number
  first?: number
  last?: number
  awsTcpFlags?: number
  nhnTcpFlags?: number
  cause?: number
}

export function testBatch(windowStart: number, windowEnd: number, rows: TestRow[]): RecordBatch {
  const n = rows.length
  const batch: RecordBatch = {
    windowStart,
    windowEnd,
    count: n,
    iface: new Int32Array(n),
    status: new Uint8Array(n),
    direction: new Uint8Array(n),
    action: new Uint8Array(n),
    protocol: new Uint8Array(n),
    src: new Uint32Array(4 * n),
    dst: new Uint32Array(4 * n),
    srcPort: new Uint16Array(n),
    dstPort: new Uint16Array(n),
    packets: new Float64Array(n),
    bytes: new Float64Array(n),
    first: new Float64Array(n),
    last: new Float64Array(n),
    awsTcpFlags: new Uint8Array(n),
    nhnTcpFlags: new Uint8Array(n),
    cause: new Int32Array(n),
  }
  rows.forEach((row, i) => {
    batch.iface[i] = row.iface
    batch.status[i] = row.status ?? LOG_STATUS.OK
    batch.direction[i] = row.direction ?? DIRECTION.INGRESS
    batch.action[i] = row.action ?? ACTION.ACCEPT
    batch.protocol[i] = row.protocol ?? 6
    if (row.src !== undefined && !parseAddress(row.src, batch.src, 4 * i))
      throw new Error(`bad address ${row.src}`)
    if (row.dst !== undefined && !parseAddress(row.dst, batch.dst, 4 * i))
      throw new Error(`bad address ${row.dst}`)
    batch.srcPort[i] = row.srcPort ?? 0
    batch.dstPort[i] = row.dstPort ?? 0
    batch.packets[i] = row.packets ?? 0
    batch.bytes[i] = row.bytes ?? 0
    batch.first[i] = row.first ?? windowStart
    batch.last[i] = row.last ?? windowStart
    batch.awsTcpFlags[i] = row.awsTcpFlags ?? 0
    batch.nhnTcpFlags[i] = row.nhnTcpFlags ?? 0
    batch.cause[i] = row.cause ?? 0
  })
  return batch
}

/**
 * Compares `actual` with testdata/{name} beside the calling test's source; UPDATE_GOLDEN=1
 * rewrites it. Compiled tests run from dist/, so the path is mapped back to the source tree,
 * where the golden files live (tsc does not copy them).
 */
export function assertGolden(testUrl: string, name: string, actual: string): void {
  const path = fileURLToPath(new URL(`testdata/${name}`, testUrl)).replace(/\/dist\/src\//, '/src/')
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, actual)
    return
  }
  assert.equal(
    actual,
    readFileSync(path, 'utf8'),
    `${name} differs from its golden file (UPDATE_GOLDEN=1 rewrites it)`,
  )
}

/**
 * The sample window the golden files show: one minute on three interfaces covering TCP, UDP, ICMP,
 * IPv6, ingress, egress and unknown direction, accept (with rule ids) and reject (both reasons),
 * a secondary address, an interface without instance or az, NODATA and SKIPDATA.
 */
export const SAMPLE_WINDOW = 1700000040
export const SAMPLE_RULE_IDS = ['sgr-ssh', 'sg-web-out-1', 'sg-db-in-1']

export function sampleNetwork(): NetworkConfig {
  return testNetwork([
    testInterface('eni-web1', ['10.0.1.10', '10.0.1.11', '2001:db8:a::10'], { instance: 'i-web1' }),
    testInterface('eni-db1', ['10.0.2.20'], { subnet: 'subnet-0a2' }),
    testInterface('eni-idle', ['10.0.1.30'], { instance: 'i-idle' }),
  ])
}

export function sampleBatch(): RecordBatch {
  const w = SAMPLE_WINDOW
  const { INGRESS, EGRESS, UNKNOWN } = DIRECTION
  const { ACCEPT, REJECT } = ACTION
  return testBatch(w, w + 60, [
    // SSH to the secondary address, accepted by sgr-ssh: dstaddr shows the primary.
    {
      iface: 0,
      direction: INGRESS,
      protocol: 6,
      src: '203.0.113.5',
      dst: '10.0.1.11',
      srcPort: 51000,
      dstPort: 22,
      packets: 12,
      bytes: 3120,
      first: w + 1.25,
      last: w + 59.9999,
      awsTcpFlags: 3,
      nhnTcpFlags: 19,
      cause: 0,
    },
    // Its replies: egress, srcaddr shows the primary; to the internet, so no traffic-path.
    {
      iface: 0,
      direction: EGRESS,
      protocol: 6,
      src: '10.0.1.11',
      dst: '203.0.113.5',
      srcPort: 22,
      dstPort: 51000,
      packets: 10,
      bytes: 5400,
      first: w + 1.2503,
      last: w + 59.5,
      awsTcpFlags: 19,
      nhnTcpFlags: 19,
      cause: 1,
    },
    // DNS to a host in the same VPC: traffic-path 1.
    {
      iface: 0,
      direction: EGRESS,
      protocol: 17,
      src: '10.0.1.10',
      dst: '10.0.2.20',
      srcPort: 40000,
      dstPort: 53,
      packets: 1,
      bytes: 73,
      first: w + 5.000001,
      last: w + 5.000001,
      cause: 1,
    },
    // Ping from outside, no rule allows it.
    {
      iface: 0,
      direction: INGRESS,
      action: REJECT,
      protocol: 1,
      src: '198.51.100.7',
      dst: '10.0.1.10',
      packets: 4,
      bytes: 336,
      first: w + 10,
      last: w + 13.002,
      cause: -1,
    },
    // IPv6 after the connection closed.
    {
      iface: 0,
      direction: INGRESS,
      action: REJECT,
      protocol: 6,
      src: '2001:db8:ffff::1',
      dst: '2001:db8:a::10',
      srcPort: 443,
      dstPort: 50123,
      packets: 2,
      bytes: 120,
      first: w + 20.5,
      last: w + 21,
      awsTcpFlags: 0,
      nhnTcpFlags: 0,
      cause: -2,
    },
    // Seen on eni-web1's device but matching none of its addresses.
    {
      iface: 0,
      direction: UNKNOWN,
      action: ACCEPT,
      protocol: 17,
      src: '10.0.9.9',
      dst: '10.0.9.8',
      srcPort: 5353,
      dstPort: 5353,
      packets: 3,
      bytes: 270,
      first: w + 30,
      last: w + 31,
      cause: 1,
    },
    // The database answering, on an interface with no instance and a subnet with no az.
    {
      iface: 1,
      direction: EGRESS,
      protocol: 17,
      src: '10.0.2.20',
      dst: '10.0.1.10',
      srcPort: 53,
      dstPort: 40000,
      packets: 1,
      bytes: 105,
      first: w + 5.0004,
      last: w + 5.0004,
      cause: 2,
    },
    // The flow table was full: what could not be tracked on eni-db1.
    { iface: 1, status: LOG_STATUS.SKIPDATA, packets: 1234, bytes: 567890 },
    // Nothing at all on eni-idle.
    { iface: 2, status: LOG_STATUS.NODATA },
  ])
}
