import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { formatAddress, ipv4Value, parseAddress } from './address.js'

// The strict dotted quad, as a regular expression: what the hand-written parser must accept exactly.
const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/

const reference = (text: string): number =>
  DOTTED_QUAD.test(text) ? text.split('.').reduce((v, octet) => v * 256 + Number(octet), 0) : -1

test('ipv4Value accepts exactly the strict dotted quads, with their value', () => {
  const nearQuad = fc
    .array(
      fc.constantFrom('0', '1', '2', '5', '9', '00', '01', '25', '255', '256', '199', '1000', '', 'a', ' '),
      {
        minLength: 1,
        maxLength: 6,
      },
    )
    .chain((octets) => fc.constantFrom('.', '.', '.', '..', ':').map((sep) => octets.join(sep)))
  fc.assert(
    fc.property(fc.oneof(nearQuad, fc.string({ maxLength: 16 }), fc.ipV4()), (text) => {
      assert.equal(ipv4Value(text), reference(text), JSON.stringify(text))
    }),
    { numRuns: 20_000 },
  )
  for (const text of ['0.0.0.0', '255.255.255.255', '10.0.0.1', '192.168.1.254'])
    assert.equal(ipv4Value(text), reference(text))
  for (const text of [
    '1.2.3',
    '1.2.3.4.',
    '.1.2.3.4',
    '1.2.3.04',
    '1.2.3.256',
    '1..2.3',
    '1.2.3.4 ',
    '١.2.3.4',
  ])
    assert.equal(ipv4Value(text), -1, text)
})

test('parseAddress reads IPv4 as IPv4-mapped words and formats back to the same text', () => {
  fc.assert(
    fc.property(fc.ipV4(), (text) => {
      const words = new Uint32Array(4)
      assert.equal(parseAddress(text, words), true)
      assert.deepEqual([...words.subarray(0, 3)], [0, 0, 0xffff])
      assert.equal(formatAddress(words), text)
    }),
  )
  const words = new Uint32Array(4)
  assert.equal(parseAddress('::ffff:10.1.2.3', words), true)
  assert.equal(formatAddress(words), '10.1.2.3')
  assert.equal(parseAddress('::ffff:10.1.2.300', words), false)
})
