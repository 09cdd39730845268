import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { type PcapngBlock, pcapBytes, pcapngBytes, writeTempCapture } from '../../test/support/pcap-writer.js'
import { readFrames } from '../../test/support/read-frames.js'
import { openCapture } from './open-capture.js'

const packet = fc.record({
  data: fc.uint8Array({ maxLength: 600 }),
  // Whole microseconds, so every variant stores the time exactly.
  micros: fc.integer({ min: 0, max: 2 ** 31 }).map((s) => s * 1e6 + (s % 999_983)),
})

test('whatever is written in any variant reads back the same, at any chunk size', () => {
  let run = 0
  fc.assert(
    fc.property(
      fc.array(packet, { maxLength: 25 }),
      fc.constantFrom('pcap', 'pcap-ns', 'pcap-be', 'pcapng', 'pcapng-be', 'pcapng-ns'),
      fc.integer({ min: 1, max: 2048 }),
      (packets, variant, chunkSize) => {
        const timed = packets.map((p) => ({
          data: p.data,
          seconds: Math.floor(p.micros / 1e6),
          micros: p.micros % 1e6,
        }))
        let bytes: Uint8Array
        if (variant.startsWith('pcap-') || variant === 'pcap') {
          const ns = variant === 'pcap-ns'
          bytes = pcapBytes(
            timed.map((p) => ({
              data: p.data,
              seconds: p.seconds,
              fraction: ns ? p.micros * 1000 : p.micros,
            })),
            { nanoseconds: ns, bigEndian: variant === 'pcap-be' },
          )
        } else {
          const ns = variant === 'pcapng-ns'
          const blocks: PcapngBlock[] = [
            { kind: 'section', bigEndian: variant === 'pcapng-be' },
            ns ? { kind: 'interface', name: 'if', tsresol: 9 } : { kind: 'interface', name: 'if' },
          ]
          for (const p of timed) {
            const units =
              BigInt(p.seconds) * (ns ? 1_000_000_000n : 1_000_000n) + BigInt(ns ? p.micros * 1000 : p.micros)
            blocks.push({ kind: 'epb', timestamp: units, data: p.data })
          }
          bytes = pcapngBytes(blocks)
        }
        const path = writeTempCapture(`round-trip-${run++ % 4}`, bytes)
        const { frames, problems } = readFrames(openCapture(path, { chunkSize }))
        assert.deepEqual(problems, {})
        assert.deepEqual(
          frames.map((f) => f.data),
          timed.map((p) => Array.from(p.data)),
        )
        for (const [i, f] of frames.entries()) {
          const p = timed[i]!
          assert.ok(Math.abs(f.time - (p.seconds + p.micros / 1e6)) < 1e-6, `time ${f.time}`)
        }
      },
    ),
    { numRuns: 60 },
  )
})
