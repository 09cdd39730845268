import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseAddress, parseMac } from '../core/address.js'
import type { NetworkConfig, NetworkInterface } from '../core/network.js'
import { PacketView } from '../core/packet-view.js'
import { Attributor, newAttribution } from './attributor.js'

function iface(id: string, addresses: string[], mac: string | null, device: string | null): NetworkInterface {
  return { id, instance: null, subnet: 'subnet-1', mac, addresses, device, securityGroups: [] }
}

const network: NetworkConfig = {
  account: '123456789012',
  region: 'kr1',
  vpcs: [],
  securityGroups: [],
  flowLogs: [],
  limits: { flowTableCapacity: 10, connectionTableCapacity: 10 },
  interfaces: [
    iface('eni-web', ['10.0.1.10', '10.0.1.11', '2001:db8:1::10'], '02:00:0a:00:01:0a', 'tap-web'),
    iface('eni-db', ['10.0.1.20'], '02:00:0a:00:01:14', 'tap-db'),
    iface('eni-nat', ['10.0.1.30'], '02:00:0a:00:01:1e', null),
  ],
}

function view(src: string, dst: string, srcMac = -1, dstMac = -1): PacketView {
  const v = new PacketView()
  parseAddress(src, v.src)
  parseAddress(dst, v.dst)
  v.srcMac = srcMac
  v.dstMac = dstMac
  return v
}

const attributor = new Attributor(network)
const attribute = (v: PacketView, device: string | null = null) => {
  const out = newAttribution()
  attributor.attribute(v, device, out)
  return out
}

describe('Attributor', () => {
  const cases: {
    name: string
    view: PacketView
    device?: string
    expect: { egress: number; ingress: number; unknown: number }
  }[] = [
    {
      name: 'outside to web is ingress on web',
      view: view('203.0.113.5', '10.0.1.10'),
      expect: { egress: -1, ingress: 0, unknown: -1 },
    },
    {
      name: 'web to outside is egress on web',
      view: view('10.0.1.10', '203.0.113.5'),
      expect: { egress: 0, ingress: -1, unknown: -1 },
    },
    {
      name: 'a secondary address belongs to its interface',
      view: view('10.0.1.11', '8.8.8.8'),
      expect: { egress: 0, ingress: -1, unknown: -1 },
    },
    {
      name: 'IPv6 addresses attribute too',
      view: view('2001:db8::99', '2001:db8:1::10'),
      expect: { egress: -1, ingress: 0, unknown: -1 },
    },
    {
      name: 'web to db gives both sides',
      view: view('10.0.1.10', '10.0.1.20'),
      expect: { egress: 0, ingress: 1, unknown: -1 },
    },
    {
      name: 'unknown addresses are not attributed',
      view: view('192.0.2.1', '192.0.2.2'),
      expect: { egress: -1, ingress: -1, unknown: -1 },
    },
    {
      name: 'a forwarded packet is attributed by the MAC when its address belongs to nobody',
      view: view('198.51.100.1', '203.0.113.9', parseMac('02:00:0a:00:01:1e'), parseMac('02:00:00:00:00:01')),
      expect: { egress: 2, ingress: -1, unknown: -1 },
    },
    {
      name: 'on a device, only that interface records: the db side of web→db is not seen on tap-web',
      view: view('10.0.1.10', '10.0.1.20'),
      device: 'tap-web',
      expect: { egress: 0, ingress: -1, unknown: -1 },
    },
    {
      name: 'on tap-db, web→db is ingress on db',
      view: view('10.0.1.10', '10.0.1.20'),
      device: 'tap-db',
      expect: { egress: -1, ingress: 1, unknown: -1 },
    },
    {
      name: 'on a device, traffic for nobody there has direction unknown',
      view: view('10.0.1.99', '255.255.255.255', parseMac('02:00:00:00:00:99'), 0xffffffffffff),
      device: 'tap-web',
      expect: { egress: -1, ingress: -1, unknown: 0 },
    },
    {
      name: 'a device no interface names falls back to addresses',
      view: view('10.0.1.10', '10.0.1.20'),
      device: 'eth7',
      expect: { egress: 0, ingress: 1, unknown: -1 },
    },
  ]
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(attribute(c.view, c.device ?? null), c.expect))
  }

  test('interfaceOfDevice maps configured devices only', () => {
    assert.equal(attributor.interfaceOfDevice('tap-db'), 1)
    assert.equal(attributor.interfaceOfDevice('eth0'), -1)
  })
})
