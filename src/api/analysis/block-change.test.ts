import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseConfig } from '../../config/load-config.js'
import { blockChanges } from './block-change.js'

const network = parseConfig(
  `account: "123456789012"
region: kr1
vpcs:
  - { id: vpc-1, cidrs: [10.0.0.0/16], subnets: [{ id: subnet-1, cidrs: [10.0.1.0/24] }] }
securityGroups:
  - id: sg-web
    inbound:
      - { id: sgr-ssh, protocol: tcp, ports: "22", source: 0.0.0.0/0 }
      - { id: sgr-peers, protocol: all, source: sg-web }
    outbound:
      - { id: sgr-out, protocol: all, destination: 0.0.0.0/0 }
interfaces:
  - { id: eni-a, subnet: subnet-1, addresses: [10.0.1.10], securityGroups: [sg-web] }
  - { id: eni-b, subnet: subnet-1, addresses: [10.0.1.11], securityGroups: [sg-web] }
`,
  'test.yaml',
)

const ssh = (srcaddr: string, iface = 'eni-a') => ({
  'interface-id': iface,
  srcaddr,
  dstaddr: '10.0.1.10',
  srcport: 40000,
  dstport: 22,
  protocol: 6,
  packets: 3,
  bytes: 180,
  start: 1717232400,
  end: 1717232401,
  action: 'ACCEPT',
  'log-status': 'OK',
})

describe('blockChanges', () => {
  it('replaces the inbound rule that let the source in by the same rule for every other address', () => {
    const [change, ...more] = blockChanges('203.0.113.9', [ssh('203.0.113.9')], network)
    assert.equal(more.length, 0)
    assert.equal(change?.groupId, 'sg-web')
    assert.equal(change?.revoke.id, 'sgr-ssh')
    assert.equal(change?.authorize.length, 32)
    assert.ok(change?.authorize.every((r) => r.protocol === 'tcp' && r.ports === '22'))
    assert.ok(change?.authorize.every((r) => r.peer !== '203.0.113.9/32'))
  })

  it('leaves the outbound rule that let a source out alone, and needs the network', () => {
    // An inside host's egress record on its own interface is accepted by sgr-out: no block there.
    const egress = { ...ssh('10.0.1.10'), dstaddr: '10.0.1.11', 'interface-id': 'eni-a' }
    assert.deepEqual(blockChanges('10.0.1.10', [egress], network), [])
    assert.deepEqual(blockChanges('203.0.113.9', [ssh('203.0.113.9')], null), [])
  })

  it('names the rule that accepted the records (the first that matches), not every rule that could', () => {
    // eni-b takes 10.0.1.10's SSH by sgr-ssh (listed first), though sgr-peers would take it too:
    // the console re-judges after a change, and shows what still lets the source in.
    const ingress = { ...ssh('10.0.1.10'), dstaddr: '10.0.1.11', 'interface-id': 'eni-b' }
    assert.deepEqual(
      blockChanges('10.0.1.10', [ingress], network).map((c) => c.revoke.id),
      ['sgr-ssh'],
    )
  })
})
