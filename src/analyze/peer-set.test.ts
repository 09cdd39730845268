import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { peerText } from './least-privilege.js'
import { PeerSet } from './peer-set.js'

test('a PeerSet holds what a Set would, through growth: IPv4 values in the order added, then the rest', () => {
  const key = fc.oneof(
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    fc.integer({ min: 0, max: 40 }),
    fc.constantFrom(0, -1, 2 ** 31 - 1, -(2 ** 31)),
    fc.constantFrom('2001:db8::1', '2001:db8::2', 'fe80::1'),
  )
  fc.assert(
    fc.property(fc.array(key, { maxLength: 2000 }), (keys) => {
      const peers = new PeerSet()
      const reference = new Set<number | string>()
      for (const k of keys) {
        assert.equal(peers.has(k), reference.has(k))
        peers.add(k)
        reference.add(k)
      }
      assert.equal(peers.size, reference.size)
      const numbers = [...reference].filter((k) => typeof k === 'number')
      const texts = [...reference].filter((k) => typeof k === 'string')
      assert.deepEqual([...peers], [...numbers, ...texts])
    }),
  )
})

test('sortedTexts lists the peers as their texts sorted as strings, IPv4 alone or mixed', () => {
  const v4 = fc.oneof(
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    fc.constantFrom(0, -1, 0x01020304, 0x0a000001, 0x09000001, 0x0a0a0a0a, 0x01000000),
  )
  fc.assert(
    fc.property(fc.array(v4, { maxLength: 300 }), fc.boolean(), (keys, withV6) => {
      const peers = new PeerSet()
      for (const k of keys) peers.add(k)
      if (withV6) peers.add('2001:db8::1').add('::ffff:10.0.0.1')
      assert.deepEqual(peers.sortedTexts(), [...peers].map(peerText).sort())
    }),
  )
})
