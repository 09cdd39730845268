import assert from 'node:assert/strict'
import { test } from 'node:test'
import { repoPath } from '../../test/support/paths.js'
import { hex } from '../../test/support/pcap-writer.js'
import { loadConfig } from '../config/load-config.js'
import type { ClosedWindow } from '../core/flow-record.js'
import { LINKTYPE, newFrame } from '../core/frame.js'
import { DECODE } from '../core/packet-view.js'
import { compilePolicy } from '../policy/compile-policy.js'
import { PacketPipeline } from './packet-pipeline.js'

// Raw IPv4: 203.0.113.5:40000 -> 10.0.1.10:80, TCP SYN (checksums zero: never verified).
const SYN = hex(
  '45000028' +
    '00010000' +
    '40060000' +
    'cb007105' +
    '0a00010a' +
    '9c400050' +
    '00000001' +
    '00000000' +
    '50020200' +
    '00000000',
)

test('a frame stamped with a time no flow log can carry is bad-timestamp: no window, record or clock move', () => {
  const network = loadConfig(repoPath('test/fixtures/odd.yaml'))
  const windows: { interval: number; window: ClosedWindow }[] = []
  const pipeline = new PacketPipeline(network, compilePolicy(network), {
    lateness: 2,
    onWindow: (interval, window) => windows.push({ interval, window }),
  })
  const frame = newFrame()
  frame.data = SYN
  frame.capturedLength = SYN.length
  frame.originalLength = SYN.length
  frame.linkType = LINKTYPE.RAW
  const good = 1717243200.5
  // 2^64 - 1 µs, past 9999, before 1970, not finite, and the end of the range itself (exclusive).
  const bad = [
    (2 ** 64 - 1) / 1e6,
    253402300800 + 5,
    -1,
    -1e-6,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    253402299900,
  ]
  for (const time of [good, ...bad, good + 1]) {
    frame.time = time
    pipeline.process(frame)
  }
  pipeline.finish()
  const c = pipeline.counters
  assert.equal(c.frames, bad.length + 2)
  assert.equal(c.decodeResults[DECODE.BAD_TIMESTAMP], bad.length)
  assert.equal(c.decodeResults[DECODE.OK], 2)
  assert.equal(c.recordedPackets, 2)
  assert.equal(c.internalErrors, 0)
  assert.equal(pipeline.time, good + 1, 'the clock is moved by good frames only')
  assert.deepEqual(
    windows.map((w) => [w.window.windowStart, w.window.windowEnd, w.window.records]),
    [[1717243200, 1717243260, 1]],
  )
})
