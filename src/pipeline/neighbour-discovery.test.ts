import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LINKTYPE } from '../core/frame.js'
import { compilePolicy } from '../policy/compile-policy.js'
import { makeNetwork } from '../policy/test-kit.js'
import { PacketPipeline } from './packet-pipeline.js'

/** A raw IPv6 packet from fd00::10 to fd00::11 with an ICMPv6 header of `type` (checksums left 0). */
function icmpv6(type: number): Uint8Array {
  const p = new Uint8Array(40 + 8)
  p[0] = 0x60
  p[5] = 8 // payload length
  p[6] = 58 // next header: ICMPv6
  p[7] = 255
  p.set([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10], 8)
  p.set([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11], 24)
  p[40] = type
  return p
}

test('neighbour discovery is the link layer: counted, never judged or recorded; echo is a flow', () => {
  const network = makeNetwork({ sg: {} }, [{ id: 'eni-a', addresses: ['fd00::10'], groups: ['sg'] }])
  const pipeline = new PacketPipeline(network, compilePolicy(network), { lateness: 1, onWindow: () => {} })
  const frame = (type: number) => {
    const data = icmpv6(type)
    return {
      data,
      offset: 0,
      capturedLength: data.length,
      originalLength: data.length,
      time: 1_700_000_000,
      linkType: LINKTYPE.RAW,
      device: null,
    }
  }
  for (const type of [133, 134, 135, 136, 137]) pipeline.process(frame(type))
  assert.equal(pipeline.counters.neighbourDiscovery, 5)
  assert.equal(pipeline.counters.recordedPackets, 0)
  pipeline.process(frame(128))
  assert.equal(pipeline.counters.recordedPackets, 1, 'an echo request is judged (and rejected: no rule)')
})
