import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DIRECTION } from '../core/verdict.js'
import { compilePolicy } from './compile-policy.js'
import { makeNetwork, packet } from './test-kit.js'

const network = makeNetwork(
  {
    'sg-a': {
      inbound: [
        { id: 'a-http', protocol: 'tcp', ports: '80', peer: '0.0.0.0/0' },
        { id: 'a-any', protocol: 'all', peer: '0.0.0.0/0' },
      ],
      outbound: [{ id: 'a-out', protocol: 'all', peer: 'sg-b' }],
    },
    'sg-b': {
      inbound: [
        { id: 'b-tcp', protocol: 'tcp', peer: '198.51.100.0/24' },
        { id: 'b-http', protocol: 'tcp', ports: '80', peer: '0.0.0.0/0' },
      ],
    },
  },
  [
    { id: 'eni-1', addresses: ['10.0.0.1', '2001:db8::1'], groups: ['sg-b', 'sg-a'] },
    { id: 'eni-2', addresses: ['10.0.0.2'], groups: ['sg-b'] },
    { id: 'eni-3', addresses: ['10.0.0.3'], groups: [] },
  ],
)
const policy = compilePolicy(network)
const http = { protocol: 'tcp', src: '198.51.100.7', dst: '10.0.0.1', srcPort: 40000, dstPort: 80 } as const

test('rule indices follow the config: groups in order, inbound then outbound', () => {
  assert.deepEqual(policy.ruleIds, ['a-http', 'a-any', 'a-out', 'b-tcp', 'b-http'])
  assert.deepEqual(
    policy.rules.map((r) => [r.group, r.direction]),
    [
      ['sg-a', 'inbound'],
      ['sg-a', 'inbound'],
      ['sg-a', 'outbound'],
      ['sg-b', 'inbound'],
      ['sg-b', 'inbound'],
    ],
  )
})

test('the rule named is the first in the interface group order, then in rule order', () => {
  const ids = (i: number) => policy.ruleIds[i]
  // eni-1 lists sg-b first: its tcp rule wins over sg-a's earlier port-80 rule.
  assert.equal(ids(policy.evaluate(0, DIRECTION.INGRESS, packet(http))), 'b-tcp')
  assert.equal(ids(policy.evaluate(0, DIRECTION.INGRESS, packet({ ...http, src: '192.0.2.1' }))), 'b-http')
  assert.equal(
    ids(policy.evaluate(0, DIRECTION.INGRESS, packet({ ...http, src: '192.0.2.1', dstPort: 81 }))),
    'a-any',
  )
})

test('a group reference expands to a host prefix per member address', () => {
  // a-out → sg-b members: 10.0.0.1, 2001:db8::1 (eni-1) and 10.0.0.2 (eni-2).
  const out = { protocol: 'udp', src: '10.0.0.1', dst: '10.0.0.2', srcPort: 1, dstPort: 2 } as const
  assert.equal(policy.ruleIds[policy.evaluate(0, DIRECTION.EGRESS, packet(out))], 'a-out')
  assert.equal(policy.evaluate(0, DIRECTION.EGRESS, packet({ ...out, dst: '10.0.0.3' })), -1)
  assert.equal(
    policy.ruleIds[
      policy.evaluate(0, DIRECTION.EGRESS, packet({ ...out, src: '2001:db8::1', dst: '2001:db8::1' }))
    ],
    'a-out',
  )
  // 2 + 2 entries (eni-1 inbound of sg-b, sg-a), 3 (a-out) + 2 (eni-2, sg-b inbound).
  assert.equal(policy.entryCount, 2 + 2 + 3 + 2)
})

test('egress rules match the destination as peer; an interface without groups allows nothing', () => {
  assert.equal(
    policy.evaluate(1, DIRECTION.EGRESS, packet({ ...http, src: '10.0.0.2', dst: '198.51.100.7' })),
    -1,
  )
  assert.equal(policy.evaluate(2, DIRECTION.INGRESS, packet({ ...http, dst: '10.0.0.3' })), -1)
  assert.equal(policy.evaluate(-1, DIRECTION.INGRESS, packet(http)), -1)
})

test('a group reference of many members that fails on its port is passed over whole, not the rules after it', () => {
  const members = Array.from({ length: 40 }, (_, i) => ({
    id: `eni-web-${i}`,
    addresses: [`10.0.1.${i + 10}`],
    groups: ['sg-web'],
  }))
  const db = makeNetwork(
    {
      'sg-web': { inbound: [] },
      'sg-db': {
        inbound: [
          { id: 'db-pg', protocol: 'tcp', ports: '5432', peer: 'sg-web' },
          { id: 'db-ssh', protocol: 'tcp', ports: '22', peer: 'sg-web' },
          { id: 'db-admin', protocol: 'tcp', ports: '22', peer: '192.0.2.0/24' },
        ],
      },
    },
    [{ id: 'eni-db', addresses: ['10.0.2.10'], groups: ['sg-db'] }, ...members],
  )
  const compiled = compilePolicy(db)
  const judge = (src: string, dstPort: number) => {
    const p = packet({ protocol: 'tcp', src, dst: '10.0.2.10', srcPort: 40000, dstPort })
    const rule = compiled.evaluate(0, DIRECTION.INGRESS, p)
    return rule < 0 ? null : compiled.ruleIds[rule]
  }
  assert.equal(judge('10.0.1.49', 5432), 'db-pg', 'the last member of the first reference')
  assert.equal(judge('10.0.1.10', 22), 'db-ssh', 'port 22 skips db-pg and finds the second reference')
  assert.equal(judge('192.0.2.5', 22), 'db-admin', 'not a member: both references are passed over')
  assert.equal(judge('192.0.2.5', 5432), null)
  assert.equal(judge('10.0.1.50', 5432), null, 'one past the last member')
})
