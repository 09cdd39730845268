import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { EtcdTestCluster, requireEtcd } from '../../test/support/etcd.js'
import { parseConfig } from '../config/load-config.js'
import { InputError } from '../core/errors.js'
import { agentHostName, openControlSource } from './control-source.js'
import { CONFIG_RECORD_ID } from './seed-state.js'

const FLEET = `
account: "123456789012"
region: kr1
vpcs:
  - id: vpc-0a1
    cidrs: [10.0.0.0/16]
    subnets: [{ id: subnet-0a1, cidrs: [10.0.1.0/24] }]
securityGroups:
  - id: sg-web
interfaces:
  - { id: eni-1, subnet: subnet-0a1, addresses: [10.0.1.10], device: tap0, host: hv-01, securityGroups: [sg-web] }
  - { id: eni-2, subnet: subnet-0a1, addresses: [10.0.1.20], device: tap0, host: hv-02, securityGroups: [sg-web] }
`
const config = parseConfig(FLEET, 'fleet.yaml')

test('--host-name is checked; the default is the machine’s name', () => {
  assert.equal(agentHostName('hv-01.dc1'), 'hv-01.dc1')
  assert.throws(
    () => agentHostName('hv 01'),
    (e: unknown) => e instanceof InputError && /--host-name "hv 01" is not a host name/.test(e.message),
  )
  assert.match(agentHostName(undefined), /^[A-Za-z0-9_.-]+$/)
})

test('one host: the config as it is, recorded as topology/config', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-source-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const source = await openControlSource({ type: 'sqlite', dir }, config, { host: 'hv-01' })
  t.after(() => source.close())
  await source.record(config, 'fleet.yaml')
  assert.equal(source.host, null)
  assert.deepEqual(
    source.topology().interfaces.map((i) => i.id),
    ['eni-1', 'eni-2'],
  )
  assert.ok(await source.store.read((r) => r.get('topology', CONFIG_RECORD_ID)))
})

test('fleet agents: each records its host’s part, sees every host’s, runs only its own devices', async (t) => {
  if (!requireEtcd(t)) return
  const etcd = await EtcdTestCluster.start(t, { members: 1 })
  const datastore = { type: 'etcd' as const, endpoints: etcd.endpoints, prefix: '/flowlog/' }
  const one = await openControlSource(datastore, config, { host: 'hv-01' })
  t.after(() => one.close())
  await one.record(config, 'fleet.yaml')
  const two = await openControlSource(datastore, config, { host: 'hv-02' })
  t.after(() => two.close())
  await two.record(config, 'fleet.yaml')

  assert.deepEqual(
    two.topology().interfaces.map((i) => [i.id, i.host]),
    [
      ['eni-2', 'hv-02'],
      ['eni-1', 'hv-01'],
    ],
  )
  // hv-01 heard hv-02's record through the watch.
  const deadline = Date.now() + 5000
  while (one.topology().interfaces.length < 2 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50))
  assert.deepEqual(
    one.topology().interfaces.map((i) => i.id),
    ['eni-1', 'eni-2'],
  )
  assert.deepEqual(
    one.ownConfig(config).interfaces.map((i) => i.id),
    ['eni-1'],
  )
  const local = one.localize(config)
  assert.deepEqual(
    local.interfaces.map((i) => [i.id, i.device]),
    [
      ['eni-1', 'tap0'],
      ['eni-2', null],
    ],
  )
  assert.equal(local.agentHost, 'hv-01')
  assert.deepEqual(
    (await one.store.read((r) => r.list('topology'))).map((i) => i.id),
    ['hosts/hv-01', 'hosts/hv-02'],
  )
})
