import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { loadConfig } from '../../src/config/load-config.js'
import { ControlService } from '../../src/control/control-service.js'
import { settingsOfConfig, topologyOfConfig } from '../../src/control/effective-network.js'
import { reconcileWithConfig } from '../../src/control/seed-state.js'
import { SqliteStore } from '../../src/store/sqlite-store.js'
import { listFiles, readText, runFlowlog } from '../support/cli.js'
import { repoPath } from '../support/paths.js'

/**
 * `flowlog export-config` on a state changed through the control plane: the file it writes is
 * accepted by `validate` and run by `replay`, which writes exactly the flow logs of the state.
 */
const CONFIG = repoPath('examples/quickstart/network.yaml')
const CAPTURE = repoPath('examples/quickstart/traffic.pcap')
// biome-ignore lint/suspicious/noTemplateCurlyInString: AWS LogFormat
const LOG_FORMAT = '${interface-id} ${srcaddr} ${dstaddr} ${dstport} ${action} ${rule-id}'

const dir = mkdtempSync(join(tmpdir(), 'flowlog-export-'))
after(() => rmSync(dir, { recursive: true, force: true }))

describe('flowlog export-config', () => {
  const stateDir = join(dir, 'state')
  let apiFlowLog = ''
  let apiGroup = ''

  test('the state as changed through the control plane', async () => {
    const config = loadConfig(CONFIG)
    const store = SqliteStore.open(stateDir)
    try {
      await reconcileWithConfig(store, config, CONFIG)
      const service = new ControlService({
        store,
        topology: () => topologyOfConfig(config),
        settings: () => settingsOfConfig(config),
      })
      const created = await service.createFlowLogs({
        resourceIds: ['eni-web1'],
        draft: {
          resourceType: 'NetworkInterface',
          trafficType: 'ALL',
          aggregationInterval: 60,
          logFormat: LOG_FORMAT,
          fields: null,
          fileFormat: 'text',
          destination: 's3://flowlog-export-test/web',
          layout: 'aws',
          perHourPartition: false,
          compression: 'none',
          fileNameTemplate: null,
          name: null,
          description: null,
          enabled: true,
          tags: { Name: 'web interface' },
        },
        clientToken: null,
        dryRun: false,
      })
      apiFlowLog = created.flowLogs[0]?.spec.id ?? ''
      assert.match(apiFlowLog, /^fl-[0-9a-f]{17}$/)
      await service.authorize('sg-web', 'inbound', [
        {
          protocol: 'tcp',
          ports: '8080',
          icmpType: -1,
          icmpCode: -1,
          peer: '0.0.0.0/0',
          description: 'alt http',
        },
      ])
      const group = await service.createSecurityGroup({
        name: 'metrics',
        description: 'scraped by prometheus',
        vpc: null,
        tags: { team: 'obs' },
        dryRun: false,
      })
      apiGroup = group.group.id
      await service.setInterfaceGroups('eni-db1', ['sg-db', apiGroup])
      await service.updateFlowLog('fl-quickstart', { enabled: false })
    } finally {
      await store.close()
    }
  })

  test('export → validate → replay: the state runs as a config', () => {
    const out = join(dir, 'now.yaml')
    const exported = runFlowlog(['export-config', '--state', stateDir, '--config', CONFIG, '--out', out])
    assert.equal(exported.code, 0, exported.stderr)
    const yaml = readFileSync(out, 'utf8')
    assert.match(yaml, /# name: metrics; tags: team=obs/)
    assert.match(yaml, /# tags: Name=web interface/)
    assert.match(
      yaml,
      /# Paused flow logs .*\n# Move them under flowLogs to run them.\n# - id: fl-quickstart\n# {3}resource: vpc-0a1/,
    )

    const validated = runFlowlog(['validate', '--config', out])
    assert.equal(validated.code, 0, validated.stderr)
    assert.match(validated.stdout, /3 security group\(s\) with 9 rule\(s\)/)
    assert.match(
      validated.stdout,
      new RegExp(
        `flow log ${apiFlowLog}: eni-web1 \\(1 interface\\(s\\)\\), ALL, every 60 s, text -> s3://flowlog-export-test/web`,
      ),
    )
    assert.doesNotMatch(validated.stdout, /fl-quickstart/)
    const network = loadConfig(out)
    assert.deepEqual(network.interfaces.find((i) => i.id === 'eni-db1')?.securityGroups, ['sg-db', apiGroup])

    const files = join(dir, 'replayed')
    const replayed = runFlowlog(['replay', '--config', out, '--out', files, '--no-progress', CAPTURE])
    assert.equal(replayed.code, 0, replayed.stderr)
    const written = listFiles(files)
    assert.ok(written.length > 0)
    for (const file of written) assert.match(file, new RegExp(apiFlowLog))
    const lines = written.flatMap((f) => readText(join(files, f)).trimEnd().split('\n'))
    assert.equal(lines[0], 'interface-id srcaddr dstaddr dstport action rule-id')
    const records = lines.filter((l) => !l.startsWith('interface-id '))
    assert.ok(records.length > 0)
    for (const record of records) assert.match(record, /^eni-web1 /)
    assert.ok(
      records.some((r) => / ACCEPT sgr-web-http$/.test(r)),
      records.join('\n'),
    )
  })

  test('without --config the topology is the one the daemon last started with', () => {
    const withConfig = runFlowlog(['export-config', '--state', stateDir, '--config', CONFIG])
    const fromState = runFlowlog(['export-config', '--state', stateDir])
    assert.equal(fromState.code, 0, fromState.stderr)
    const body = (text: string) => text.split('\n').slice(2).join('\n')
    assert.equal(body(fromState.stdout), body(withConfig.stdout))
  })

  test('a directory without state is bad input, nothing is created', () => {
    const empty = join(dir, 'no-state')
    const r = runFlowlog(['export-config', '--state', empty])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /--state .*no-state: .*state\.db does not exist/)
    assert.throws(() => readFileSync(join(empty, 'state.db')))
  })
})
