import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { windowBatch } from '../aggregate/closed-window.js'
import { type Frame, LINKTYPE } from '../core/frame.js'
import type { NetworkConfig } from '../core/network.js'
import { testFlowLog } from '../format/test-fixtures.js'
import { compilePolicy } from '../policy/compile-policy.js'
import { makeNetwork } from '../policy/test-kit.js'
import { PacketPipeline } from './packet-pipeline.js'

// Counting a tracked connection's packets in its entry (ConnectionWindows) must give exactly the
// records adding every packet to the flow table gives: the same rows, packets, bytes, times, flags
// and causes, SKIPDATA, NODATA and late packets, whatever the traffic, its disorder and the bounds.

const T0 = 1_700_000_000
const HOSTS = ['10.0.1.10', '10.0.1.11', '10.0.2.20', '198.51.100.7', '198.51.100.8']

function network(
  flowCapacity: number,
  connectionCapacity: number,
  intervals: readonly number[],
): NetworkConfig {
  const net = makeNetwork(
    {
      web: {
        inbound: [
          { protocol: 'tcp', ports: '80', peer: '0.0.0.0/0' },
          { protocol: 'udp', ports: '53', peer: '0.0.0.0/0' },
          { protocol: 'icmp', peer: '0.0.0.0/0' },
        ],
        outbound: [{ protocol: 'all', peer: '0.0.0.0/0' }],
      },
      db: {
        inbound: [{ protocol: 'tcp', ports: '5432', peer: 'web' }],
        outbound: [{ protocol: 'tcp', peer: '10.0.0.0/16' }],
      },
    },
    [
      { id: 'eni-web-1', addresses: ['10.0.1.10'], groups: ['web'] },
      { id: 'eni-web-2', addresses: ['10.0.1.11'], groups: ['web'] },
      { id: 'eni-db', addresses: ['10.0.2.20'], groups: ['db'] },
    ],
  )
  return {
    ...net,
    flowLogs: intervals.map((interval, i) =>
      testFlowLog({ id: `fl-${i}`, resource: 'vpc-1', aggregationInterval: interval }),
    ),
    limits: { flowTableCapacity: flowCapacity, connectionTableCapacity: connectionCapacity },
  }
}

interface Spec {
  src: number
  dst: number
  protocol: number
  srcPort: number
  dstPort: number
  flags: number
  icmpType: number
  /** Echo identifier: two pings between the same hosts are two connections of one record. */
  icmpId: number
  length: number
  /** Milliseconds after the previous packet (negative: out of order). */
  step: number
}

/** A raw IPv4 packet (LINKTYPE.RAW) of `spec`. */
function bytesOf(spec: Spec): Uint8Array {
  const header = spec.protocol === 6 ? 20 : 8
  const total = Math.max(20 + header, spec.length)
  const p = new Uint8Array(total)
  p[0] = 0x45
  p[2] = total >> 8
  p[3] = total & 0xff
  p[8] = 64
  p[9] = spec.protocol
  p.set(HOSTS[spec.src]!.split('.').map(Number), 12)
  p.set(HOSTS[spec.dst]!.split('.').map(Number), 16)
  if (spec.protocol === 1) {
    p[20] = spec.icmpType
    p[24] = 0
    p[25] = spec.icmpId
  } else {
    p[20] = spec.srcPort >> 8
    p[21] = spec.srcPort & 0xff
    p[22] = spec.dstPort >> 8
    p[23] = spec.dstPort & 0xff
    if (spec.protocol === 6) {
      p[32] = 0x50
      p[33] = spec.flags
    } else {
      p[24] = (total - 20) >> 8
      p[25] = (total - 20) & 0xff
    }
  }
  return p
}

/** Every row of every window, as sorted text (records come out of a hash table in no set order). */
function run(
  net: NetworkConfig,
  specs: Spec[],
  countInEntries: boolean,
): { rows: string[]; late: number; counted: number } {
  const rows: string[] = []
  const pipeline = new PacketPipeline(net, compilePolicy(net), {
    lateness: 2,
    countInEntries,
    onWindow: (interval, window) => {
      const b = windowBatch(window)
      for (let r = 0; r < b.count; r++) {
        rows.push(
          [
            interval,
            b.windowStart,
            b.iface[r],
            b.status[r],
            b.direction[r],
            b.action[r],
            b.protocol[r],
            b.src.subarray(r * 4, r * 4 + 4).join('.'),
            b.dst.subarray(r * 4, r * 4 + 4).join('.'),
            b.srcPort[r],
            b.dstPort[r],
            b.packets[r],
            b.bytes[r],
            b.first[r],
            b.last[r],
            b.awsTcpFlags[r],
            b.nhnTcpFlags[r],
            b.cause[r],
          ].join(' '),
        )
      }
    },
  })
  let time = T0 * 1000
  for (const spec of specs) {
    time += spec.step
    const data = bytesOf(spec)
    const frame: Frame = {
      data,
      offset: 0,
      capturedLength: data.length,
      originalLength: data.length,
      time: time / 1000,
      linkType: LINKTYPE.RAW,
      device: null,
    }
    pipeline.process(frame)
  }
  pipeline.finish()
  assert.equal(pipeline.counters.internalErrors, 0, String(pipeline.firstInternalError))
  const late = pipeline.tables.reduce((sum, t) => sum + t.table.latePackets, 0)
  return { rows: rows.sort(), late, counted: pipeline.countedInEntries }
}

const spec = fc.record({
  src: fc.integer({ min: 0, max: HOSTS.length - 1 }),
  dst: fc.integer({ min: 0, max: HOSTS.length - 1 }),
  protocol: fc.constantFrom(6, 6, 17, 1),
  srcPort: fc.constantFrom(80, 53, 5432, 40000, 40001),
  dstPort: fc.constantFrom(80, 53, 5432, 40000, 22),
  flags: fc.constantFrom(0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14),
  icmpType: fc.constantFrom(8, 0, 3),
  icmpId: fc.constantFrom(7, 8),
  length: fc.integer({ min: 40, max: 1500 }),
  // Mostly forward, sometimes a jump past a window or its lateness, sometimes backwards. Never
  // two packets in one millisecond: two connections whose packets make one record (two pings
  // between the same hosts) can tell which came first only to the millisecond (WindowRecords.merge).
  step: fc.oneof(
    fc.integer({ min: 1, max: 400 }),
    fc.integer({ min: 0, max: 70_000 }),
    fc.integer({ min: -4_000, max: -1 }),
  ),
})

test('counting in connection entries gives exactly the records of the flow table alone', () => {
  fc.assert(
    fc.property(
      fc.array(spec, { minLength: 1, maxLength: 400 }),
      fc.constantFrom(3, 8, 1000),
      fc.constantFrom(2, 4, 1000),
      fc.constantFrom([60], [10, 60], [60, 60]),
      (specs, flowCapacity, connectionCapacity, intervals) => {
        const net = network(flowCapacity, connectionCapacity, intervals)
        const counted = run(net, specs, true)
        const alone = run(net, specs, false)
        assert.deepEqual(counted.rows, alone.rows)
        assert.equal(counted.late, alone.late)
      },
    ),
    { numRuns: 300 },
  )
})

test('a long connection is counted in its entry, one record per side and window', () => {
  const net = network(1000, 1000, [60])
  const specs: Spec[] = []
  for (let i = 0; i < 200; i++) {
    const out = i % 2 === 0
    specs.push({
      src: out ? 3 : 0,
      dst: out ? 0 : 3,
      protocol: 6,
      srcPort: out ? 40000 : 80,
      dstPort: out ? 80 : 40000,
      flags: i === 0 ? 0x02 : i === 1 ? 0x12 : 0x10,
      icmpType: 0,
      icmpId: 7,
      length: 100,
      step: 1000,
    })
  }
  const counted = run(net, specs, true)
  assert.equal(counted.counted, 200, 'every packet was counted in the entry')
  // 200 s: windows of 60 s, each with a record per direction.
  const records = counted.rows.filter((r) => r.split(' ')[3] === '0')
  assert.equal(records.length, 8)
  assert.equal(
    records.reduce((sum, r) => sum + Number(r.split(' ')[11]), 0),
    200,
  )
  assert.deepEqual(counted.rows, run(net, specs, false).rows)
})

test('a record fed by two connections names the rule of its first packet (pings both ways)', () => {
  const net = network(1000, 1000, [60])
  const ping = (src: number, dst: number, icmpType: number, icmpId: number): Spec => ({
    src,
    dst,
    protocol: 1,
    srcPort: 0,
    dstPort: 0,
    flags: 0,
    icmpType,
    icmpId,
    length: 84,
    step: 100,
  })
  // 10.0.1.10 pings the outside host (its outbound rule opens the connection), and the outside
  // host pings it (its inbound ICMP rule): the replies to the first and the requests of the second
  // are one record on eni-web-1 (ingress, ICMP, same addresses, ports 0).
  const replyFirst = [ping(0, 3, 8, 8), ping(3, 0, 0, 8), ping(3, 0, 8, 7)]
  const requestFirst = [ping(0, 3, 8, 8), ping(3, 0, 8, 7), ping(3, 0, 0, 8)]
  const causes: string[] = []
  for (const specs of [replyFirst, requestFirst]) {
    const counted = run(net, specs, true)
    assert.deepEqual(counted.rows, run(net, specs, false).rows)
    const ingress = counted.rows.filter((r) => r.split(' ')[4] === '0' && r.split(' ')[3] === '0')
    assert.equal(ingress.length, 1)
    assert.equal(ingress[0]?.split(' ')[11], '2')
    causes.push(ingress[0]?.split(' ')[17] ?? '')
  }
  assert.notEqual(causes[0], causes[1], 'the two orders name different rules')
})
