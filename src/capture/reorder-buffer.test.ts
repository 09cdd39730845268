import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { type Frame, newFrame } from '../core/frame.js'
import { ReorderBuffer } from './reorder-buffer.js'

/** A frame whose bytes say who it is: every byte is `id & 0xff`, `length` of them, inside a larger chunk. */
function frameOf(id: number, time: number, length: number): Frame {
  const chunk = new Uint8Array(length + 5).fill(0xee)
  chunk.fill(id & 0xff, 3, 3 + length)
  return {
    data: chunk,
    offset: 3,
    capturedLength: length,
    originalLength: length + 100,
    time,
    linkType: 1,
    device: `dev${id % 3}`,
  }
}

interface Out {
  time: number
  bytes: number[]
  originalLength: number
  device: string | null
}

/** Runs frames through the buffer as a reader does: push until refused, then shift one; drain at the end. */
function pass(buffer: ReorderBuffer, frames: readonly Frame[]): Out[] {
  const out: Out[] = []
  const frame = newFrame()
  const take = () => {
    assert.ok(buffer.shift(frame))
    out.push({
      time: frame.time,
      bytes: Array.from(frame.data.subarray(frame.offset, frame.offset + frame.capturedLength)),
      originalLength: frame.originalLength,
      device: frame.device,
    })
  }
  for (const f of frames) {
    while (!buffer.push(f)) take()
  }
  while (buffer.length > 0) take()
  assert.equal(buffer.shift(frame), false)
  return out
}

const expected = (frames: readonly Frame[]): Out[] =>
  frames.map((f) => ({
    time: f.time,
    bytes: Array.from(f.data.subarray(f.offset, f.offset + f.capturedLength)),
    originalLength: f.originalLength,
    device: f.device,
  }))

describe('ReorderBuffer', () => {
  test('hands frames back earliest first, equal times in arrival order, bytes and fields intact', () => {
    const frames = [frameOf(1, 5, 4), frameOf(2, 3, 7), frameOf(3, 5, 1), frameOf(4, 1, 0), frameOf(5, 4, 9)]
    const out = pass(new ReorderBuffer(8, 64), frames)
    assert.deepEqual(out, expected([frames[3]!, frames[1]!, frames[4]!, frames[0]!, frames[2]!]))
  })

  test('a frame further out of order than the capacity is still handed out, late', () => {
    const frames = [10, 11, 12, 13, 1].map((t, i) => frameOf(i, t, 2))
    const out = pass(new ReorderBuffer(3, 64), frames)
    assert.deepEqual(
      out.map((o) => o.time),
      [10, 11, 1, 12, 13],
    )
  })

  test('the arena bounds it too: bytes wrap around its end and come back in arrival order', () => {
    // A 10-byte arena and 3-byte frames: 1, 2, 5 fill 0..9; 3 waits until 1 and 2 free 0..6, then
    // wraps to 0; 4 does not fit before 5's bytes (still held), so 5 goes first, out of order.
    const frames = [1, 2, 5, 3, 4].map((t, i) => frameOf(i + 1, t, 3))
    const out = pass(new ReorderBuffer(100, 10), frames)
    assert.deepEqual(out, expected([frames[0]!, frames[1]!, frames[3]!, frames[2]!, frames[4]!]))
  })
})

describe('ReorderBuffer arena', () => {
  test('starts small and doubles only as far as the frames held need, keeping their bytes', () => {
    const buffer = new ReorderBuffer(100, 64, 8)
    const frames = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1].map((t, i) => frameOf(i + 1, t, 3))
    for (const f of frames) assert.ok(buffer.push(f))
    assert.equal(buffer.arenaBytes, 32, '30 bytes held')
    assert.deepEqual(pass(buffer, []), expected([...frames].reverse()))
    assert.equal(buffer.arenaBytes, 32)
  })

  test('grows while frames are held around the ring, handed-out ones in between', () => {
    const buffer = new ReorderBuffer(100, 1024, 8)
    const frame = newFrame()
    // Fill, hand out the later one, so the ring holds a gap; then push more than fits.
    assert.ok(buffer.push(frameOf(1, 1, 3)))
    assert.ok(buffer.push(frameOf(2, 0, 3)))
    assert.ok(buffer.shift(frame))
    assert.equal(frame.time, 0)
    const rest = [5, 3, 4].map((t, i) => frameOf(i + 3, t, 3))
    for (const f of rest) assert.ok(buffer.push(f))
    assert.equal(buffer.arenaBytes, 16)
    assert.deepEqual(pass(buffer, []), expected([frameOf(1, 1, 3), rest[1]!, rest[2]!, rest[0]!]))
  })
})

describe('ReorderBuffer (property)', () => {
  test('every frame comes out once with its own bytes; in time order when disorder stays within the bounds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 30 })), {
          maxLength: 120,
        }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 30, max: 200 }),
        fc.integer({ min: 30, max: 200 }),
        (spec, capacity, arenaBytes, initialBytes) => {
          const frames = spec.map(([time, length], i) => frameOf(i, time, length))
          const out = pass(new ReorderBuffer(capacity, arenaBytes, initialBytes), frames)
          // Same multiset of frames.
          const key = (o: Out) => `${o.time}|${o.originalLength}|${o.device}|${o.bytes.join(',')}`
          assert.deepEqual(out.map(key).sort(), expected(frames).map(key).sort())
          // A buffer at least as large as the input sorts it completely (stable by arrival).
          const total = frames.reduce((n, f) => n + f.capturedLength, 0)
          if (frames.length <= capacity && total < arenaBytes) {
            const sorted = frames
              .map((f, i) => ({ f, i }))
              .sort((a, b) => a.f.time - b.f.time || a.i - b.i)
              .map((x) => x.f)
            assert.deepEqual(out, expected(sorted))
          }
        },
      ),
      { numRuns: 500 },
    )
  })
})
