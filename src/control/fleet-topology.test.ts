import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { parseConfig } from '../config/load-config.js'
import { coveredInterfaces } from '../pipeline/flow-log-coverage.js'
import { SqliteStore } from '../store/sqlite-store.js'
import { ControlService } from './control-service.js'
import { settingsOfConfig, topologyOfConfig } from './effective-network.js'
import { agentNetwork, FleetTopology, hostConfig, hostRecordId, joinTopologies } from './fleet-topology.js'
import { reconcileWithConfig } from './seed-state.js'
import { testDraft } from './test-kit.js'

/** One fleet file for two hosts: web on hv-01, db on hv-02, a shared VPC. */
const FLEET = `
account: "123456789012"
region: kr1
vpcs:
  - id: vpc-0a1
    cidrs: [10.0.0.0/16]
    subnets:
      - { id: subnet-0a1, cidrs: [10.0.1.0/24] }
      - { id: subnet-0a2, cidrs: [10.0.2.0/24] }
securityGroups:
  - id: sg-web
    inbound: [{ protocol: tcp, ports: "80", source: 0.0.0.0/0 }]
  - id: sg-db
    inbound: [{ protocol: tcp, ports: "5432", source: sg-web }]
interfaces:
  - { id: eni-web1, subnet: subnet-0a1, addresses: [10.0.1.10], device: tap0, host: hv-01, securityGroups: [sg-web] }
  - { id: eni-db1, subnet: subnet-0a2, addresses: [10.0.2.20], device: tap0, host: hv-02, securityGroups: [sg-db] }
`

const config = parseConfig(FLEET, 'fleet.yaml')
const record = (host: string, c = config) => {
  const own = hostConfig(c, host)
  return { topology: topologyOfConfig(own), settings: settingsOfConfig(own), source: 'fleet.yaml' }
}

const dirs: string[] = []
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('fleet topology', () => {
  test("a host's part of a fleet file: its own interfaces, marked with its name", () => {
    assert.deepEqual(
      hostConfig(config, 'hv-01').interfaces.map((i) => [i.id, i.host]),
      [['eni-web1', 'hv-01']],
    )
    // An interface without host: is the reading host's.
    const single = parseConfig(FLEET.replace(', host: hv-02', ''), 'one.yaml')
    assert.deepEqual(
      hostConfig(single, 'hv-01').interfaces.map((i) => i.id),
      ['eni-web1', 'eni-db1'],
    )
  })

  test('the join has every host’s interfaces; this host first, with its devices', () => {
    const { topology, problems } = joinTopologies(
      [
        { host: 'hv-02', record: record('hv-02') },
        { host: 'hv-01', record: record('hv-01') },
      ],
      'hv-01',
    )
    assert.deepEqual(problems, [])
    assert.deepEqual(
      topology.interfaces.map((i) => [i.id, i.host, i.device]),
      [
        ['eni-web1', 'hv-01', 'tap0'],
        ['eni-db1', 'hv-02', 'tap0'],
      ],
    )
    assert.deepEqual(topology.vpcs[0]?.subnets.map((s) => s.id).sort(), ['subnet-0a1', 'subnet-0a2'])
  })

  test("a clash leaves the other host's item out and says why; this host's stays", () => {
    const other = parseConfig(
      FLEET.replace(
        'subnet: subnet-0a2, addresses: [10.0.2.20]',
        'subnet: subnet-0a1, addresses: [10.0.1.10]',
      ).replace(
        'eni-web1, subnet: subnet-0a1, addresses: [10.0.1.10], device: tap0, host: hv-01',
        'eni-web9, subnet: subnet-0a1, addresses: [10.0.1.99], device: tap0, host: hv-01',
      ),
      'other.yaml',
    )
    const foreign = record('hv-03', parseConfig(FLEET.replace('"123456789012"', '"999999999999"'), 'x.yaml'))
    const { topology, problems } = joinTopologies(
      [
        { host: 'hv-01', record: record('hv-01') },
        { host: 'hv-02', record: record('hv-02', other) },
        { host: 'hv-03', record: foreign },
      ],
      'hv-01',
    )
    assert.deepEqual(
      topology.interfaces.map((i) => i.id),
      ['eni-web1'],
    )
    assert.deepEqual(problems, [
      "host hv-02: interface eni-db1 is left out: address 10.0.1.10 is already host hv-01's",
      "host hv-03: account 999999999999 region kr1 is not the fleet's (123456789012 kr1); its interfaces are left out",
    ])
  })

  test("an agent's network: other hosts' interfaces without devices, keys with its host", () => {
    const network = agentNetwork(config, 'hv-02')
    assert.deepEqual(
      network.interfaces.map((i) => [i.id, i.device]),
      [
        ['eni-web1', null],
        ['eni-db1', 'tap0'],
      ],
    )
    assert.equal(network.agentHost, 'hv-02')
  })

  test('two agents on one store: a VPC flow log covers both hosts, a group reference resolves across hosts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-fleet-'))
    dirs.push(dir)
    const store = SqliteStore.open(dir)
    const agents = []
    for (const host of ['hv-01', 'hv-02']) {
      const own = hostConfig(config, host)
      await reconcileWithConfig(store, own, 'fleet.yaml', undefined, hostRecordId(host))
      const fleet = await FleetTopology.open(store, host, record(host))
      const service = new ControlService({
        store,
        topology: () => fleet.current(),
        settings: () => settingsOfConfig(own),
      })
      agents.push({ host, fleet, service })
    }
    const [a, b] = agents
    assert.ok(a && b)
    // hv-01 heard hv-02's record when hv-02 started.
    assert.deepEqual(a.fleet.hosts(), ['hv-01', 'hv-02'])
    assert.deepEqual(
      a.fleet.current().interfaces.map((i) => i.id),
      ['eni-web1', 'eni-db1'],
    )

    const created = await a.service.createFlowLogs({
      resourceIds: ['vpc-0a1'],
      draft: testDraft({ destination: 'file:///var/tmp/flowlog-fleet' }),
      clientToken: null,
      dryRun: false,
    })
    assert.deepEqual(created.unsuccessful, [])
    const id = created.flowLogs[0]?.spec.id ?? ''
    assert.deepEqual((await b.service.coveredInterfaces(id)).map((i) => i.id).sort(), ['eni-db1', 'eni-web1'])
    // On hv-02 the flow log runs for its own interface only (hv-01 writes eni-web1's records,
    // NODATA included); hv-01's interface is known (for sg-db's rule naming sg-web), without
    // its device.
    const network = agentNetwork(await b.service.effectiveNetwork(), 'hv-02')
    const spec = network.flowLogs.find((f) => f.id === id)
    assert.ok(spec)
    assert.deepEqual(
      coveredInterfaces(network, spec).map((i) => [network.interfaces[i]?.id, network.interfaces[i]?.device]),
      [['eni-db1', 'tap0']],
    )
    const web = network.interfaces.find((i) => i.id === 'eni-web1')
    assert.deepEqual(web?.securityGroups, ['sg-web'])
    assert.deepEqual(web?.addresses, ['10.0.1.10'])

    for (const agent of agents) agent.fleet.close()
    await store.close()
  })
})
