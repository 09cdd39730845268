import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { IntegerSet } from './integer-set.js'
import { PortPeers } from './port-peers.js'

test('an IntegerSet holds what a Set would, through growth, in the order added', () => {
  // Keys that differ only in their high or only in their low 32 bits, and the extremes.
  const key = fc.oneof(
    fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    fc.integer({ min: 0, max: 40 }).map((high) => high * 2 ** 32 + 7),
    fc.integer({ min: 0, max: 40 }).map((low) => 65536 * 2 ** 32 + low),
    fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1),
  )
  fc.assert(
    fc.property(fc.array(key, { maxLength: 2000 }), (keys) => {
      const set = new IntegerSet()
      const reference = new Set<number>()
      for (const k of keys) {
        assert.equal(set.has(k), reference.has(k))
        assert.equal(set.add(k), !reference.has(k))
        reference.add(k)
      }
      assert.equal(set.size, reference.size)
      assert.deepEqual([...set], [...reference])
    }),
  )
})

test('PortPeers gives the ports used and the peers of any port range, IPv4 and text peers alike', () => {
  const pair = fc.tuple(
    fc.integer({ min: -1, max: 65535 }),
    fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom('2001:db8::1', 'fe80::2')),
  )
  fc.assert(
    fc.property(fc.array(pair, { maxLength: 500 }), fc.integer({ min: -1, max: 65535 }), (pairs, from) => {
      const to = Math.min(65535, from + 1000)
      const portPeers = new PortPeers()
      for (const [port, peer] of pairs) portPeers.add(port, peer)
      assert.deepEqual(
        portPeers.ports(),
        [...new Set(pairs.map(([port]) => port))].sort((a, b) => a - b),
      )
      // Each distinct (port, peer) pair once; a peer of two ports in the range twice.
      const distinct = new Map(pairs.map(([port, peer]) => [`${port} ${peer}`, { port, peer }]))
      const expected = [...distinct.values()].filter((x) => x.port >= from && x.port <= to).map((x) => x.peer)
      const sort = (list: (number | string)[]) => list.map(String).sort()
      assert.deepEqual(sort(portPeers.peers(from, to)), sort(expected))
      assert.equal(portPeers.peers().length, distinct.size)
    }),
  )
})
