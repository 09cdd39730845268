import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeLayout, layoutsFromLinks, unsupportedReason } from './device-layout.js'

// Trimmed from `ip -details -json link show` on a host with a Linux bridge and an OVS bridge.
const links = [
  { ifname: 'br0', linkinfo: { info_kind: 'bridge' } },
  { ifname: 'tap-a', master: 'br0', linkinfo: { info_kind: 'tun', info_slave_kind: 'bridge' } },
  { ifname: 'tap-r', linkinfo: { info_kind: 'veth' } },
  { ifname: 'tap-o', master: 'ovs-system', linkinfo: { info_kind: 'tun', info_slave_kind: 'openvswitch' } },
  { ifname: 'tap-v', master: 'vrf-blue', linkinfo: { info_kind: 'veth', info_slave_kind: 'vrf' } },
  { ifname: 'tap-b', master: 'bond0', linkinfo: { info_kind: 'veth', info_slave_kind: 'bond' } },
]

test('each device is routed, a bridge port, absent or unsupported', () => {
  const layouts = layoutsFromLinks(links, ['tap-a', 'tap-r', 'tap-o', 'tap-v', 'tap-b', 'tap-new'])
  assert.deepEqual(Object.fromEntries([...layouts].map(([d, l]) => [d, describeLayout(l)])), {
    'tap-a': 'port of bridge br0',
    'tap-r': 'routed',
    'tap-o': 'port of openvswitch ovs-system',
    'tap-v': 'routed',
    'tap-b': 'port of bond bond0',
    'tap-new': 'absent',
  })
})

test('Open vSwitch is refused plainly: it bypasses netfilter', () => {
  const layouts = layoutsFromLinks(links, ['tap-o', 'tap-a'])
  assert.match(unsupportedReason('tap-o', layouts.get('tap-o')!) ?? '', /Open vSwitch.*past netfilter/)
  assert.equal(unsupportedReason('tap-a', layouts.get('tap-a')!), null)
})
