import assert from 'node:assert/strict'
import { endianness } from 'node:os'
import { describe, test } from 'node:test'
import { type Frame, LINKTYPE } from '../core/frame.js'
import { RingWalker } from './ring-walker.js'

const LE = endianness() === 'LE'
const BLOCK = 4096
/** Where the kernel puts an Ethernet packet in a frame: TPACKET_ALIGN(68 + 16) - 14. */
const MAC = 82

interface TestFrame {
  /** Offset of the frame in its block. */
  at: number
  /** tp_next_offset (0 for the last). */
  next: number
  snap: number
  len: number
  mac?: number
  sec?: number
  nsec?: number
  status?: number
  vlanTci?: number
  /** First byte of the packet, to tell frames apart. */
  mark?: number
}

/**
 * A ring of `blocks.length` blocks laid out as the kernel writes TPACKET_V3 blocks (native byte
 * order): block header, then frames chained by tp_next_offset.
 */
function ring(
  blocks: { ready?: boolean; count?: number; first?: number; length?: number; frames: TestFrame[] }[],
) {
  const buffer = new ArrayBuffer(BLOCK * blocks.length)
  const view = new DataView(buffer)
  const u32 = (at: number, v: number) => view.setUint32(at, v, LE)
  blocks.forEach((b, i) => {
    const base = i * BLOCK
    u32(base, 3)
    u32(base + 8, b.ready === false ? 0 : 1)
    u32(base + 12, b.count ?? b.frames.length)
    u32(base + 16, b.first ?? b.frames[0]?.at ?? 48)
    u32(base + 20, b.length ?? BLOCK)
    for (const f of b.frames) {
      const at = base + f.at
      u32(at, f.next)
      u32(at + 4, f.sec ?? 1_700_000_000)
      u32(at + 8, f.nsec ?? 0)
      u32(at + 12, f.snap)
      u32(at + 16, f.len)
      u32(at + 20, (f.status ?? 0) | 1)
      view.setUint16(at + 24, f.mac ?? MAC, LE)
      u32(at + 32, f.vlanTci ?? 0)
      const packet = at + (f.mac ?? MAC)
      // Ethernet: two addresses, IPv4's EtherType, then the mark.
      for (let k = 0; k < 12; k++) view.setUint8(packet + k, k + 1)
      view.setUint16(packet + 12, 0x0800)
      view.setUint8(packet + 14, f.mark ?? 0)
    }
  })
  return buffer
}

interface Seen {
  offset: number
  captured: number
  original: number
  time: number
  head: string
}

function walker(buffer: ArrayBuffer, snapLength = 256) {
  const seen: Seen[] = []
  const w = new RingWalker(buffer, BLOCK, {
    device: 'veth0',
    linkType: LINKTYPE.ETHERNET,
    snapLength,
    onFrame: (f: Frame) => {
      assert.equal(f.device, 'veth0')
      assert.equal(f.linkType, LINKTYPE.ETHERNET)
      seen.push({
        offset: f.offset,
        captured: f.capturedLength,
        original: f.originalLength,
        time: f.time,
        head: Buffer.from(f.data.subarray(f.offset, f.offset + 18)).toString('hex'),
      })
    },
  })
  return { w, seen }
}

describe('RingWalker on TPACKET_V3 blocks', () => {
  test('hands on each frame in place, with the kernel time stamp, lengths and the snap length', () => {
    const buffer = ring([
      {
        frames: [
          { at: 48, next: 160, snap: 64, len: 64, sec: 1_700_000_001, nsec: 250_000_000, mark: 1 },
          { at: 208, next: 400, snap: 300, len: 1514, sec: 1_700_000_002, nsec: 1, mark: 2 },
          { at: 608, next: 0, snap: 60, len: 60, mark: 3 },
        ],
      },
      { ready: false, frames: [{ at: 48, next: 0, snap: 60, len: 60, mark: 4 }] },
    ])
    const { w, seen } = walker(buffer)
    assert.equal(w.ready(0), true)
    assert.equal(w.ready(1), false, 'a block the kernel still owns')
    assert.equal(w.ready(2), false, 'past the ring')
    assert.equal(w.walk(0), 3)
    assert.deepEqual(
      seen.map((s) => [s.offset, s.captured, s.original]),
      [
        [48 + MAC, 64, 64],
        [208 + MAC, 256, 1514],
        [608 + MAC, 60, 60],
      ],
    )
    assert.equal(seen[0]?.time, 1_700_000_001.25)
    assert.equal(seen[1]?.time, 1_700_000_002 + 1e-9)
    assert.deepEqual(
      seen.map((s) => s.head.slice(24, 30)),
      ['080001', '080002', '080003'],
      'the bytes at the offset are the packet',
    )
    assert.equal(w.frames, 3)
    assert.equal(w.bytes, 64 + 1514 + 60)
    assert.equal(w.problems.size, 0)
  })

  test('a VLAN tag the kernel took off is put back after the addresses; lengths grow by 4', () => {
    const buffer = ring([
      { frames: [{ at: 48, next: 0, snap: 60, len: 60, status: 1 << 4, vlanTci: 0x600a, mark: 9 }] },
    ])
    const { w, seen } = walker(buffer)
    w.walk(0)
    assert.deepEqual(seen, [
      {
        offset: 48 + MAC - 4,
        captured: 64,
        original: 64,
        time: 1_700_000_000,
        head: '0102030405060708090a0b0c8100600a0800',
      },
    ])
  })

  test('odd frames are counted by reason, never thrown, and the rest of the block is read', () => {
    const buffer = ring([
      {
        count: 4,
        frames: [
          { at: 48, next: 160, snap: 0, len: 60 },
          { at: 208, next: 160, snap: 4000, len: 4000 },
          { at: 368, next: 160, snap: 60, len: 60, mark: 7 },
          { at: 528, next: 0, snap: 60, len: 60, mac: 10 },
        ],
      },
      // A broken chain: the second frame's offset is 0, so the other 9 cannot be found.
      { count: 10, frames: [{ at: 48, next: 0, snap: 60, len: 60, mark: 8 }] },
      // First frame past the block, and a block length past the block.
      { count: 3, first: BLOCK - 16, length: BLOCK * 2, frames: [] },
      // A chain that runs out of the block.
      { count: 0xffff_ffff, frames: [{ at: 48, next: BLOCK, snap: 60, len: 60, mark: 6 }] },
    ])
    const { w, seen } = walker(buffer)
    assert.equal(w.walk(0), 4)
    assert.equal(w.walk(1), 10)
    assert.equal(w.walk(2), 3)
    assert.equal(w.walk(3), 0xffff_ffff)
    assert.deepEqual(
      seen.map((s) => s.head.slice(28, 30)),
      ['07', '08', '06'],
    )
    assert.deepEqual(Object.fromEntries(w.problems), {
      'empty-frame': 1,
      'frame-past-block': 2,
      'frame-offset-past-block': 9 + 3 + (0xffff_ffff - 1),
      'block-length-past-block': 1,
    })
  })
})
