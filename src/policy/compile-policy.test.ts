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

test('rule indices follow the config: groups in order, inbound then outbound, then the platform services', () => {
  assert.deepEqual(policy.ruleIds, [
    'a-http',
    'a-any',
    'a-out',
    'b-tcp',
    'b-http',
    'implicit:platform-services',
  ])
  assert.deepEqual(
    policy.rules.map((r) => [r.group, r.direction, r.implicit ?? false]),
    [
      ['sg-a', 'inbound', false],
      ['sg-a', 'inbound', false],
      ['sg-a', 'outbound', false],
      ['sg-b', 'inbound', false],
      ['sg-b', 'inbound', false],
      ['(platform)', 'outbound', true],
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
  // 2 + 2 entries (eni-1 inbound of sg-b, sg-a), 3 (a-out) + 2 (eni-2, sg-b inbound), and the
  // platform services' 10 per interface (two blocks both ways, DHCP both ways, DNS over UDP and TCP).
  assert.equal(policy.entryCount, 2 + 2 + 3 + 2 + 3 * 10)
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

test('the platform services are allowed whatever the groups say, named implicit:platform-services', () => {
  // eni-3 has no group at all: only the platform services get through (VPC 10.0.0.0/16: resolver 10.0.0.2).
  const platform = 'implicit:platform-services'
  const cases: [string, 0 | 1 | 2, Parameters<typeof packet>[0], string | null][] = [
    [
      'DNS over UDP',
      DIRECTION.EGRESS,
      { protocol: 'udp', src: '10.0.0.3', srcPort: 40000, dst: '10.0.0.2', dstPort: 53 },
      platform,
    ],
    [
      'DNS over TCP',
      DIRECTION.EGRESS,
      { protocol: 'tcp', src: '10.0.0.3', srcPort: 40000, dst: '10.0.0.2', dstPort: 53 },
      platform,
    ],
    [
      'the resolver, not DNS',
      DIRECTION.EGRESS,
      { protocol: 'udp', src: '10.0.0.3', srcPort: 40000, dst: '10.0.0.2', dstPort: 123 },
      null,
    ],
    [
      'another DNS server',
      DIRECTION.EGRESS,
      { protocol: 'udp', src: '10.0.0.3', srcPort: 40000, dst: '10.0.0.53', dstPort: 53 },
      null,
    ],
    [
      'instance metadata',
      DIRECTION.EGRESS,
      { protocol: 'tcp', src: '10.0.0.3', srcPort: 40000, dst: '169.254.169.254', dstPort: 80 },
      platform,
    ],
    [
      'Time Sync',
      DIRECTION.EGRESS,
      { protocol: 'udp', src: '10.0.0.3', srcPort: 40000, dst: '169.254.169.123', dstPort: 123 },
      platform,
    ],
    [
      'metadata over IPv6',
      DIRECTION.EGRESS,
      { protocol: 'tcp', src: '2001:db8::3', srcPort: 1, dst: 'fd00:ec2::254', dstPort: 80 },
      platform,
    ],
    [
      'DHCP discover',
      DIRECTION.EGRESS,
      { protocol: 'udp', src: '0.0.0.0', srcPort: 68, dst: '255.255.255.255', dstPort: 67 },
      platform,
    ],
    [
      'DHCP offer',
      DIRECTION.INGRESS,
      { protocol: 'udp', src: '10.0.0.1', srcPort: 67, dst: '10.0.0.3', dstPort: 68 },
      platform,
    ],
    [
      'from metadata',
      DIRECTION.INGRESS,
      { protocol: 'tcp', src: '169.254.169.254', srcPort: 80, dst: '10.0.0.3', dstPort: 5 },
      platform,
    ],
    [
      'DNS in from outside',
      DIRECTION.INGRESS,
      { protocol: 'tcp', src: '198.51.100.7', srcPort: 1, dst: '10.0.0.3', dstPort: 53 },
      null,
    ],
  ]
  for (const [what, direction, spec, expected] of cases) {
    const rule = policy.evaluate(2, direction, packet(spec))
    assert.equal(rule < 0 ? null : policy.ruleIds[rule], expected, what)
  }
  // A group rule that allows the traffic too is the one named: a-any lets anything in to eni-1.
  const metadata = {
    protocol: 'tcp',
    src: '169.254.169.254',
    srcPort: 80,
    dst: '10.0.0.1',
    dstPort: 5,
  } as const
  assert.equal(policy.ruleIds[policy.evaluate(0, DIRECTION.INGRESS, packet(metadata))], 'a-any')
})

test('a reload keeps the platform services at their index; new group rules come after it', () => {
  const next = makeNetwork(
    {
      'sg-a': { inbound: [{ id: 'a-new', protocol: 'tcp', ports: '8080', peer: '0.0.0.0/0' }] },
      'sg-b': { inbound: [{ id: 'b-tcp', protocol: 'tcp', peer: '198.51.100.0/24' }] },
    },
    [{ id: 'eni-1', addresses: ['10.0.0.1'], groups: ['sg-a', 'sg-b'] }],
  )
  const reloaded = compilePolicy(next, policy)
  const at = policy.ruleIds.indexOf('implicit:platform-services')
  assert.equal(reloaded.ruleIds[at], 'implicit:platform-services')
  assert.equal(reloaded.ruleIds.indexOf('a-new'), policy.ruleIds.length)
  const dns = packet({ protocol: 'udp', src: '10.0.0.1', srcPort: 5353, dst: '10.0.0.2', dstPort: 53 })
  assert.equal(reloaded.evaluate(0, DIRECTION.EGRESS, dns), at)
})
