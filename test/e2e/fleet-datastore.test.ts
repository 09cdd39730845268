import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseConfig } from '../../src/config/load-config.js'
import { ControlService } from '../../src/control/control-service.js'
import { settingsOfConfig, topologyOfConfig } from '../../src/control/effective-network.js'
import { hostConfig, hostRecordId } from '../../src/control/fleet-topology.js'
import { reconcileWithConfig } from '../../src/control/seed-state.js'
import { openTestControl, testDraft } from '../../src/control/test-kit.js'
import { EtcdStore } from '../../src/store/etcd-store.js'
import { SqliteStore } from '../../src/store/sqlite-store.js'
import { readText, runFlowlog } from '../support/cli.js'
import { EtcdTestCluster, requireEtcd } from '../support/etcd.js'

/**
 * The fleet's datastore from the command line, against a real etcd: `flowlog datastore copy` moves
 * a single host's SQLite state, made through the control plane, into etcd, where a control plane
 * on the etcd store sees the same network; `flowlog export-config --datastore etcd://…` writes the
 * fleet's state with every host's interfaces as a config that validate accepts.
 */
test('datastore copy moves a host’s state into etcd, refuses a non-empty destination, and copies back', async (t) => {
  if (!requireEtcd(t)) return
  const etcd = await EtcdTestCluster.start(t, { members: 1 })
  const control = await openTestControl()
  t.after(() => control.close())
  // State a user made through the API: a flow log with a client token, a rule, an interface's groups.
  const created = await control.service.createFlowLogs({
    resourceIds: ['subnet-0a1'],
    draft: testDraft({
      resourceType: 'Subnet',
      destination: 'file:///var/tmp/flowlog-copy',
      tags: { team: 'net' },
    }),
    clientToken: 'copy-test-token',
    dryRun: false,
  })
  assert.deepEqual(created.unsuccessful, [])
  const [rule] = await control.service.authorize('sg-db', 'inbound', [
    { protocol: 'tcp', ports: '6432', icmpType: -1, icmpCode: -1, peer: 'sg-web', description: 'pgbouncer' },
  ])
  await control.service.setInterfaceGroups('eni-db1', ['sg-db', 'sg-web'])
  const before = {
    groups: await control.service.listSecurityGroups(),
    flowLogs: await control.service.listFlowLogs(),
    network: await control.service.effectiveNetwork(),
  }
  await control.store.close()

  const to = `${etcd.datastoreUrl()}/fleet-a/`
  const copy = runFlowlog(['datastore', 'copy', '--from', `sqlite:${control.dir}`, '--to', to])
  assert.equal(copy.code, 0, copy.stderr)
  assert.equal(
    copy.stdout,
    `copied 3 security-group, 2 flow-log, 1 attachment, 1 client-token, 1 status: sqlite:${join(control.dir, 'state.db')} → ${to}\n`,
  )

  const store = await EtcdStore.open({ endpoints: etcd.endpoints, prefix: '/fleet-a/' })
  t.after(() => store.close())
  const fleet = new ControlService({
    store,
    topology: () => topologyOfConfig(control.config),
    settings: () => settingsOfConfig(control.config),
  })
  assert.deepEqual(await fleet.listSecurityGroups(), before.groups)
  assert.deepEqual(await fleet.listFlowLogs(), before.flowLogs)
  assert.deepEqual(await fleet.effectiveNetwork(), before.network)
  assert.ok(before.groups.some((g) => g.group.inbound.some((r) => r.id === rule?.id)))
  // The client token came along: the same request again is the same flow log, not a second one.
  const again = await fleet.createFlowLogs({
    resourceIds: ['subnet-0a1'],
    draft: testDraft({
      resourceType: 'Subnet',
      destination: 'file:///var/tmp/flowlog-copy',
      tags: { team: 'net' },
    }),
    clientToken: 'copy-test-token',
    dryRun: false,
  })
  assert.deepEqual(
    again.flowLogs.map((f) => f.spec.id),
    before.flowLogs.filter((f) => f.spec.resource === 'subnet-0a1').map((f) => f.spec.id),
  )

  const refused = runFlowlog(['datastore', 'copy', '--from', `sqlite:${control.dir}`, '--to', to])
  assert.equal(refused.code, 1)
  assert.match(
    refused.stderr,
    /--to .*fleet-a\/: .* already holds control state \(3 security-group, 2 flow-log, 1 attachment, 1 client-token, 1 status\); .*--force/,
  )
  const dry = runFlowlog([
    'datastore',
    'copy',
    '--from',
    `sqlite:${control.dir}`,
    '--to',
    to,
    '--force',
    '--dry-run',
  ])
  assert.equal(dry.code, 0, dry.stderr)
  assert.match(dry.stdout, /^would copy 3 security-group, .*, replacing 8: /)
  const forced = runFlowlog(['datastore', 'copy', '--from', `sqlite:${control.dir}`, '--to', to, '--force'])
  assert.equal(forced.code, 0, forced.stderr)
  assert.match(forced.stdout, /^copied .*, replacing 8: /)

  // And back: a fleet's state into a new single-host state directory.
  const back = mkdtempSync(join(tmpdir(), 'flowlog-copy-back-'))
  t.after(() => rmSync(back, { recursive: true, force: true }))
  const home = runFlowlog(['datastore', 'copy', '--from', to, '--to', `sqlite:${back}`])
  assert.equal(home.code, 0, home.stderr)
  const single = SqliteStore.open(back, { create: false })
  t.after(() => single.close())
  const local = new ControlService({ store: single, topology: () => topologyOfConfig(control.config) })
  assert.deepEqual(await local.listSecurityGroups(), before.groups)
})

test('datastore copy names what is wrong with --from and --to', async () => {
  const missing = runFlowlog([
    'datastore',
    'copy',
    '--from',
    'sqlite:/nonexistent/flowlog',
    '--to',
    'sqlite:/tmp/x',
  ])
  assert.equal(missing.code, 1)
  assert.match(
    missing.stderr,
    /--from sqlite:\/nonexistent\/flowlog: \/nonexistent\/flowlog\/state.db does not exist/,
  )
  const bad = runFlowlog(['datastore', 'copy', '--from', 'sqlite:/tmp/x', '--to', 'etcd://nohost'])
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /--to "etcd:\/\/nohost": "nohost" is not HOST:PORT/)
})

const FLEET = `
account: "123456789012"
region: kr1
vpcs:
  - id: vpc-0a1
    cidrs: [10.0.0.0/16]
    subnets:
      - { id: subnet-0a1, cidrs: [10.0.1.0/24] }
securityGroups:
  - id: sg-web
    inbound: [{ id: sgr-web-http, protocol: tcp, ports: "80", source: sg-web }]
interfaces:
  - { id: eni-web1, subnet: subnet-0a1, addresses: [10.0.1.10], device: tap0, host: hv-01, securityGroups: [sg-web] }
  - { id: eni-web2, subnet: subnet-0a1, addresses: [10.0.1.20], device: tap0, host: hv-02, securityGroups: [sg-web] }
flowLogs:
  - { id: fl-fleet, resource: vpc-0a1, destination: "file:///var/tmp/flowlog-fleet" }
`

test("export-config --datastore etcd:// writes the fleet's state with every host's interfaces", async (t) => {
  if (!requireEtcd(t)) return
  const etcd = await EtcdTestCluster.start(t, { members: 1 })
  const config = parseConfig(FLEET, 'fleet.yaml')
  const store = await EtcdStore.open({ endpoints: etcd.endpoints, prefix: '/flowlog/' })
  try {
    // As two agents do when they start: each records its host's part.
    for (const host of ['hv-02', 'hv-01'])
      await reconcileWithConfig(store, hostConfig(config, host), 'fleet.yaml', undefined, hostRecordId(host))
  } finally {
    await store.close()
  }
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-fleet-export-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const out = join(dir, 'fleet-now.yaml')
  const exported = runFlowlog(['export-config', '--datastore', etcd.datastoreUrl(), '-o', out])
  assert.equal(exported.code, 0, exported.stderr)
  const again = parseConfig(readText(out), 'fleet-now.yaml')
  assert.deepEqual(
    again.interfaces.map((i) => [i.id, i.host]),
    [
      ['eni-web1', 'hv-01'],
      ['eni-web2', 'hv-02'],
    ],
  )
  assert.deepEqual(
    again.flowLogs.map((f) => f.id),
    ['fl-fleet'],
  )
  assert.match(readText(out), /the topology and settings of the fleet's hosts \(hv-01, hv-02\)/)
  const validated = runFlowlog(['validate', '--config', out])
  assert.equal(validated.code, 0, validated.stderr)
})
