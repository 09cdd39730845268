import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { PacketView } from '../core/packet-view.js'
import { DIRECTION, type Direction } from '../core/verdict.js'
import { PendingTouches } from './pending-touches.js'

test('touches come out by time, then record order (the order they went in), whatever their times', () => {
  const step = fc.oneof(
    { arbitrary: fc.record({ push: fc.integer({ min: 0, max: 50 }) }), weight: 10 },
    { arbitrary: fc.record({ popBefore: fc.integer({ min: 0, max: 60 }) }), weight: 5 },
    { arbitrary: fc.record({ clear: fc.constant(true) }), weight: 1 },
  )
  fc.assert(
    fc.property(fc.array(step, { maxLength: 400 }), (steps) => {
      const touches = new PendingTouches()
      const reference: { time: number; order: number }[] = []
      const view = new PacketView()
      const into = { iface: 0, direction: DIRECTION.UNKNOWN as Direction, mask: 0 }
      let order = 0
      for (const s of steps) {
        if ('push' in s) {
          view.srcPort = order % 65536
          touches.push(s.push, order % 7, DIRECTION.INGRESS, view, 1 + (order % 3))
          reference.push({ time: s.push, order: order++ })
          continue
        }
        if ('clear' in s) {
          // A replay's next conversation group: nothing of the last one waits.
          touches.clear()
          reference.length = 0
          assert.equal(touches.nextTime, Number.POSITIVE_INFINITY)
          continue
        }
        reference.sort((a, b) => a.time - b.time || a.order - b.order)
        while (touches.nextTime < s.popBefore) {
          const expected = reference.shift()
          assert.ok(expected !== undefined)
          assert.equal(touches.pop(view, into), expected.time)
          assert.equal(view.srcPort, expected.order % 65536)
          assert.equal(into.iface, expected.order % 7)
          assert.equal(into.mask, 1 + (expected.order % 3))
        }
        assert.ok(reference.every((r) => r.time >= s.popBefore))
      }
      assert.equal(touches.size, reference.length)
    }),
  )
})

test('a touch gives back the packet it was given', () => {
  const touches = new PendingTouches()
  const view = new PacketView()
  Object.assign(view, { ipVersion: 6, protocol: 58, srcPort: 0, dstPort: 0, tcpFlags: 0, ipLength: 1280 })
  Object.assign(view, { icmpType: 128, icmpCode: 0, icmpId: 1, fragment: 0, fragmentId: 0 })
  view.src.set([0x20010db8, 0, 0, 1])
  view.dst.set([0x20010db8, 0, 0, 0xffffffff])
  touches.push(12.5, 9, DIRECTION.EGRESS, view, 2)
  const out = new PacketView()
  const into = { iface: 0, direction: DIRECTION.UNKNOWN as Direction, mask: 0 }
  assert.equal(touches.pop(out, into), 12.5)
  assert.deepEqual(
    { ...out, src: [...out.src], dst: [...out.dst] },
    { ...view, src: [...view.src], dst: [...view.dst] },
  )
  assert.deepEqual(into, { iface: 9, direction: DIRECTION.EGRESS, mask: 2 })
  assert.equal(touches.nextTime, Number.POSITIVE_INFINITY)
})
