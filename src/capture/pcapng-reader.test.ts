import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { concat, type PcapngBlock, pcapngBytes, writeTempCapture } from '../../test/support/pcap-writer.js'
import { readFrames } from '../../test/support/read-frames.js'
import { CaptureError } from '../core/errors.js'
import { LINKTYPE } from '../core/frame.js'
import { openCapture } from './open-capture.js'

const a = Uint8Array.of(0xaa, 1, 2, 3, 4)
const b = Uint8Array.of(0xbb, 5, 6)
const c = Uint8Array.of(0xcc)

function read(
  name: string,
  blocks: readonly PcapngBlock[],
  options: { device?: string; chunkSize?: number; reorder?: { frames: number; bytes: number } } = {},
) {
  return readFrames(openCapture(writeTempCapture(`${name}.pcapng`, pcapngBytes(blocks)), options))
}

describe('pcapng reader', () => {
  for (const bigEndian of [false, true]) {
    test(`reads EPB, OPB and SPB in a ${bigEndian ? 'big' : 'little'}-endian section`, () => {
      const { frames, problems } = read(`order-${bigEndian}`, [
        { kind: 'section', bigEndian },
        { kind: 'interface', linkType: LINKTYPE.ETHERNET, name: 'eth0', snapLength: 262144 },
        { kind: 'epb', time: 1_700_000_000.5, data: a, originalLength: 60 },
        { kind: 'opb', time: 1_700_000_001.25, data: b },
        { kind: 'spb', data: c, originalLength: 1 },
      ])
      assert.deepEqual(problems, {})
      assert.deepEqual(
        frames.map((f) => [f.data[0], f.time, f.capturedLength, f.originalLength, f.linkType, f.device]),
        [
          [0xaa, 1_700_000_000.5, 5, 60, 1, 'eth0'],
          [0xbb, 1_700_000_001.25, 3, 3, 1, 'eth0'],
          // SPB: no timestamp, so the previous packet's time.
          [0xcc, 1_700_000_001.25, 1, 1, 1, 'eth0'],
        ],
      )
    })
  }

  test('names frames by their interface, with per-interface link types', () => {
    const { frames } = read('multi', [
      { kind: 'section' },
      { kind: 'interface', linkType: LINKTYPE.ETHERNET, name: 'tap1' },
      { kind: 'interface', linkType: LINKTYPE.LINUX_SLL2, name: 'tap2\0\0' },
      { kind: 'interface', linkType: LINKTYPE.RAW },
      { kind: 'epb', interfaceId: 1, time: 1, data: a },
      { kind: 'epb', interfaceId: 0, time: 2, data: b },
      { kind: 'epb', interfaceId: 2, time: 3, data: c },
    ])
    assert.deepEqual(
      frames.map((f) => [f.device, f.linkType]),
      [
        ['tap2', LINKTYPE.LINUX_SLL2],
        ['tap1', LINKTYPE.ETHERNET],
        [null, LINKTYPE.RAW],
      ],
    )
  })

  describe('packets of several interfaces come out in time order', () => {
    /** Two interfaces whose writer flushed each one's packets in batches: 0 and 1 interleave loosely. */
    const batched = (): PcapngBlock[] => {
      const blocks: PcapngBlock[] = [
        { kind: 'section' },
        { kind: 'interface', name: 'tap-a' },
        { kind: 'interface', name: 'tap-b', tsresol: 9 },
      ]
      for (let batch = 0; batch < 4; batch++) {
        for (const id of [1, 0]) {
          for (let i = 0; i < 5; i++) {
            const time = 100 + batch * 10 + i * 2 + id
            const data = Uint8Array.from({ length: 3 + ((time * 7) % 90) }, (_, j) => (time + j) & 0xff)
            blocks.push({ kind: 'epb', interfaceId: id, time, data })
          }
        }
      }
      return blocks
    }
    const inTimeOrder = (frames: { time: number; device: string | null; data: number[] }[]) =>
      [...frames].sort((x, y) => x.time - y.time)

    test('within the bounds: in time order, every packet with its own bytes and interface', () => {
      for (const chunkSize of [64, 1 << 16]) {
        const { frames, problems } = read(`batched-${chunkSize}`, batched(), { chunkSize })
        assert.deepEqual(problems, {})
        assert.equal(frames.length, 40)
        assert.deepEqual(frames, inTimeOrder(frames), `chunk ${chunkSize}`)
        for (const f of frames) {
          assert.equal(f.device, (f.time - 100) % 2 === 0 ? 'tap-a' : 'tap-b')
          assert.equal(f.data[0], f.time & 0xff)
        }
      }
    })

    test('beyond the bounds: every packet still read, the ones out of order counted', () => {
      const { frames, problems } = read('batched-small', batched(), {
        reorder: { frames: 4, bytes: 1 << 20 },
      })
      assert.equal(frames.length, 40)
      const late = frames.filter((f, i) => frames.slice(0, i).some((e) => e.time > f.time)).length
      assert.ok(late > 0, 'a 4-frame reorder cannot sort batches of 5')
      assert.deepEqual(problems, { 'out-of-order': late })
      assert.deepEqual(
        frames.map((f) => f.time).sort((x, y) => x - y),
        inTimeOrder(frames).map((f) => f.time),
      )
    })

    test('an interface that stays silent: still in time order (the buffer runs full)', () => {
      const blocks = batched()
      blocks.splice(3, 0, { kind: 'interface', name: 'silent' })
      const { frames, problems } = read('batched-silent', blocks)
      assert.deepEqual(problems, {})
      assert.equal(frames.length, 40)
      assert.deepEqual(frames, inTimeOrder(frames))
    })

    test('a corrupt timestamp on one interface is handed on at once, and the others stay in order', () => {
      const blocks = batched()
      // 2^64 - 1 µs on tap-a, in the middle of the file.
      blocks.splice(20, 0, { kind: 'epb', interfaceId: 0, timestamp: 2n ** 64n - 1n, data: c })
      const { frames, problems } = read('batched-corrupt', blocks, { reorder: { frames: 8, bytes: 1 << 20 } })
      assert.deepEqual(problems, {})
      assert.equal(frames.length, 41)
      // It goes on at once (the pipeline counts it bad-timestamp); it holds up nothing else.
      const corrupt = frames.filter((f) => f.time === (2 ** 64 - 1) / 1e6)
      assert.equal(corrupt.length, 1)
      const others = frames.filter((f) => f !== corrupt[0])
      assert.deepEqual(others, inTimeOrder(others))
    })

    test('one interface per section: packets stay in file order, untouched', () => {
      const { frames, problems } = read('one-interface', [
        { kind: 'section' },
        { kind: 'interface', name: 'eth0' },
        { kind: 'epb', time: 3, data: a },
        { kind: 'epb', time: 1, data: b },
        { kind: 'epb', time: 2, data: c },
      ])
      assert.deepEqual(problems, {})
      assert.deepEqual(
        frames.map((f) => f.time),
        [3, 1, 2],
      )
    })

    test('a second interface described after the first packets: ordered from then on', () => {
      const { frames } = read('late-interface', [
        { kind: 'section' },
        { kind: 'interface', name: 'tap-a' },
        { kind: 'epb', time: 1, data: a },
        { kind: 'interface', name: 'tap-b' },
        { kind: 'epb', interfaceId: 0, time: 5, data: a },
        { kind: 'epb', interfaceId: 1, time: 2, data: b },
        { kind: 'epb', interfaceId: 1, time: 3, data: c },
      ])
      assert.deepEqual(
        frames.map((f) => [f.time, f.device]),
        [
          [1, 'tap-a'],
          [2, 'tap-b'],
          [3, 'tap-b'],
          [5, 'tap-a'],
        ],
      )
    })
  })

  test('--device overrides every interface name', () => {
    const { frames } = read(
      'override',
      [
        { kind: 'section' },
        { kind: 'interface', name: 'tap1' },
        { kind: 'interface' },
        { kind: 'epb', interfaceId: 0, data: a },
        { kind: 'epb', interfaceId: 1, data: b },
      ],
      { device: 'vm-eni' },
    )
    assert.deepEqual(
      frames.map((f) => f.device),
      ['vm-eni', 'vm-eni'],
    )
  })

  const clocks: { name: string; tsresol?: number; tsoffset?: number; timestamp: bigint; time: number }[] = [
    { name: 'default microseconds', timestamp: 1_700_000_000_123_456n, time: 1_700_000_000.123456 },
    {
      name: 'nanoseconds (if_tsresol 9)',
      tsresol: 9,
      timestamp: 1_700_000_000_123_456_789n,
      time: 1_700_000_000 + 123_456_789 / 1e9,
    },
    {
      name: 'milliseconds (if_tsresol 3)',
      tsresol: 3,
      timestamp: 1_700_000_000_250n,
      time: 1_700_000_000.25,
    },
    {
      name: 'power of two (if_tsresol 0x80|20, 2^-20 s)',
      tsresol: 0x80 | 20,
      timestamp: (1_700_000_000n << 20n) + (1n << 19n),
      time: 1_700_000_000.5,
    },
    {
      name: 'seconds with if_tsoffset',
      tsresol: 0,
      tsoffset: 1_600_000_000,
      timestamp: 42n,
      time: 1_600_000_042,
    },
    { name: 'negative if_tsoffset', tsoffset: -100, timestamp: 1_000_500_000n, time: 900.5 },
    // 2^64 ps is only 213 days, so a relative clock (e.g. with if_tsoffset) is what uses this.
    {
      name: 'picoseconds (beyond exact division)',
      tsresol: 12,
      timestamp: 10_000_000_500_000_000_000n,
      time: 10_000_000.5,
    },
  ]
  for (const clock of clocks) {
    test(`converts timestamps in ${clock.name}`, () => {
      const { frames } = read(`clock-${clock.name}`, [
        { kind: 'section' },
        {
          kind: 'interface',
          ...(clock.tsresol === undefined ? {} : { tsresol: clock.tsresol }),
          ...(clock.tsoffset === undefined ? {} : { tsoffset: clock.tsoffset }),
        },
        { kind: 'epb', timestamp: clock.timestamp, data: a },
      ])
      assert.equal(frames[0]!.time, clock.time)
    })
  }

  test('skips NRB, ISB, DSB, custom, local-use and unknown blocks by their length', () => {
    const body = (n: number) => Uint8Array.from({ length: n }, (_, i) => i)
    const { frames, problems } = read('skips', [
      { kind: 'section' },
      { kind: 'raw', type: 4, body: body(16) }, // NRB
      { kind: 'interface', name: 'eth0' },
      { kind: 'epb', time: 1, data: a },
      { kind: 'raw', type: 5, body: body(20) }, // ISB
      { kind: 'raw', type: 0x0a, body: body(13) }, // DSB, padded
      { kind: 'raw', type: 0x0bad, body: body(8) }, // custom
      { kind: 'raw', type: 0x40000bad, body: body(0) }, // custom, do not copy
      { kind: 'raw', type: 0x80000001, body: body(4) }, // local use
      { kind: 'raw', type: 0x12345678, body: body(100) }, // unknown
      { kind: 'epb', time: 2, data: b },
    ])
    assert.deepEqual(problems, {})
    assert.deepEqual(
      frames.map((f) => f.data[0]),
      [0xaa, 0xbb],
    )
  })

  test('a new section resets interfaces and may switch byte order', () => {
    const { frames, problems } = read('sections', [
      { kind: 'section' },
      { kind: 'interface', name: 'first0' },
      { kind: 'interface', name: 'first1' },
      { kind: 'epb', interfaceId: 1, time: 1, data: a },
      { kind: 'section', bigEndian: true },
      { kind: 'interface', name: 'second0', linkType: LINKTYPE.RAW },
      { kind: 'epb', interfaceId: 0, time: 2, data: b },
      { kind: 'epb', interfaceId: 1, time: 3, data: c }, // interface 1 belonged to the old section
      { kind: 'epb', interfaceId: 0, time: 4, data: c },
    ])
    assert.deepEqual(problems, { 'unknown-interface': 1 })
    assert.deepEqual(
      frames.map((f) => [f.device, f.time, f.linkType]),
      [
        ['first1', 1, LINKTYPE.ETHERNET],
        ['second0', 2, LINKTYPE.RAW],
        ['second0', 4, LINKTYPE.RAW],
      ],
    )
  })

  test('reads blocks across chunk boundaries and blocks larger than a chunk', () => {
    const blocks: PcapngBlock[] = [{ kind: 'section' }, { kind: 'interface', name: 'x' }]
    const expected: number[][] = []
    for (let i = 0; i < 30; i++) {
      const data = Uint8Array.from({ length: (i * 53) % 400 }, (_, j) => (i * 7 + j) & 0xff)
      blocks.push(i % 3 === 2 ? { kind: 'spb', data } : { kind: 'epb', time: i, data })
      expected.push(Array.from(data))
      if (i % 5 === 0) blocks.push({ kind: 'raw', type: 5, body: new Uint8Array(i * 10) })
    }
    for (const chunkSize of [8, 36, 128, 1 << 16]) {
      const { frames, problems } = read(`chunks-${chunkSize}`, blocks, { chunkSize })
      assert.deepEqual(problems, {})
      assert.deepEqual(
        frames.map((f) => f.data),
        expected,
        `chunk ${chunkSize}`,
      )
    }
  })

  const good: PcapngBlock[] = [
    { kind: 'section' },
    { kind: 'interface', snapLength: 100 },
    { kind: 'epb', time: 1, data: a },
  ]
  const broken: {
    name: string
    bytes: () => Uint8Array
    frames: number
    problems: Record<string, number>
  }[] = [
    {
      name: 'a last block cut short',
      bytes: () => pcapngBytes([...good, { kind: 'epb', time: 2, data: b }]).subarray(0, -3),
      frames: 1,
      problems: { 'truncated-record': 1 },
    },
    {
      name: 'a few trailing bytes',
      bytes: () => concat([pcapngBytes(good), Uint8Array.of(6, 0, 0)]),
      frames: 1,
      problems: { 'truncated-record': 1 },
    },
    {
      name: 'a trailing length that disagrees',
      bytes: () =>
        pcapngBytes([
          ...good,
          { kind: 'raw', type: 5, body: new Uint8Array(8), trailingLength: 24 },
          ...good.slice(2),
        ]),
      frames: 1,
      problems: { 'bad-record-length': 1 },
    },
    {
      name: 'a block length that is not a multiple of 4',
      bytes: () => pcapngBytes([...good, { kind: 'raw', type: 5, body: new Uint8Array(8), totalLength: 21 }]),
      frames: 1,
      problems: { 'bad-record-length': 1 },
    },
    {
      name: 'a block length below the minimum',
      bytes: () => pcapngBytes([...good, { kind: 'raw', type: 5, body: new Uint8Array(0), totalLength: 8 }]),
      frames: 1,
      problems: { 'bad-record-length': 1 },
    },
    {
      name: 'a captured length beyond the block',
      bytes: () => pcapngBytes([...good, { kind: 'epb', data: b, capturedLength: 40 }]),
      frames: 1,
      problems: { 'bad-record-length': 1 },
    },
    {
      name: 'a packet before any interface',
      bytes: () => pcapngBytes([{ kind: 'section' }, { kind: 'spb', data: a }, ...good.slice(1)]),
      frames: 1,
      problems: { 'unknown-interface': 1 },
    },
    {
      name: 'a later section header with a bad byte-order magic',
      bytes: () => {
        const second = pcapngBytes([{ kind: 'section' }])
        second[8] = 0x99
        return concat([pcapngBytes(good), second, pcapngBytes(good.slice(1))])
      },
      frames: 1,
      problems: { 'bad-section-header': 1 },
    },
    {
      name: 'a later section of major version 2',
      bytes: () => pcapngBytes([...good, { kind: 'section', majorVersion: 2 }, ...good.slice(1)]),
      frames: 1,
      problems: { 'bad-section-header': 1 },
    },
  ]
  for (const c of broken) {
    test(`counts ${c.name} and stops without throwing`, () => {
      const { frames, problems } = readFrames(openCapture(writeTempCapture(`${c.name}.pcapng`, c.bytes())))
      assert.equal(frames.length, c.frames)
      assert.deepEqual(problems, c.problems)
    })
  }

  test('reads a packet longer than its interface snap length whole, as libpcap and Wireshark do', () => {
    const long = new Uint8Array(101).fill(7)
    const bytes = pcapngBytes([...good, { kind: 'epb', time: 2, data: long }, ...good.slice(2)])
    const { frames, problems } = readFrames(openCapture(writeTempCapture('snap-too-small.pcapng', bytes)))
    assert.equal(frames.length, 3)
    assert.deepEqual(frames[1]!.data, Array.from(long))
    assert.deepEqual(problems, {})
  })

  test('throws CaptureError for an unusable first section header', () => {
    const bytes = pcapngBytes(good)
    bytes.set([1, 2, 3, 4], 8)
    const path = writeTempCapture('bad-shb.pcapng', bytes)
    assert.throws(
      () => openCapture(path),
      (e: unknown) => e instanceof CaptureError && e.message.includes(path) && /0x01020304/.test(e.message),
    )
  })

  test('throws CaptureError for a first section header cut short', () => {
    const path = writeTempCapture('short-shb.pcapng', pcapngBytes(good).subarray(0, 20))
    assert.throws(() => openCapture(path), CaptureError)
  })
})
