import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseConfig } from '../config/load-config.js'
import { reloadProblems, topologyProblems } from './reload-check.js'

const config = (inbound: string, interval = 60, address = '10.0.1.10') =>
  parseConfig(
    `account: "123456789012"
region: kr1
vpcs:
  - { id: vpc-1, cidrs: [10.0.0.0/16], subnets: [{ id: subnet-1, cidrs: [10.0.1.0/24] }] }
securityGroups:
  - id: sg-web
    inbound: [${inbound}]
interfaces:
  - { id: eni-1, subnet: subnet-1, addresses: [${address}], device: tap-1, securityGroups: [sg-web] }
flowLogs:
  - { id: fl-1, resource: vpc-1, aggregationInterval: ${interval}, destination: "file:///tmp/x" }
`,
    'test.yaml',
  )

test('changed security groups reload', () => {
  const before = config('{ protocol: tcp, ports: "80", source: 0.0.0.0/0 }')
  const after = config(
    '{ protocol: tcp, ports: "80-443", source: 0.0.0.0/0 }, { protocol: icmp, source: 10.0.0.0/8 }',
  )
  assert.deepEqual(reloadProblems(before, after), [])
})

test('a changed flow log is refused as immutable; interface changes need a restart', () => {
  const before = config('')
  assert.deepEqual(reloadProblems(before, config('', 600)), [
    'flowLogs: flow log fl-1 changed (aggregationInterval); flow logs are immutable: give the changed one a new id and restart',
  ])
  assert.deepEqual(reloadProblems(before, config('', 60, '10.0.1.11')), [
    'interfaces: interfaces changed (other than their securityGroups); that needs a restart',
  ])
})

test("a fleet agent takes other hosts' interfaces and subnets joining, changing and leaving live", () => {
  const fleet = (others: string, address = '10.0.1.10') => ({
    ...parseConfig(
      `account: "123456789012"
region: kr1
vpcs:
  - { id: vpc-1, cidrs: [10.0.0.0/16], subnets: [{ id: subnet-1, cidrs: [10.0.1.0/24] }, { id: subnet-2, cidrs: [10.0.2.0/24] }] }
securityGroups:
  - id: sg-web
interfaces:
  - { id: eni-1, subnet: subnet-1, addresses: [${address}], device: tap-1, host: hv-1, securityGroups: [sg-web] }
${others}
`,
      'fleet.yaml',
    ),
    agentHost: 'hv-1',
  })
  const alone = fleet('')
  const joined = fleet(
    '  - { id: eni-2, subnet: subnet-2, addresses: [10.0.2.20], device: tap-1, host: hv-2, securityGroups: [sg-web] }',
  )
  const moved = fleet(
    '  - { id: eni-2, subnet: subnet-2, addresses: [10.0.2.21], device: tap-9, host: hv-3, securityGroups: [sg-web] }',
  )
  assert.deepEqual(topologyProblems(alone, joined), [])
  assert.deepEqual(topologyProblems(joined, moved), [])
  assert.deepEqual(topologyProblems(moved, alone), [])
  // Its own interfaces still need a restart to change.
  assert.deepEqual(topologyProblems(alone, fleet('', '10.0.1.11')), [
    'interfaces: interfaces changed (other than their securityGroups); that needs a restart',
  ])
  // On a single host (no agentHost) every interface and subnet counts, as before.
  const { agentHost: _a, ...single } = alone
  const { agentHost: _j, ...singleJoined } = joined
  assert.deepEqual(topologyProblems(single, singleJoined), [
    'interfaces: interfaces changed (other than their securityGroups); that needs a restart',
  ])
})
