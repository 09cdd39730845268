import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { parseAddress } from '../core/address.js'
import { ConversationFlags } from './conversation-flags.js'

const wordsOf = (src: string, dst: string) => {
  const words = new Uint32Array(8)
  assert.ok(parseAddress(src, words, 0) && parseAddress(dst, words, 4))
  return words
}

test('both directions of a conversation share one flag; interface, protocol and ports tell them apart', () => {
  const flags = new ConversationFlags()
  const out = wordsOf('10.0.0.5', '198.51.100.7')
  const back = wordsOf('198.51.100.7', '10.0.0.5')
  assert.equal(flags.get(1, 6, out, 40000, 443), undefined)
  flags.set(1, 6, out, 40000, 443, true)
  assert.equal(flags.get(1, 6, back, 443, 40000), true)
  assert.equal(flags.get(2, 6, out, 40000, 443), undefined)
  assert.equal(flags.get(1, 17, out, 40000, 443), undefined)
  assert.equal(flags.get(1, 6, out, 40001, 443), undefined)
  // One address talking to itself on two ports is one conversation too.
  const self = wordsOf('10.0.0.5', '10.0.0.5')
  flags.set(1, 6, self, 80, 81, false)
  assert.equal(flags.get(1, 6, self, 81, 80), false)
  const v6 = wordsOf('2001:db8::1', '2001:db8::2')
  flags.set(1, 58, v6, 0, 0, true)
  assert.equal(flags.get(1, 58, wordsOf('2001:db8::2', '2001:db8::1'), 0, 0), true)
  assert.equal(flags.size, 3)
})

test('the table answers as a Map of text keys would, through growth', () => {
  const endpoint = fc.tuple(
    fc.oneof(fc.constantFrom('10.0.0.1', '10.0.0.2', '2001:db8::1'), fc.ipV4()),
    fc.integer({ min: 0, max: 65535 }),
  )
  const op = fc.tuple(
    fc.integer({ min: 0, max: 3 }),
    fc.constantFrom(6, 17, 1),
    endpoint,
    endpoint,
    fc.boolean(),
  )
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 3000 }), (ops) => {
      const flags = new ConversationFlags()
      const reference = new Map<string, boolean>()
      for (const [n, [iface, protocol, [a, aPort], [b, bPort], flag]] of ops.entries()) {
        if (n % 500 === 499) {
          // A replay's next conversation group: every flag forgotten, grown or not.
          flags.clear()
          reference.clear()
          assert.equal(flags.size, 0)
        }
        const x = `${a} ${aPort}`
        const y = `${b} ${bPort}`
        const key = `${iface} ${protocol} ${x < y ? `${x} ${y}` : `${y} ${x}`}`
        const words = wordsOf(a, b)
        assert.equal(flags.get(iface, protocol, words, aPort, bPort), reference.get(key))
        if (flag) {
          // Half the sets go through setLast, right after the get of the same conversation.
          if (bPort % 2 === 0) flags.setLast(aPort % 2 === 0)
          else flags.set(iface, protocol, words, aPort, bPort, aPort % 2 === 0)
          reference.set(key, aPort % 2 === 0)
        }
      }
      assert.equal(flags.size, reference.size)
    }),
    { numRuns: 60 },
  )
})
