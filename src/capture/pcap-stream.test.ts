import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type PcapOptions, type PcapPacket, pcapBytes } from '../../test/support/pcap-writer.js'
import { LINKTYPE, newFrame } from '../core/frame.js'
import { PcapStream } from './pcap-stream.js'

interface Got {
  data: number[]
  time: number
  capturedLength: number
  originalLength: number
  linkType: number
  device: string | null
}

/** Feeds `bytes` to a stream in the given chunk sizes (cycled), draining whole records after each push. */
function feed(bytes: Uint8Array, sizes: readonly number[], initialSize?: number) {
  const stream = new PcapStream('test', 'tap0', initialSize)
  const frame = newFrame()
  const got: Got[] = []
  const perChunk: number[] = []
  let at = 0
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length]!
    // A copy, like a pipe's chunk: the stream must not keep a reference to it.
    stream.push(bytes.slice(at, at + size))
    at += size
    let n = 0
    while (stream.next(frame)) {
      n++
      got.push({
        data: Array.from(frame.data.subarray(frame.offset, frame.offset + frame.capturedLength)),
        time: frame.time,
        capturedLength: frame.capturedLength,
        originalLength: frame.originalLength,
        linkType: frame.linkType,
        device: frame.device,
      })
    }
    perChunk.push(n)
  }
  return { stream, got, perChunk }
}

function packetsOf(count: number): PcapPacket[] {
  return Array.from({ length: count }, (_, i) => ({
    data: Uint8Array.from({ length: 1 + ((i * 37) % 300) }, (_, j) => (i + j) & 0xff),
    seconds: 1_700_000_000 + i,
    fraction: i * 1000,
    originalLength: 1500 + i,
  }))
}

function expected(packets: readonly PcapPacket[], nanoseconds = false) {
  return packets.map((p) => ({
    data: Array.from(p.data),
    time: p.seconds! + p.fraction! / (nanoseconds ? 1e9 : 1e6),
    capturedLength: p.data.length,
    originalLength: p.originalLength ?? p.data.length,
    linkType: LINKTYPE.ETHERNET,
    device: 'tap0',
  }))
}

describe('pcap stream from a pipe', () => {
  const packets = packetsOf(40)

  test('records cut at every possible point are carried across chunks', () => {
    const bytes = pcapBytes(packets)
    for (const size of [1, 2, 3, 7, 15, 16, 17, 23, 24, 25, 100, 333]) {
      const { stream, got } = feed(bytes, [size])
      assert.deepEqual(got, expected(packets), `chunks of ${size} bytes`)
      assert.equal(stream.pending, 0)
      stream.finish()
      assert.deepEqual(Object.fromEntries(stream.problems), {})
    }
  })

  test('uneven chunks, header and records split anywhere', () => {
    const bytes = pcapBytes(packets, { nanoseconds: true, bigEndian: true })
    const { got } = feed(bytes, [5, 1, 64, 19, 4096, 3, 200])
    assert.deepEqual(got, expected(packets, true))
  })

  test('many records in one chunk are all handed out before the next push', () => {
    const many = packetsOf(2000)
    const { got, perChunk } = feed(pcapBytes(many), [1 << 20])
    assert.deepEqual(got, expected(many))
    assert.deepEqual(perChunk, [2000])
  })

  test('reads each timestamp precision and byte order, and the link type', () => {
    const variants: PcapOptions[] = [
      {},
      { bigEndian: true },
      { nanoseconds: true },
      { nanoseconds: true, bigEndian: true },
      { linkType: LINKTYPE.NFLOG },
    ]
    for (const options of variants) {
      const { stream, got } = feed(pcapBytes(packets.slice(0, 3), options), [10])
      assert.equal(stream.linkType, options.linkType ?? LINKTYPE.ETHERNET)
      assert.equal(stream.snapLength, 65535)
      assert.equal(got.length, 3)
      assert.equal(
        got[1]!.time,
        packets[1]!.seconds! + packets[1]!.fraction! / (options.nanoseconds ? 1e9 : 1e6),
      )
      assert.ok(got.every((f) => f.linkType === (options.linkType ?? LINKTYPE.ETHERNET)))
    }
  })

  test('a stream cut inside a record (the writer died) counts truncated-record at finish', () => {
    const bytes = pcapBytes(packets.slice(0, 5))
    for (const cut of [3, 16, 10]) {
      const { stream, got } = feed(bytes.subarray(0, bytes.length - cut), [64])
      assert.equal(got.length, 4, `cut ${cut} bytes short`)
      assert.ok(stream.pending > 0)
      stream.finish()
      assert.deepEqual(Object.fromEntries(stream.problems), { 'truncated-record': 1 })
      assert.equal(stream.pending, 0)
    }
  })

  test('a stream that ends on a record boundary, or before any header, is not truncated', () => {
    const { stream } = feed(pcapBytes(packets.slice(0, 2)), [7])
    stream.finish()
    assert.deepEqual(Object.fromEntries(stream.problems), {})
    const empty = new PcapStream('test', null)
    empty.finish()
    assert.equal(empty.linkType, -1)
    assert.deepEqual(Object.fromEntries(empty.problems), {})
  })

  test('grows for a chunk bigger than its buffer, keeping the partial record in front of it', () => {
    const big = packetsOf(3000)
    const bytes = pcapBytes(big)
    const { got } = feed(bytes, [101, 300_000], 256)
    assert.deepEqual(got, expected(big))
  })

  test('not pcap: error, nothing parsed, never throws', () => {
    const stream = new PcapStream('tap9', null)
    stream.push(new TextEncoder().encode('tcpdump: this is not a capture at all'))
    assert.equal(stream.next(newFrame()), false)
    assert.match(stream.error ?? '', /^tap9: not a pcap stream \(magic 0x74637064\)/)
  })

  test('a record longer than the snap length stops the parse with bad-record-length', () => {
    const bytes = pcapBytes(
      [
        { data: Uint8Array.of(1, 2), time: 1 },
        { data: new Uint8Array(300), time: 2 },
        { data: Uint8Array.of(3), time: 3 },
      ],
      { snapLength: 256 },
    )
    const { stream, got } = feed(bytes, [4096])
    assert.equal(got.length, 1)
    assert.match(stream.error ?? '', /300 bytes, more than the snap length 256/)
    stream.finish()
    assert.deepEqual(Object.fromEntries(stream.problems), { 'bad-record-length': 1 })
  })
})
