import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseConfig } from '../config/load-config.js'
import { SqliteStore } from '../store/sqlite-store.js'
import { ControlService } from './control-service.js'
import { settingsOfConfig, topologyOfConfig } from './effective-network.js'
import { CONFIG_RECORD_ID, type ConfigRecord, reconcileWithConfig } from './seed-state.js'
import { openTestControl, TEST_CONFIG, testDraft } from './test-kit.js'

describe('config and state', () => {
  test('the first start seeds the state from the config: groups, rules, flow logs, topology', async () => {
    const control = await openTestControl()
    try {
      const groups = await control.service.listSecurityGroups()
      assert.deepEqual(
        groups.map((g) => [g.group.id, g.name]),
        [
          ['sg-db', 'sg-db'],
          ['sg-other', 'sg-other'],
          ['sg-web', 'sg-web'],
        ],
      )
      assert.deepEqual(
        groups.find((g) => g.group.id === 'sg-web')?.group,
        control.config.securityGroups.find((g) => g.id === 'sg-web'),
      )
      const [flowLog] = await control.service.listFlowLogs()
      assert.deepEqual(flowLog?.spec, control.config.flowLogs[0])
      assert.equal(flowLog?.resourceType, 'VPC')
      assert.equal(flowLog?.enabled, true)
      const record = await control.store.read((r) => r.get<ConfigRecord>('topology', CONFIG_RECORD_ID))
      assert.deepEqual(record?.topology, topologyOfConfig(control.config))
      // The effective network of a freshly seeded state is the config itself (groups in id order).
      const byId = [...control.config.securityGroups].sort((a, b) => a.id.localeCompare(b.id))
      assert.deepEqual(await control.service.effectiveNetwork(), { ...control.config, securityGroups: byId })
    } finally {
      await control.close()
    }
  })

  test('later the state is the truth: a differing config is reported, never applied, and the state survives restarts', async () => {
    const control = await openTestControl()
    const { service, dir } = control
    try {
      const created = await service.createFlowLogs({
        resourceIds: ['vpc-0b1'],
        draft: testDraft(),
        clientToken: null,
        dryRun: false,
      })
      const [added] = await service.authorize('sg-web', 'inbound', [
        {
          protocol: 'tcp',
          ports: '8080',
          icmpType: -1,
          icmpCode: -1,
          peer: '203.0.113.0/24',
          description: null,
        },
      ])
      await control.store.close()

      // The operator edits the file meanwhile: sg-web's SSH source, a new flow log.
      const edited = parseConfig(
        TEST_CONFIG.replace('source: 203.0.113.0/24', 'source: 192.0.2.0/24').replace(
          'flowLogs:\n',
          'flowLogs:\n  - { id: fl-new, resource: subnet-0a2, destination: "file:///var/tmp/x" }\n',
        ),
        'edited.yaml',
      )
      const store = SqliteStore.open(dir)
      try {
        const result = await reconcileWithConfig(store, edited, 'edited.yaml')
        assert.equal(result.seeded, false)
        assert.deepEqual(result.added, [])
        assert.deepEqual(result.warnings, [
          'security groups whose rules differ between the config and the state (the state is used): sg-web',
          'flow logs in the config but not in the state (not created; create them through an API): fl-new',
          `flow logs in the state but not in the config: ${created.flowLogs[0]?.spec.id}`,
          'the state is the truth for groups, flow logs, tags and attachments; `flowlog export-config --state DIR` writes it as a config',
        ])
        const again = new ControlService({ store, topology: () => topologyOfConfig(edited) })
        const web = await again.getSecurityGroup('sg-web')
        assert.deepEqual(
          web.group.inbound.map((r) => [r.id, r.peer]),
          [
            ['sgr-web-http', '0.0.0.0/0'],
            ['sgr-web-ssh', '203.0.113.0/24'],
            [added?.id, '203.0.113.0/24'],
          ],
        )
        assert.deepEqual(
          (await again.listFlowLogs()).map((f) => f.spec.id).sort(),
          ['fl-config', created.flowLogs[0]?.spec.id].sort(),
        )
        const record = await store.read((r) => r.get<ConfigRecord>('topology', CONFIG_RECORD_ID))
        assert.equal(record?.source, 'edited.yaml')
      } finally {
        await store.close()
      }
    } finally {
      await control.close()
    }
  })

  test('a state emptied through the API stays empty; a group a new interface needs comes from the config', async () => {
    const control = await openTestControl()
    try {
      await control.service.deleteFlowLogs(['fl-config'])
      const grown = parseConfig(
        `${TEST_CONFIG.replace(
          'flowLogs:',
          `  - { id: eni-cache1, subnet: subnet-0a2, addresses: [10.0.2.30], securityGroups: [sg-cache] }
flowLogs:`,
        ).replace(
          'interfaces:',
          `  - id: sg-cache
    vpc: vpc-0a1
    inbound:
      - { id: sgr-cache-redis, protocol: tcp, ports: "6379", source: sg-web }
interfaces:`,
        )}`,
        'grown.yaml',
      )
      const result = await reconcileWithConfig(control.store, grown, 'grown.yaml')
      assert.equal(result.seeded, false)
      assert.deepEqual(result.added, ['sg-cache'])
      assert.deepEqual(
        (await control.service.listFlowLogs()).map((f) => f.spec.id),
        [],
      )
      const service = new ControlService({
        store: control.store,
        topology: () => topologyOfConfig(grown),
        settings: () => settingsOfConfig(grown),
      })
      const network = await service.effectiveNetwork()
      assert.deepEqual(
        network.securityGroups.map((g) => g.id),
        ['sg-cache', 'sg-db', 'sg-other', 'sg-web'],
      )
      assert.match(result.warnings.join('\n'), /flow logs in the config but not in the state .*: fl-config/)
    } finally {
      await control.close()
    }
  })
})

describe('a reloaded config that no longer fits the state', () => {
  test('is reported; other changes go on, and deleting the orphan repairs it', async () => {
    const control = await openTestControl()
    try {
      let config = control.config
      const service = new ControlService({
        store: control.store,
        topology: () => topologyOfConfig(config),
        settings: () => settingsOfConfig(config),
      })
      const created = await service.createFlowLogs({
        resourceIds: ['eni-b1'],
        draft: testDraft({ resourceType: 'NetworkInterface' }),
        clientToken: null,
        dryRun: false,
      })
      const orphan = created.flowLogs[0]?.spec.id ?? ''
      // SIGHUP: the file lost eni-b1 (and vpc-0b1's group keeps no interface).
      config = parseConfig(
        TEST_CONFIG.replace(
          '  - { id: eni-b1, subnet: subnet-0b1, addresses: [172.16.1.5], securityGroups: [sg-other] }\n',
          '',
        ),
        'shrunk.yaml',
      )
      const result = await reconcileWithConfig(control.store, config, 'shrunk.yaml')
      assert.equal(result.problems.length, 1)
      assert.match(
        result.problems[0] ?? '',
        /flowLogs\[\d\]\.resource: "eni-b1" is not a VPC, subnet or interface defined in this config/,
      )
      await assert.rejects(service.effectiveNetwork(), /eni-b1/)
      // A change that has nothing to do with it still goes through.
      await service.authorize('sg-web', 'inbound', [
        { protocol: 'udp', ports: '53', icmpType: -1, icmpCode: -1, peer: '10.0.0.0/16', description: null },
      ])
      const gone = await service.deleteFlowLogs([orphan])
      assert.deepEqual(gone.deleted, [orphan])
      const network = await service.effectiveNetwork()
      assert.deepEqual(
        network.flowLogs.map((f) => f.id),
        ['fl-config'],
      )
    } finally {
      await control.close()
    }
  })
})
