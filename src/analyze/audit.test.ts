import assert from 'node:assert/strict'
import { test } from 'node:test'
import { makeNetwork } from '../policy/test-kit.js'
import { audit, type RuleAudit } from './audit.js'
import type { FlowRow } from './flow-row.js'
import { row } from './test-rows.js'

const network = makeNetwork(
  {
    'sg-a': {
      inbound: [
        { id: 'a-ssh', protocol: 'tcp', ports: '22', peer: '0.0.0.0/0' },
        { id: 'a-http', protocol: 'tcp', ports: '80', peer: '0.0.0.0/0' },
        { id: 'a-wide', protocol: 'tcp', ports: '0-65535', peer: '10.0.0.0/8' },
        { id: 'a-rdp', protocol: 'tcp', ports: '3389', peer: '10.0.0.0/8' },
      ],
      outbound: [{ id: 'a-out', protocol: 'all', peer: '0.0.0.0/0' }],
    },
    'sg-b': { inbound: [{ id: 'b-x', protocol: 'tcp', ports: '8080', peer: '0.0.0.0/0' }] },
    'sg-c': { inbound: [{ id: 'c-db', protocol: 'all', peer: '0.0.0.0/0' }] },
  },
  [
    { id: 'eni-1', addresses: ['10.0.0.1'], groups: ['sg-a'] },
    { id: 'eni-2', addresses: ['10.0.0.2'], groups: ['sg-b'] },
  ],
)

/** Traffic of eni-1: SSH from the office, HTTP from inside, a DNS query out; with or without rule-id. */
function traffic(withRules: boolean): FlowRow[] {
  const r = (rule: string) => (withRules ? { rule } : {})
  return [
    row({
      iface: 'eni-1',
      src: '203.0.113.10',
      dst: '10.0.0.1',
      sport: 50000,
      dport: 22,
      flags: 2,
      direction: 'ingress',
      ...r('a-ssh'),
    }),
    row({
      iface: 'eni-1',
      src: '10.0.0.1',
      dst: '203.0.113.10',
      sport: 22,
      dport: 50000,
      flags: 18,
      direction: 'egress',
      ...r('a-ssh'),
    }),
    row({
      iface: 'eni-1',
      src: '10.9.9.9',
      dst: '10.0.0.1',
      sport: 41000,
      dport: 80,
      at: 5,
      flags: 2,
      direction: 'ingress',
      ...r('a-http'),
    }),
    row({
      iface: 'eni-1',
      src: '10.0.0.1',
      dst: '10.9.9.9',
      sport: 80,
      dport: 41000,
      at: 5,
      flags: 18,
      direction: 'egress',
      ...r('a-http'),
    }),
    row({
      iface: 'eni-1',
      src: '10.0.0.1',
      dst: '10.0.0.53',
      sport: 5353,
      dport: 53,
      proto: 17,
      at: 9,
      direction: 'egress',
      ...r('a-out'),
    }),
    row({
      iface: 'eni-1',
      src: '198.51.100.7',
      dst: '10.0.0.1',
      sport: 41000,
      dport: 3389,
      at: 12,
      flags: 2,
      direction: 'ingress',
      action: 'REJECT',
    }),
  ]
}

const byId = (rules: RuleAudit[]) => Object.fromEntries(rules.map((r) => [r.id, r]))

for (const withRules of [true, false]) {
  const mode = withRules ? 'rule-id' : 're-judged'
  test(`audit (${mode}): which rules carried traffic, and which did not`, async () => {
    const result = await audit(traffic(withRules), network)
    assert.equal(result.method, mode)
    const rules = byId(result.rules)
    assert.deepEqual(Object.fromEntries(result.rules.map((r) => [r.id, r.status])), {
      'a-ssh': 'used',
      'a-http': 'used',
      'a-wide': 'shadowed',
      'a-rdp': 'unused',
      'a-out': 'used',
      'b-x': 'not-covered',
      'c-db': 'not-covered',
    })
    assert.deepEqual(rules['a-wide']?.shadowedBy, { 'a-http': 1 })
    // Answers ride on the connection: the SSH rule carried one record, not two.
    assert.equal(rules['a-ssh']?.usage?.records, 1)
  })
}

test('audit: open to the internet on sensitive ports, whether used or not', async () => {
  const rules = byId((await audit(traffic(true), network)).rules)
  assert.deepEqual(rules['a-ssh']?.exposure, ['open to 0.0.0.0/0 on tcp 22 (ssh)'])
  assert.match(
    rules['c-db']?.exposure[0] ?? '',
    /^open to 0\.0\.0\.0\/0 on all traffic, including 22 \(ssh\), 23 \(telnet\)/,
  )
  assert.deepEqual(rules['a-http']?.exposure, [])
  assert.deepEqual(rules['b-x']?.exposure, [])
})

test('audit: least-privilege replacements, and removal of what carried nothing', async () => {
  const rules = byId((await audit(traffic(true), network)).rules)
  const lines = (id: string) =>
    rules[id]?.leastPrivilege.map((r) => `${r.id} ${r.protocol} ${r.ports ?? '-'} ${r.peer}`)
  assert.deepEqual(lines('a-ssh'), ['a-ssh tcp 22 203.0.113.10/32'])
  assert.deepEqual(lines('a-out'), ['a-out udp 53 10.0.0.53/32'])
  assert.deepEqual(lines('a-rdp'), [])
  assert.deepEqual(lines('a-wide'), [])
  // Nothing is known about a group whose interfaces were not in the records: kept as it is.
  assert.deepEqual(lines('b-x'), ['b-x tcp 8080 0.0.0.0/0'])
})

test('audit: rule ids the config does not have are counted', async () => {
  const rows = [
    row({
      iface: 'eni-1',
      src: '203.0.113.10',
      dst: '10.0.0.1',
      dport: 22,
      direction: 'ingress',
      rule: 'gone',
    }),
  ]
  const result = await audit(rows, network)
  assert.deepEqual(result.unknownRuleIds, { gone: 1 })
})

test('audit: a public web rule is kept as it is, unless --narrow-public', async () => {
  const kept = byId((await audit(traffic(true), network)).rules)['a-http']
  assert.match(kept?.kept ?? '', /open to 0\.0\.0\.0\/0 on tcp 80/)
  assert.deepEqual(kept?.leastPrivilege, [kept?.rule])
  assert.deepEqual(kept?.narrower, [])
  const narrowed = byId((await audit(traffic(true), network, { narrowPublic: true })).rules)['a-http']
  assert.equal(narrowed?.kept, null)
  assert.deepEqual(
    narrowed?.leastPrivilege.map((r) => r.peer),
    ['10.9.9.9/32'],
  )
})

test('audit: a rule described as public is kept too; SSH open to all is narrowed', async () => {
  const described = structuredClone(network)
  const ssh = described.securityGroups[0]?.inbound[0]
  assert.ok(ssh)
  ssh.description = 'Public SFTP drop box'
  const rules = byId((await audit(traffic(true), described)).rules)
  assert.match(rules['a-ssh']?.kept ?? '', /described as public \("Public SFTP drop box"\)/)
  const plain = byId((await audit(traffic(true), network)).rules)
  assert.equal(plain['a-ssh']?.kept, null)
  assert.deepEqual(
    plain['a-ssh']?.leastPrivilege.map((r) => r.peer),
    ['203.0.113.10/32'],
  )
})

test('audit: DNS to the VPC resolver is platform traffic, credited to no rule', async () => {
  const dns = (at: number) =>
    row({
      iface: 'eni-1',
      src: '10.0.0.1',
      dst: '10.0.0.2',
      sport: 40000 + at,
      dport: 53,
      proto: 17,
      at,
      direction: 'egress',
    })
  const result = await audit([...traffic(false), dns(20), dns(21)], network)
  assert.equal(result.platform, 2)
  const out = byId(result.rules)['a-out']
  assert.equal(out?.usage?.records, 1, 'only the query to 10.0.0.53')
  assert.deepEqual(
    out?.leastPrivilege.map((r) => `${r.protocol} ${r.ports} ${r.peer}`),
    ['udp 53 10.0.0.53/32'],
  )
  // A rule that carried only platform traffic carried nothing a group decides.
  const onlyDns = await audit([dns(20)], network)
  assert.equal(byId(onlyDns.rules)['a-out']?.status, 'unused')
})

test('audit: a record whose port no packet has keeps the ports of its rule in the proposal, not dropped', async () => {
  const out = makeNetwork(
    { 'sg-a': { inbound: [], outbound: [{ id: 'a-out', protocol: 'all', peer: '0.0.0.0/0' }] } },
    [{ id: 'eni-1', addresses: ['10.0.0.1'], groups: ['sg-a'] }],
  )
  const rows = [
    row({
      iface: 'eni-1',
      src: '10.0.0.1',
      dst: '198.51.100.9',
      sport: 40000,
      dport: 70000,
      direction: 'egress',
    }),
    row({
      iface: 'eni-1',
      src: '10.0.0.1',
      dst: '198.51.100.8',
      sport: 40001,
      dport: 443,
      at: 3,
      direction: 'egress',
    }),
  ]
  for (const singles of [true, false]) {
    const [rule] = (await audit(rows, out, { singles })).rules
    assert.equal(rule?.usage?.records, 2)
    // Its peer keeps TCP of every port (the rule's), as a record without a port does.
    assert.deepEqual(
      rule?.leastPrivilege.map((r) => `${r.protocol} ${r.ports ?? '-'} ${r.peer}`),
      ['tcp - 198.51.100.9/32', 'tcp 443 198.51.100.8/32'],
      `singles: ${singles}`,
    )
  }
})
