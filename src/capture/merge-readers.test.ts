import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { pcapBytes, pcapngBytes, writeTempCapture } from '../../test/support/pcap-writer.js'
import { readFrames } from '../../test/support/read-frames.js'
import { type Frame, type FrameReader, newFrame } from '../core/frame.js'
import { mergeReaders } from './merge-readers.js'
import { openCapture } from './open-capture.js'

/** A pcap whose packets are one byte each: `tag`, so the merged order can be read back. */
function capture(name: string, tag: number, times: number[]) {
  return openCapture(
    writeTempCapture(name, pcapBytes(times.map((time) => ({ data: Uint8Array.of(tag), time })))),
    { device: name },
  )
}

describe('mergeReaders', () => {
  test('yields frames of several captures in time order, ties by reader index', () => {
    const merged = mergeReaders([
      capture('a', 0xa, [1, 3, 5, 5, 9]),
      capture('b', 0xb, [0, 3, 4, 10]),
      capture('c', 0xc, []),
      capture('d', 0xd, [3, 5]),
    ])
    const { frames } = readFrames(merged)
    assert.deepEqual(
      frames.map((f) => [f.time, f.data[0], f.device]),
      [
        [0, 0xb, 'b'],
        [1, 0xa, 'a'],
        [3, 0xa, 'a'],
        [3, 0xb, 'b'],
        [3, 0xd, 'd'],
        [4, 0xb, 'b'],
        [5, 0xa, 'a'],
        [5, 0xa, 'a'],
        [5, 0xd, 'd'],
        [9, 0xa, 'a'],
        [10, 0xb, 'b'],
      ],
    )
  })

  test('merges pcap and pcapng, and sums their problems', () => {
    const pcapng = pcapngBytes([
      { kind: 'section' },
      { kind: 'interface', name: 'ng0' },
      { kind: 'epb', time: 2, data: Uint8Array.of(2) },
      { kind: 'epb', time: 4, data: Uint8Array.of(4) },
    ])
    const merged = mergeReaders([
      openCapture(writeTempCapture('m.pcapng', pcapng.subarray(0, -2))),
      openCapture(
        writeTempCapture(
          'm.pcap',
          pcapBytes([
            { time: 1, data: Uint8Array.of(1) },
            { time: 3, data: Uint8Array.of(3) },
          ]).subarray(0, -1),
        ),
      ),
    ])
    const { frames, problems } = readFrames(merged)
    assert.deepEqual(
      frames.map((f) => f.data[0]),
      [1, 2],
    )
    assert.deepEqual(problems, { 'truncated-record': 2 })
  })

  test('hands out frames without copying, each valid until the next call', () => {
    const inputs = [new Uint8Array(8), new Uint8Array(8)]
    const fake = (index: number, times: number[]): FrameReader => {
      let i = 0
      return {
        problems: new Map(),
        close() {},
        next(frame: Frame) {
          if (i >= times.length) return false
          inputs[index]![0] = i // the reader reuses its buffer, like a chunk
          frame.data = inputs[index]!
          frame.offset = 0
          frame.capturedLength = 1
          frame.time = times[i++]!
          return true
        },
      }
    }
    const merged = mergeReaders([fake(0, [1, 2]), fake(1, [1.5])])
    const frame = newFrame()
    const seen: [number, number][] = []
    while (merged.next(frame)) seen.push([frame.time, frame.data[frame.offset]!])
    assert.deepEqual(seen, [
      [1, 0],
      [1.5, 0],
      [2, 1],
    ])
  })

  test('one reader is returned as it is; none yields nothing', () => {
    const only = capture('only', 1, [1])
    assert.equal(mergeReaders([only]), only)
    only.close()
    assert.equal(mergeReaders([]).next(newFrame()), false)
  })
})
