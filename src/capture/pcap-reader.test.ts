import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { concat, hex, type PcapOptions, pcapBytes, writeTempCapture } from '../../test/support/pcap-writer.js'
import { readFrames } from '../../test/support/read-frames.js'
import { CaptureError } from '../core/errors.js'
import { LINKTYPE, newFrame } from '../core/frame.js'
import { openCapture } from './open-capture.js'

const packets = [
  { data: Uint8Array.of(1, 2, 3, 4, 5), time: 1_700_000_000.25 },
  { data: Uint8Array.of(6, 7, 8), time: 1_700_000_001.5, originalLength: 1500 },
  { data: new Uint8Array(0), time: 1_700_000_002 },
]

describe('classic pcap reader', () => {
  const variants: { name: string; options: PcapOptions }[] = [
    { name: 'little-endian microseconds', options: {} },
    { name: 'big-endian microseconds', options: { bigEndian: true } },
    { name: 'little-endian nanoseconds', options: { nanoseconds: true } },
    { name: 'big-endian nanoseconds', options: { nanoseconds: true, bigEndian: true } },
    { name: 'raw IP link type', options: { linkType: LINKTYPE.RAW } },
  ]
  for (const { name, options } of variants) {
    test(`reads ${name}`, () => {
      const path = writeTempCapture(`${name}.pcap`, pcapBytes(packets, options))
      const { frames, problems } = readFrames(openCapture(path))
      assert.deepEqual(problems, {})
      assert.equal(frames.length, 3)
      for (const [i, frame] of frames.entries()) {
        const expected = packets[i]!
        assert.deepEqual(frame.data, Array.from(expected.data))
        assert.equal(frame.time, expected.time)
        assert.equal(frame.capturedLength, expected.data.length)
        assert.equal(frame.originalLength, expected.originalLength ?? expected.data.length)
        assert.equal(frame.linkType, options.linkType ?? LINKTYPE.ETHERNET)
        assert.equal(frame.device, null)
      }
    })
  }

  test('keeps nanoseconds as far as a double can', () => {
    const path = writeTempCapture(
      'ns.pcap',
      pcapBytes([{ data: Uint8Array.of(1), seconds: 1_700_000_000, fraction: 123_456_789 }], {
        nanoseconds: true,
      }),
    )
    const { frames } = readFrames(openCapture(path))
    assert.equal(frames[0]!.time, 1_700_000_000 + 123_456_789 / 1e9)
  })

  test('gives every frame the --device name', () => {
    const path = writeTempCapture('device.pcap', pcapBytes(packets))
    const { frames } = readFrames(openCapture(path, { device: 'tap0' }))
    assert.deepEqual(
      frames.map((f) => f.device),
      ['tap0', 'tap0', 'tap0'],
    )
  })

  test('masks the FCS bits out of the link type', () => {
    const bytes = pcapBytes(packets, { linkType: 0x1000_0001 })
    const { frames } = readFrames(openCapture(writeTempCapture('fcs.pcap', bytes)))
    assert.equal(frames[0]!.linkType, LINKTYPE.ETHERNET)
  })

  test('reads records that cross chunk boundaries and records larger than a chunk', () => {
    const big = Array.from({ length: 40 }, (_, i) => ({
      data: Uint8Array.from({ length: (i * 37) % 300 }, (_, j) => (i + j) & 0xff),
      time: 1000 + i,
    }))
    const path = writeTempCapture('chunks.pcap', pcapBytes(big))
    for (const chunkSize of [16, 17, 64, 100, 4096]) {
      const { frames, problems } = readFrames(openCapture(path, { chunkSize }))
      assert.deepEqual(problems, {}, `chunk ${chunkSize}`)
      assert.deepEqual(
        frames.map((f) => f.data),
        big.map((p) => Array.from(p.data)),
        `chunk ${chunkSize}`,
      )
    }
  })

  test('reads the Kuznetzov variant (24-byte record headers)', () => {
    const file = hex(
      'a1b2cd34 0002 0004 00000000 00000000 0000ffff 00000001' + // magic, v2.4, zone, sigfigs, snaplen, Ethernet
        '00000010 00000020 00000002 00000002' + // ts 16 s + 32 µs, caplen 2, len 2
        '00000003 0800 00 00' + // ifindex 3, protocol, packet type, padding
        'abcd', // data
    )
    const { frames, problems } = readFrames(openCapture(writeTempCapture('kuz.pcap', file)))
    assert.deepEqual(problems, {})
    assert.deepEqual(frames[0]!.data, [0xab, 0xcd])
    assert.equal(frames[0]!.time, 16.000032)
  })

  const broken: {
    name: string
    bytes: () => Uint8Array
    frames: number
    problems: Record<string, number>
  }[] = [
    {
      name: 'a last record cut inside its data',
      bytes: () => pcapBytes(packets.slice(0, 2)).subarray(0, -2),
      frames: 1,
      problems: { 'truncated-record': 1 },
    },
    {
      name: 'a last record cut inside its header',
      bytes: () => pcapBytes(packets).subarray(0, -1),
      frames: 2,
      problems: { 'truncated-record': 1 },
    },
    {
      name: 'trailing bytes shorter than a record header',
      bytes: () => concat([pcapBytes(packets), new Uint8Array(7)]),
      frames: 3,
      problems: { 'truncated-record': 1 },
    },
    {
      name: 'a captured length beyond 256 KiB (snap length 0)',
      bytes: () =>
        pcapBytes([packets[0]!, { data: new Uint8Array(4), capturedLength: 0x7fff_ffff }], { snapLength: 0 }),
      frames: 1,
      problems: { 'bad-record-length': 1 },
    },
    {
      name: 'only a file header',
      bytes: () => pcapBytes([]),
      frames: 0,
      problems: {},
    },
  ]
  for (const c of broken) {
    test(`counts ${c.name} and stops without throwing`, () => {
      const path = writeTempCapture(`${c.name}.pcap`, c.bytes())
      const { frames, problems } = readFrames(openCapture(path))
      assert.equal(frames.length, c.frames)
      assert.deepEqual(problems, c.problems)
    })
  }

  test('reads a record longer than the snap length whole, as libpcap and Wireshark do', () => {
    const long = { data: Uint8Array.from({ length: 100 }, (_, i) => i) }
    const path = writeTempCapture(
      'snap-too-small.pcap',
      pcapBytes([packets[0]!, long, packets[1]!], { snapLength: 64 }),
    )
    const { frames, problems } = readFrames(openCapture(path))
    assert.equal(frames.length, 3)
    assert.deepEqual(frames[1]!.data, Array.from(long.data))
    assert.deepEqual(problems, {})
  })

  test('throws CaptureError for a truncated file header', () => {
    const path = writeTempCapture('short-header.pcap', pcapBytes([]).subarray(0, 20))
    assert.throws(
      () => openCapture(path),
      (e: unknown) => e instanceof CaptureError && /truncated/.test(e.message),
    )
  })

  test('next() after the end and after close() returns false', () => {
    const reader = openCapture(writeTempCapture('end.pcap', pcapBytes(packets)))
    const frame = newFrame()
    while (reader.next(frame)) {}
    assert.equal(reader.next(frame), false)
    reader.close()
    reader.close()
    assert.equal(reader.next(frame), false)
  })
})
