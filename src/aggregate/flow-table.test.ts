import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { parseAddress } from '../core/address.js'
import type { RecordBatch } from '../core/flow-record.js'
import { PacketView } from '../core/packet-view.js'
import { ACTION, DIRECTION, LOG_STATUS } from '../core/verdict.js'
import { windowBatch } from './closed-window.js'
import { FlowTable } from './flow-table.js'

function packet(
  src: string,
  dst: string,
  sport: number,
  dport: number,
  protocol = 6,
  length = 100,
  flags = 0,
): PacketView {
  const v = new PacketView()
  v.ipVersion = src.includes(':') ? 6 : 4
  parseAddress(src, v.src)
  parseAddress(dst, v.dst)
  v.srcPort = sport
  v.dstPort = dport
  v.protocol = protocol
  v.ipLength = length
  v.tcpFlags = flags
  return v
}

function table(options: Partial<ConstructorParameters<typeof FlowTable>[0]> = {}) {
  const batches: RecordBatch[] = []
  const t = new FlowTable({
    interval: 60,
    capacity: 1000,
    coveredInterfaces: [0],
    lateness: 0,
    onWindow: (w) => batches.push(windowBatch(w)),
    ...options,
  })
  return { t, batches }
}

/** A table whose closed windows are read and their buffers handed back, as the writer thread does. */
function recyclingTable(options: { lateness: number; capacity: number }) {
  const batches: RecordBatch[] = []
  const buffers: ArrayBuffer[] = []
  const t: FlowTable = new FlowTable({
    interval: 60,
    coveredInterfaces: [0],
    ...options,
    onWindow: (w) => {
      batches.push(windowBatch(w))
      if (w.slots !== null) {
        buffers.push(w.slots)
        t.recycle(w.slots)
      }
    },
  })
  return { t, batches, buffers }
}

const rows = (b: RecordBatch) =>
  Array.from({ length: b.count }, (_, i) => ({
    iface: b.iface[i],
    status: b.status[i],
    packets: b.packets[i],
    bytes: b.bytes[i],
    first: b.first[i],
    last: b.last[i],
    aws: b.awsTcpFlags[i],
    nhn: b.nhnTcpFlags[i],
    srcPort: b.srcPort[i],
    dstPort: b.dstPort[i],
  }))

describe('FlowTable', () => {
  test('a table buffer given back for a later window holds none of the earlier records', () => {
    // Six windows, each with its own ports; with lateness two tables are open at a time, and each
    // closed window's buffer comes back (as the writer thread hands it back) for the next ones.
    const { t, batches, buffers } = recyclingTable({ lateness: 2, capacity: 100_000 })
    for (let w = 0; w < 6; w++) {
      const flows = 5000 - w * 600
      for (let f = 0; f < flows; f++)
        t.add(
          0,
          DIRECTION.INGRESS,
          ACTION.ACCEPT,
          0,
          packet('198.51.100.1', '10.0.0.1', 1000 + f, w + 1),
          w * 60 + f / 100,
        )
    }
    t.closeAll(359)
    assert.deepEqual(
      batches.map((b) => b.count),
      [5000, 4400, 3800, 3200, 2600, 2000],
    )
    for (const [w, b] of batches.entries()) {
      for (const r of rows(b)) assert.equal(r.dstPort, w + 1, `window ${w}: only its own records`)
      assert.equal(
        rows(b).reduce((n, r) => n + (r.packets ?? 0), 0),
        b.count,
      )
    }
    const served = new Set(buffers).size
    assert.ok(served < batches.length, `${served} buffers served ${batches.length} windows`)
  })

  test("a burst's large buffer is let go once windows are small again", () => {
    const { t, buffers } = recyclingTable({ lateness: 0, capacity: 1_000_000 })
    const fill = (window: number, flows: number) => {
      for (let f = 0; f < flows; f++) {
        const p = packet('198.51.100.1', '10.0.0.1', f & 0xffff, (f >>> 16) + 1)
        t.add(0, DIRECTION.INGRESS, ACTION.ACCEPT, 0, p, window * 60 + f / flows)
      }
    }
    fill(0, 200_000)
    fill(1, 10)
    fill(2, 10)
    fill(3, 10)
    t.closeAll(239)
    const slots = buffers.map((b) => b.byteLength / 64)
    assert.ok(slots[0]! >= 400_000, `the burst's table: ${slots[0]} slots`)
    // Window 1 is sized from the burst (and gets its buffer back); from window 2 on, the windows
    // are small again, and the burst's buffer, four times too large, is not kept.
    assert.ok(slots[3]! <= 8192 * 4, `window 3's table: ${slots[3]} slots`)
    assert.ok(t.memoryBytes < 200_000 * 64, `kept ${t.memoryBytes} bytes after small windows`)
  })

  test('counts packets, bytes, first and last time per record within an epoch-aligned window', () => {
    const { t, batches } = table()
    const p = packet('10.0.1.10', '203.0.113.5', 80, 40000)
    t.add(0, DIRECTION.EGRESS, ACTION.ACCEPT, 0, p, 120.5)
    t.add(0, DIRECTION.EGRESS, ACTION.ACCEPT, 0, p, 130.25)
    t.add(0, DIRECTION.EGRESS, ACTION.ACCEPT, 0, p, 179.9)
    assert.equal(batches.length, 0, 'the window is still open')
    t.add(0, DIRECTION.EGRESS, ACTION.ACCEPT, 0, p, 180)
    assert.equal(batches.length, 1)
    const [b] = batches
    assert.equal(b!.windowStart, 120)
    assert.equal(b!.windowEnd, 180)
    assert.deepEqual(rows(b!), [
      {
        iface: 0,
        status: LOG_STATUS.OK,
        packets: 3,
        bytes: 300,
        first: 120.5,
        last: 179.9,
        aws: 0,
        nhn: 0,
        srcPort: 80,
        dstPort: 40000,
      },
    ])
    t.closeAll(180)
    assert.equal(batches.length, 2)
    assert.equal(batches[1]!.windowStart, 180)
    assert.equal(batches[1]!.packets[0], 1)
  })

  test('keeps direction, action and protocol apart', () => {
    const { t, batches } = table()
    const p = packet('10.0.1.10', '203.0.113.5', 0, 0, 1)
    t.add(0, DIRECTION.EGRESS, ACTION.ACCEPT, 0, p, 1)
    t.add(0, DIRECTION.INGRESS, ACTION.ACCEPT, 0, p, 1)
    t.add(0, DIRECTION.INGRESS, ACTION.REJECT, -1, p, 1)
    t.closeAll(1)
    assert.equal(batches[0]!.count, 3)
    assert.deepEqual([...batches[0]!.direction].sort(), [0, 0, 1])
    assert.deepEqual([...batches[0]!.cause].sort(), [-1, 0, 0])
  })

  test('ORs TCP flags the AWS way and the NHN way', () => {
    // A short connection seen from the responder: SYN-ACK, ACK, FIN-ACK, PSH-ACK.
    const { t, batches } = table()
    const p = packet('10.0.1.10', '203.0.113.5', 80, 40000)
    for (const flags of [0x12, 0x10, 0x11, 0x18]) {
      p.tcpFlags = flags
      t.add(0, DIRECTION.EGRESS, ACTION.ACCEPT, 0, p, 5)
    }
    t.closeAll(5)
    assert.equal(batches[0]!.awsTcpFlags[0], 19, 'AWS: SYN-ACK 18 | FIN 1')
    assert.equal(batches[0]!.nhnTcpFlags[0], 19, 'NHN: SYN|ACK 18 | FIN|ACK 17')
  })

  test('NHN ignores ACK-only, PSH-only and PSH|ACK packets; AWS counts a lone FIN|ACK as FIN', () => {
    const { t, batches } = table()
    const p = packet('10.0.1.10', '203.0.113.5', 80, 40000)
    for (const flags of [0x10, 0x08, 0x18]) {
      p.tcpFlags = flags
      t.add(0, DIRECTION.EGRESS, ACTION.ACCEPT, 0, p, 5)
    }
    t.closeAll(5)
    assert.equal(batches[0]!.awsTcpFlags[0], 0)
    assert.equal(batches[0]!.nhnTcpFlags[0], 0)
  })

  test('writes NODATA for covered interfaces without traffic, and for idle windows between traffic', () => {
    const { t, batches } = table({ coveredInterfaces: [0, 1] })
    const p = packet('10.0.1.10', '203.0.113.5', 80, 40000)
    t.add(0, DIRECTION.EGRESS, ACTION.ACCEPT, 0, p, 10)
    t.add(0, DIRECTION.EGRESS, ACTION.ACCEPT, 0, p, 190)
    t.closeAll(190)
    assert.deepEqual(
      batches.map((b) => [b.windowStart, [...b.status].join(',')]),
      [
        [0, `${LOG_STATUS.OK},${LOG_STATUS.NODATA}`],
        [60, `${LOG_STATUS.NODATA},${LOG_STATUS.NODATA}`],
        [120, `${LOG_STATUS.NODATA},${LOG_STATUS.NODATA}`],
        [180, `${LOG_STATUS.OK},${LOG_STATUS.NODATA}`],
      ],
    )
    const nodata = batches[1]!
    assert.equal(nodata.first[0], 60)
    assert.equal(nodata.last[0], 120)
  })

  test('a clock jump longer than maxIdleWindows skips the idle windows instead of writing them', () => {
    const { t, batches } = table({ maxIdleWindows: 10 })
    const p = packet('10.0.1.10', '203.0.113.5', 80, 40000)
    t.add(0, DIRECTION.EGRESS, ACTION.ACCEPT, 0, p, 10)
    t.add(0, DIRECTION.EGRESS, ACTION.ACCEPT, 0, p, 1e9)
    t.closeAll(1e9)
    assert.equal(batches.length, 2)
  })

  test('counts what does not fit into a SKIPDATA record of its interface, never losing it', () => {
    const { t, batches } = table({ capacity: 2, coveredInterfaces: [0, 3] })
    for (let port = 1; port <= 5; port++) {
      t.add(
        port % 2 === 0 ? 3 : 0,
        DIRECTION.EGRESS,
        ACTION.ACCEPT,
        0,
        packet('10.0.1.10', '10.0.1.20', port, 80, 6, 50),
        port,
      )
    }
    t.closeAll(5)
    const r = rows(batches[0]!)
    assert.deepEqual(
      r.map((x) => [x.iface, x.status, x.packets, x.bytes]).sort((a, b) => a[1]! - b[1]! || a[0]! - b[0]!),
      [
        [0, LOG_STATUS.OK, 1, 50],
        [3, LOG_STATUS.OK, 1, 50],
        [0, LOG_STATUS.SKIPDATA, 2, 100],
        [3, LOG_STATUS.SKIPDATA, 1, 50],
      ],
    )
    assert.equal(t.skippedPackets, 3)
  })

  test('keeps SKIPDATA counts apart for interfaces beyond 65535 and for 1-s windows in year 9999', () => {
    // Interface 70000 in window w and interface 4464 in window w + 1 once shared one packed key
    // (w * 65536 + interface); so did neighbouring interfaces once w * 65536 passed 2^53.
    for (const start of [1_717_243_200, 253_402_299_000]) {
      const { t, batches } = table({ interval: 1, capacity: 0, coveredInterfaces: [4464, 4465, 70000] })
      t.skipPackets(70000, 3, 300, start + 0.5)
      t.skipPackets(4464, 5, 500, start + 1.5)
      t.skipPackets(4465, 7, 700, start + 1.5)
      t.closeAll(start + 2)
      const skips = batches.map((b) =>
        rows(b)
          .filter((x) => x.status === LOG_STATUS.SKIPDATA)
          .map((x) => [b.windowStart - start, x.iface, x.packets, x.bytes]),
      )
      assert.deepEqual(skips.flat(), [
        [0, 70000, 3, 300],
        [1, 4464, 5, 500],
        [1, 4465, 7, 700],
      ])
    }
  })

  test('accepts packets out of order within the lateness, and counts older ones as late', () => {
    const { t, batches } = table({ lateness: 5 })
    const p = packet('10.0.1.10', '203.0.113.5', 80, 40000)
    t.add(0, DIRECTION.EGRESS, ACTION.ACCEPT, 0, p, 61)
    t.add(0, DIRECTION.EGRESS, ACTION.ACCEPT, 0, p, 58) // window 0 is still open: 61 < 60 + 5
    t.add(0, DIRECTION.EGRESS, ACTION.ACCEPT, 0, p, 70) // closes window 0
    t.add(0, DIRECTION.EGRESS, ACTION.ACCEPT, 0, p, 59) // too late
    t.closeAll(70)
    assert.deepEqual(
      batches.map((b) => [b.windowStart, b.packets[0]]),
      [
        [0, 1],
        [60, 2],
      ],
    )
    assert.equal(t.latePackets, 1)
  })

  test('grows past its initial size and keeps every record', () => {
    const { t, batches } = table({ capacity: 100_000 })
    for (let i = 0; i < 20_000; i++)
      t.add(0, DIRECTION.EGRESS, ACTION.ACCEPT, 0, packet('10.0.1.10', '10.0.2.1', i % 65536, 80), 1)
    t.closeAll(1)
    assert.equal(batches[0]!.count, 20_000)
  })

  test('property: packets and bytes are conserved whatever the order, interval and capacity', () => {
    const arbitraryPacket = fc.record({
      time: fc.double({ min: 0, max: 3600, noNaN: true }),
      flow: fc.integer({ min: 0, max: 40 }),
      iface: fc.integer({ min: 0, max: 2 }),
      length: fc.integer({ min: 20, max: 9000 }),
      flags: fc.integer({ min: 0, max: 255 }),
    })
    fc.assert(
      fc.property(
        fc.array(arbitraryPacket, { maxLength: 300 }),
        fc.integer({ min: 1, max: 900 }),
        fc.integer({ min: 1, max: 64 }),
        (packets, interval, capacity) => {
          const { t, batches } = table({
            interval,
            capacity,
            lateness: Number.POSITIVE_INFINITY,
            coveredInterfaces: [0, 1, 2],
          })
          for (const p of packets) {
            const v = packet('10.0.0.1', `10.0.0.${p.flow}`, p.flow, 80, 6, p.length, p.flags)
            t.add(p.iface, DIRECTION.EGRESS, ACTION.ACCEPT, 0, v, p.time)
          }
          t.closeAll(0)
          let n = 0
          let bytes = 0
          for (const b of batches) {
            for (let i = 0; i < b.count; i++) {
              if (b.status[i] === LOG_STATUS.NODATA) continue
              n += b.packets[i]!
              bytes += b.bytes[i]!
              assert.ok(
                b.first[i]! >= b.windowStart && b.last[i]! < b.windowEnd,
                'times stay inside their window',
              )
            }
          }
          assert.equal(n, packets.length)
          assert.equal(
            bytes,
            packets.reduce((s, p) => s + p.length, 0),
          )
          const starts = batches.map((b) => b.windowStart)
          assert.deepEqual(
            starts,
            [...starts].sort((a, b) => a - b),
            'windows close in order',
          )
        },
      ),
      { numRuns: 300 },
    )
  })
})
