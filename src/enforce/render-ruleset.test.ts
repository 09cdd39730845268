import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { NetworkConfig } from '../core/network.js'
import { compilePolicy } from '../policy/compile-policy.js'
import { makeNetwork } from '../policy/test-kit.js'
import type { DeviceLayout } from './device-layout.js'
import { DEFAULT_RULESET, renderRuleset } from './render-ruleset.js'

/** web1 (with a MAC) and web2 (without) on bridge br0, db on a routed tap. */
function network(options: { ssh?: boolean } = {}): NetworkConfig {
  const n = makeNetwork(
    {
      'sg-web': {
        inbound: [
          ...(options.ssh === false
            ? []
            : [{ id: 'sgr-ssh', protocol: 'tcp' as const, ports: '22', peer: '0.0.0.0/0' }]),
          { id: 'sgr-http', protocol: 'tcp', ports: '80', peer: 'sg-db' },
        ],
        outbound: [{ id: 'sgr-out', protocol: 'all', peer: '0.0.0.0/0' }],
      },
      'sg-db': { outbound: [{ id: 'sgr-db-out', protocol: 'all', peer: '::/0' }] },
    },
    [
      { id: 'eni-web1', addresses: ['10.0.1.10', 'fd00::10'], groups: ['sg-web'] },
      { id: 'eni-web2', addresses: ['10.0.1.11'], groups: ['sg-web'] },
      { id: 'eni-db', addresses: ['10.0.2.10'], groups: ['sg-db'] },
    ],
  )
  const devices = ['tap-web1', 'tap-web2', 'tap-db']
  return {
    ...n,
    interfaces: n.interfaces.map((nic, i) => ({
      ...nic,
      device: devices[i] ?? null,
      mac: i === 0 ? '02:00:0A:00:01:0A' : null,
    })),
  }
}

const layouts = new Map<string, DeviceLayout>([
  ['tap-web1', { kind: 'bridged', bridge: 'br0' }],
  ['tap-web2', { kind: 'bridged', bridge: 'br0' }],
  ['tap-db', { kind: 'routed' }],
])

/** The lines of one chain of a rendered ruleset. */
function chainLines(text: string, name: string): string[] {
  const start = text.indexOf(`  chain ${name} {\n`)
  assert.ok(start >= 0, `chain ${name}`)
  const body = text.slice(start, text.indexOf('\n  }', start))
  return body
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
}

test('bridge ports are found behind the bridge by MAC, else by address; routed devices by name', () => {
  const net = network()
  const text = renderRuleset(net, compilePolicy(net), DEFAULT_RULESET, layouts)
  assert.deepEqual(chainLines(text, 'forward').slice(1), [
    'icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } accept',
    'iifname vmap { "tap-db" : jump if2_out }',
    'iifname "br0" jump bridge0_out',
    'oifname vmap { "tap-db" : jump if2_in }',
    'oifname "br0" jump bridge0_in',
  ])
  assert.deepEqual(chainLines(text, 'input').slice(2), [
    'iifname vmap { "tap-db" : jump if2_out }',
    'iifname "br0" jump bridge0_out',
  ])
  assert.deepEqual(chainLines(text, 'output').slice(2), [
    'oifname vmap { "tap-db" : jump if2_in }',
    'oifname "br0" jump bridge0_in',
  ])
  assert.deepEqual(chainLines(text, 'bridge0_out'), [
    'ether saddr vmap { 02:00:0a:00:01:0a : goto if0_out }',
    'ip saddr vmap { 10.0.1.11 : goto if1_out }',
  ])
  // Across the bridge by MAC; routed to it, or sent by the host, by address (web1's too).
  assert.deepEqual(chainLines(text, 'bridge0_in'), [
    'ether daddr vmap { 02:00:0a:00:01:0a : goto if0_in }',
    'ip daddr vmap { 10.0.1.10 : goto if0_in, 10.0.1.11 : goto if1_in }',
    'ip6 daddr vmap { fd00::10 : goto if0_in }',
  ])
})

test('without layouts every device is routed, as before', () => {
  const net = network()
  const text = renderRuleset(net, compilePolicy(net), DEFAULT_RULESET)
  assert.doesNotMatch(text, /bridge0|ether/)
  assert.match(
    text,
    /iifname vmap \{ "tap-web1" : jump if0_out, "tap-web2" : jump if1_out, "tap-db" : jump if2_out \}/,
  )
})

test('a device enforce mode cannot see into is refused', () => {
  const net = network()
  const ovs = new Map(layouts).set('tap-db', {
    kind: 'unsupported',
    master: 'br-int',
    masterKind: 'openvswitch',
  })
  assert.throws(
    () => renderRuleset(net, compilePolicy(net), DEFAULT_RULESET, ovs),
    /Open vSwitch bridge br-int/,
  )
})

test('connections of a rule a reload took away keep a way to their logging chain', () => {
  const before = network()
  const first = compilePolicy(before)
  const ssh = first.ruleIds.indexOf('sgr-ssh')
  assert.ok(ssh >= 0)
  const after = network({ ssh: false })
  const text = renderRuleset(after, compilePolicy(after, first), DEFAULT_RULESET, layouts)
  const mark = (ssh + 1) * 0x10000
  assert.match(chainLines(text, 'if0_in').join('\n'), new RegExp(`${mark} : goto a0_i_${ssh}`))
  assert.ok(chainLines(text, `a0_i_${ssh}`).some((l) => l.includes('sgr-ssh')))
  // New connections are judged by the rules as they are now: no match line leads there.
  assert.ok(!chainLines(text, 'if0_in').some((l) => l.startsWith('tcp dport 22')))
})
