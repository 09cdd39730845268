import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { SecurityGroupRule } from '../core/network.js'
import { addTuple, emptyUsage, leastPrivilege } from './least-privilege.js'

const rule = (
  r: Partial<SecurityGroupRule> & Pick<SecurityGroupRule, 'protocol' | 'peer'>,
): SecurityGroupRule => ({
  id: 'r1',
  ports: null,
  icmpType: -1,
  icmpCode: -1,
  description: null,
  ...r,
})

const usage = (tuples: [number, number, string][]) => {
  const u = emptyUsage()
  for (const [p, port, peer] of tuples) {
    u.records++
    addTuple(u, p, port, peer)
  }
  return u
}

const text = (r: Omit<SecurityGroupRule, 'id'>) =>
  `${r.protocol} ${r.ports ?? '-'} ${r.peer}${r.icmpType >= 0 ? ` type ${r.icmpType}` : ''}`

const cases: {
  name: string
  rule: SecurityGroupRule
  tuples: [number, number, string][]
  expect: string[]
  narrower: number
}[] = [
  {
    name: 'SSH from the world, used from one address',
    rule: rule({ protocol: 'tcp', ports: '22', peer: '0.0.0.0/0' }),
    tuples: [[6, 22, '203.0.113.10']],
    expect: ['tcp 22 203.0.113.10/32'],
    narrower: 1,
  },
  {
    name: 'all traffic split by protocol, each with its own peers',
    rule: rule({ protocol: 'all', peer: '0.0.0.0/0' }),
    tuples: [
      [6, 443, '198.51.100.7'],
      [17, 53, '10.0.0.2'],
      [1, -1, '198.51.100.7'],
    ],
    expect: ['icmp - 198.51.100.7/32', 'tcp 443 198.51.100.7/32', 'udp 53 10.0.0.2/32'],
    narrower: 2,
  },
  {
    name: 'a port range narrowed to the ports used',
    rule: rule({ protocol: 'tcp', ports: '80-443', peer: '203.0.113.5/32' }),
    tuples: [
      [6, 80, '203.0.113.5'],
      [6, 443, '203.0.113.5'],
    ],
    expect: ['tcp 80 203.0.113.5/32', 'tcp 443 203.0.113.5/32'],
    narrower: 1,
  },
  {
    name: 'already as narrow as its traffic',
    rule: rule({ protocol: 'tcp', ports: '22', peer: '203.0.113.10/32' }),
    tuples: [[6, 22, '203.0.113.10']],
    expect: ['tcp 22 203.0.113.10/32'],
    narrower: 0,
  },
  {
    name: 'a group reference is kept',
    rule: rule({ protocol: 'tcp', ports: '5432', peer: 'sg-web' }),
    tuples: [[6, 5432, '10.0.1.10']],
    expect: ['tcp 5432 sg-web'],
    narrower: 0,
  },
  {
    name: 'ICMP keeps its type (records have none)',
    rule: rule({ protocol: 'icmp', icmpType: 8, peer: '0.0.0.0/0' }),
    tuples: [[1, -1, '203.0.113.5']],
    expect: ['icmp - 203.0.113.5/32 type 8'],
    narrower: 1,
  },
  {
    name: 'records without a port (-) keep the ports of the rule, the others are narrowed',
    rule: rule({ protocol: 'tcp', ports: '1000-9000', peer: '198.51.100.0/24' }),
    tuples: [
      [6, -1, '198.51.100.7'],
      [6, 8080, '198.51.100.8'],
    ],
    expect: ['tcp 1000-9000 198.51.100.7/32', 'tcp 8080 198.51.100.8/32'],
    narrower: 2,
  },
  {
    name: 'records without a port beside the own port of the rule: one rule a peer, not two alike',
    rule: rule({ protocol: 'tcp', ports: '443', peer: '198.51.100.0/24' }),
    tuples: [
      [6, -1, '198.51.100.7'],
      [6, 443, '198.51.100.7'],
      [6, 443, '198.51.100.8'],
    ],
    expect: ['tcp 443 198.51.100.7/32', 'tcp 443 198.51.100.8/32'],
    narrower: 1,
  },
  {
    name: 'records without a port under all traffic: tcp of every port',
    rule: rule({ protocol: 'all', peer: '198.51.100.0/24' }),
    tuples: [[6, -1, '198.51.100.7']],
    expect: ['tcp - 198.51.100.7/32'],
    narrower: 2,
  },
  {
    name: 'clients too spread to list keep the open rule',
    rule: rule({ protocol: 'tcp', ports: '443', peer: '0.0.0.0/0' }),
    tuples: ['1.1.1.1', '31.0.0.1', '80.0.0.1', '120.0.0.1', '200.0.0.1'].map(
      (a) => [6, 443, a] as [number, number, string],
    ),
    expect: ['tcp 443 0.0.0.0/0'],
    narrower: 0,
  },
]

for (const c of cases) {
  test(`leastPrivilege: ${c.name}`, () => {
    const direction = 'inbound'
    const lp = leastPrivilege(c.rule, direction, usage(c.tuples))
    assert.deepEqual(lp.rules.map(text), c.expect)
    assert.equal(lp.narrower.length, c.narrower, lp.narrower.join('; '))
  })
}
