import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DIRECTION } from '../core/verdict.js'
import { NflogMeta, readNflogMeta } from '../decode/nflog-meta.js'
import { NO_MATCHING_RULE, type ParsedVerdict, parseVerdictPrefix, verdictPrefix } from './verdict-prefix.js'

const parse = (text: string): ParsedVerdict | null => {
  const out: ParsedVerdict = { iface: -1, direction: DIRECTION.UNKNOWN, cause: 0 }
  const bytes = new TextEncoder().encode(text)
  return parseVerdictPrefix(bytes, 0, bytes.length, out) ? out : null
}

test('a prefix reads back as interface, side and cause', () => {
  assert.equal(verdictPrefix(3, true, 17, 'eni-web1', 'sgr-http'), 'flowlog 3 e 17 eni-web1 sgr-http')
  assert.deepEqual(parse(verdictPrefix(3, true, 17, 'eni-web1', 'sgr-http')), {
    iface: 3,
    direction: DIRECTION.EGRESS,
    cause: 17,
  })
  assert.equal(
    verdictPrefix(0, false, NO_MATCHING_RULE, 'eni-a', null),
    'flowlog 0 i -1 eni-a no-matching-rule',
  )
  assert.deepEqual(parse('flowlog 0 i -1 eni-a no-matching-rule'), {
    iface: 0,
    direction: DIRECTION.INGRESS,
    cause: -1,
  })
})

test('long ids are cut to the kernel limit without touching the machine part', () => {
  const p = verdictPrefix(12, false, 345, 'e'.repeat(128), 'r'.repeat(128))
  assert.equal(p.length, 127)
  assert.deepEqual(parse(p), { iface: 12, direction: DIRECTION.INGRESS, cause: 345 })
})

test("prefixes that are not flowlog's are refused", () => {
  for (const text of [
    '',
    'hello sgr-1',
    'flowlog x e 1',
    'flowlog 1 x 1',
    'flowlog 1 e',
    'flowlog 1 e 1x',
    'flowlo 1 e 1',
  ]) {
    assert.equal(parse(text), null, text)
  }
})

test('the NFLOG attributes of a frame the kernel sent (nft log group, forward hook)', () => {
  // Captured from libpcap's nflog:5 device: a forwarded ICMP echo logged with prefix "hello sgr-1".
  const hex =
    '02000005080001000800020010000a0068656c6c6f207367722d31000800040000000002080005000000000310000800000600005288c49774fe000006000f0001000000' +
    '58000900450000546ca84000400101f50a09010a0a09010b080024ce2c9e0001'
  const d = Buffer.from(hex, 'hex')
  const meta = new NflogMeta()
  assert.equal(readNflogMeta(d, 0, d.length, meta), true)
  assert.equal(meta.family, 2)
  assert.equal(meta.hook, 2, 'NF_INET_FORWARD')
  assert.equal(meta.indev, 2)
  assert.equal(meta.outdev, 3)
  assert.equal(d.subarray(meta.prefixStart, meta.prefixEnd).toString(), 'hello sgr-1')
  assert.equal(d[meta.payloadStart], 0x45, 'the payload starts at the IPv4 header')
  assert.equal(readNflogMeta(d, 0, 6, meta), false)
})
