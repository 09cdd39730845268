import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { hex } from '../../test/support/pcap-writer.js'
import { parseAddress } from '../core/address.js'
import { LINKTYPE, newFrame } from '../core/frame.js'
import { DECODE, PacketView } from '../core/packet-view.js'
import { decodeFrame } from './decoder.js'
import { FragmentPorts } from './fragment-ports.js'

/** A decoded-looking view, as decodeFrame leaves it for a fragment. */
function fragment(f: {
  kind: 1 | 2
  id?: number
  src?: string
  dst?: string
  protocol?: number
  ports?: [number, number]
  icmp?: [number, number, number]
}): PacketView {
  const view = new PacketView()
  parseAddress(f.src ?? '10.0.0.1', view.src)
  parseAddress(f.dst ?? '10.0.0.2', view.dst)
  view.ipVersion = view.src[2] === 0xffff ? 4 : 6
  view.protocol = f.protocol ?? 17
  view.fragment = f.kind
  view.fragmentId = f.id ?? 7
  if (f.kind === 1) {
    view.srcPort = f.ports?.[0] ?? 5000
    view.dstPort = f.ports?.[1] ?? 53
    if (f.icmp) [view.icmpType, view.icmpCode, view.icmpId] = f.icmp
  }
  return view
}

const ports = (v: PacketView) => [v.srcPort, v.dstPort]

describe('FragmentPorts', () => {
  const cases: {
    name: string
    first?: Parameters<typeof fragment>[0]
    firstAt?: number
    later: Parameters<typeof fragment>[0]
    at?: number
    filled: boolean
  }[] = [
    {
      name: 'a later fragment of a seen first fragment',
      first: { kind: 1 },
      later: { kind: 2 },
      filled: true,
    },
    {
      name: 'an IPv6 later fragment (32-bit id)',
      first: { kind: 1, src: '2001:db8::1', dst: '2001:db8::2', id: 0xcafe0001 },
      later: { kind: 2, src: '2001:db8::1', dst: '2001:db8::2', id: 0xcafe0001 },
      filled: true,
    },
    { name: 'no first fragment seen', later: { kind: 2 }, filled: false },
    { name: 'another fragment id', first: { kind: 1, id: 7 }, later: { kind: 2, id: 8 }, filled: false },
    {
      name: 'another protocol',
      first: { kind: 1, protocol: 17 },
      later: { kind: 2, protocol: 6 },
      filled: false,
    },
    { name: 'another source', first: { kind: 1 }, later: { kind: 2, src: '10.0.0.3' }, filled: false },
    {
      name: 'the reverse direction',
      first: { kind: 1 },
      later: { kind: 2, src: '10.0.0.2', dst: '10.0.0.1' },
      filled: false,
    },
    {
      name: 'a first fragment 30 s earlier',
      first: { kind: 1 },
      firstAt: 100,
      later: { kind: 2 },
      at: 130,
      filled: true,
    },
    {
      name: 'a first fragment 31 s earlier',
      first: { kind: 1 },
      firstAt: 100,
      later: { kind: 2 },
      at: 131,
      filled: false,
    },
  ]
  for (const c of cases) {
    test(`${c.filled ? 'fills' : 'leaves ports 0 for'} ${c.name}`, () => {
      const table = new FragmentPorts()
      if (c.first) assert.equal(table.apply(fragment(c.first), c.firstAt ?? 100), false)
      const later = fragment(c.later)
      assert.equal(table.apply(later, c.at ?? 100.5), c.filled)
      assert.deepEqual(ports(later), c.filled ? [5000, 53] : [0, 0])
    })
  }

  test('copies ICMP type, code and echo id, never TCP flags', () => {
    const table = new FragmentPorts()
    table.apply(fragment({ kind: 1, protocol: 1, ports: [0, 0], icmp: [8, 0, 0x4d2e] }), 1)
    const later = fragment({ kind: 2, protocol: 1 })
    assert.ok(table.apply(later, 1))
    assert.deepEqual([later.icmpType, later.icmpCode, later.icmpId, later.tcpFlags], [8, 0, 0x4d2e, 0])
  })

  test('leaves non-fragments alone', () => {
    const table = new FragmentPorts()
    const view = fragment({ kind: 1 })
    view.fragment = 0
    assert.equal(table.apply(view, 1), false)
    assert.deepEqual(ports(view), [5000, 53])
  })

  test('a full table overwrites the oldest entry, never grows', () => {
    const table = new FragmentPorts(4) // one probe window: 4 slots
    for (let id = 0; id < 5; id++) table.apply(fragment({ kind: 1, id, ports: [1000 + id, 53] }), id)
    const found = []
    for (let id = 0; id < 5; id++) {
      const later = fragment({ kind: 2, id })
      table.apply(later, 5)
      found.push(later.srcPort)
    }
    assert.deepEqual(found, [0, 1001, 1002, 1003, 1004])
  })

  test('holds many interleaved datagrams at once', () => {
    const table = new FragmentPorts(4096)
    for (let id = 0; id < 1000; id++) table.apply(fragment({ kind: 1, id, ports: [id, 53] }), 1)
    let filled = 0
    for (let id = 0; id < 1000; id++) {
      const later = fragment({ kind: 2, id })
      if (table.apply(later, 2) && later.srcPort === id) filled++
    }
    assert.ok(filled >= 990, `filled ${filled} of 1000`)
  })

  test('works on what decodeFrame produces for IPv4 fragments', () => {
    const header = (flags: string, total: string) =>
      `4500${total}` + // version 4, IHL 5, TOS, total length
      `beef${flags}` + // identification, flags + offset
      '40110000' + // TTL 64, UDP, checksum
      '0a000001' + // source 10.0.0.1
      '0a000002' // destination 10.0.0.2
    const first = hex(`${header('2000', '001c')}d4310035 0008 0000`) // MF, offset 0; UDP 54321 → 53
    const later = hex(`${header('0001', '001c')}${'ab'.repeat(8)}`) // offset 1 (8 bytes), payload only
    const table = new FragmentPorts()
    const view = new PacketView()
    const frame = newFrame()
    frame.linkType = LINKTYPE.RAW
    for (const [bytes, time] of [
      [first, 10],
      [later, 10.001],
    ] as const) {
      frame.data = bytes
      frame.capturedLength = bytes.length
      frame.time = time
      assert.equal(decodeFrame(frame, view), DECODE.OK)
      table.apply(view, frame.time)
    }
    assert.deepEqual([view.fragment, view.srcPort, view.dstPort, view.ipLength], [2, 54321, 53, 28])
  })
})
