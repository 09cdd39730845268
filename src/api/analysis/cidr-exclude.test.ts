import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { excludeAddress } from './cidr-exclude.js'

describe('excludeAddress', () => {
  it('splits a small IPv4 block around the address', () => {
    assert.deepEqual(excludeAddress('10.0.0.0/30', '10.0.0.1'), ['10.0.0.2/31', '10.0.0.0/32'])
  })

  it('covers the whole internet but one address with 32 blocks that hold every other address', () => {
    const blocks = excludeAddress('0.0.0.0/0', '198.51.100.66')
    assert.ok(blocks !== null)
    assert.equal(blocks.length, 32)
    const size = blocks.reduce((sum, b) => sum + 2 ** (32 - Number(b.split('/')[1])), 0)
    assert.equal(size, 2 ** 32 - 1)
    assert.ok(blocks.includes('198.51.100.67/32'))
    assert.ok(blocks.includes('0.0.0.0/1'))
  })

  it('works for IPv6', () => {
    assert.deepEqual(excludeAddress('2001:db8::/126', '2001:db8::2'), ['2001:db8::/127', '2001:db8::3/128'])
  })

  it('is null for an address outside the block or of the other family', () => {
    assert.equal(excludeAddress('10.0.0.0/8', '192.0.2.1'), null)
    assert.equal(excludeAddress('10.0.0.0/8', '2001:db8::1'), null)
  })
})
