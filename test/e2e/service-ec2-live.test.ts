// biome-ignore-all lint/suspicious/noTemplateCurlyInString: AWS's ${field} format syntax in LogFormat
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { CLIENT_JS, createLab, type Lab, requireLab, startServer, waitFor } from '../support/netns.js'
import { requireCommands } from '../support/requirements.js'
import {
  aws,
  filesWritten,
  type Row,
  type RunningService,
  readTextRecords,
  type ServiceFiles,
  serviceFiles,
  sleep,
  startService,
} from '../support/service-lab.js'

const FORMAT =
  '${version} ${interface-id} ${flow-direction} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${rule-id}'

/**
 * awscli reads a parameter value that starts with file:// from that file, so a local-directory
 * destination is given the way awscli's docs say for such values: through a file holding it.
 */
function paramFile(dir: string, name: string, value: string): string {
  const path = join(dir, name)
  writeFileSync(path, value)
  return pathToFileURL(path).href
}

/** The OK records of `rows` matching `where`. */
function select(rows: Row[], where: Row): Row[] {
  return rows.filter((r) => r['log-status'] === 'OK' && Object.entries(where).every(([k, v]) => r[k] === v))
}

/**
 * flowlog as the EC2 flow-log service of a namespace network, driven only by Debian's awscli:
 * a flow log created through the API records real traffic in the requested format from its next
 * window; an ingress rule authorized through the API accepts the next connection and its records
 * name the rule; a deleted flow log writes its open window once and nothing after, while the
 * other goes on; a bad request changes nothing; a restart keeps the state.
 */
test('flowlog run as an EC2 flow-log service: create, authorize, delete, bad requests, restart (awscli)', async (t) => {
  if (!requireLab(t, { libpcap: false })) return
  if (!requireCommands(t, 'apt-get install awscli (Debian, /usr/bin/aws)', '/usr/bin/aws')) return
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-svc-ec2-'))
  const lab: Lab = createLab('e', ['a', 'b'])
  let service: RunningService | null = null
  try {
    const [a, b] = lab.instances as [Lab['instances'][0], Lab['instances'][0]]
    const files: ServiceFiles = serviceFiles(lab, dir)
    service = await startService(lab, files, ['--api-credentials', files.credentials])
    await startServer(lab, b, ['80', '8080'])
    const connect = (port: number) =>
      JSON.parse(lab.run(a.ns, [process.execPath, '-e', CLIENT_JS, `tcp:${b.address}:${port}`])) as Row

    // Two flow logs: the whole VPC every 2 s (to be deleted), eni-b every 3 s (stays).
    const vpcOut = join(dir, 'vpc')
    const eniOut = join(dir, 'eni-b')
    const created = Date.now() / 1000
    const createVpc = aws(lab, service, [
      'create-flow-logs',
      '--resource-type',
      'VPC',
      '--resource-ids',
      'vpc-lab',
      '--traffic-type',
      'ALL',
      '--log-destination-type',
      's3',
      '--log-destination',
      paramFile(dir, 'vpc-destination', pathToFileURL(vpcOut).href),
      '--max-aggregation-interval',
      '2',
      '--log-format',
      FORMAT,
    ])
    assert.equal(createVpc.code, 0, createVpc.stderr)
    assert.deepEqual(createVpc.json.Unsuccessful, [])
    const [vpcFlowLog] = createVpc.json.FlowLogIds as string[]
    assert.match(vpcFlowLog ?? '', /^fl-[0-9a-f]{17}$/)
    const createEni = aws(lab, service, [
      'create-flow-logs',
      '--resource-type',
      'NetworkInterface',
      '--resource-ids',
      'eni-b',
      '--traffic-type',
      'ACCEPT',
      '--log-destination-type',
      's3',
      '--log-destination',
      paramFile(dir, 'eni-destination', pathToFileURL(eniOut).href),
      '--max-aggregation-interval',
      '3',
      '--log-format',
      FORMAT,
    ])
    assert.equal(createEni.code, 0, createEni.stderr)
    const [eniFlowLog] = createEni.json.FlowLogIds as string[]
    // A created flow log records from its next window on: wait for each one's first file, so the
    // traffic below is not sent in the window before it starts.
    await waitFor('the first files of both new flow logs', () =>
      [vpcFlowLog, eniFlowLog].every((id) => filesWritten(service?.logs() ?? [], id ?? '').length > 0)
        ? true
        : undefined,
    )

    // Traffic: allowed (sgr-http) and not allowed yet (8080, no rule: observe mode records REJECT).
    assert.equal(connect(80)[`tcp:${b.address}:80`], 'ok')
    assert.equal(connect(8080)[`tcp:${b.address}:8080`], 'ok')
    const applied = () => service?.logs().filter((l) => String(l.msg).startsWith('applied:')).length ?? 0
    const appliedBefore = applied()
    const authorize = aws(lab, service, [
      'authorize-security-group-ingress',
      '--group-id',
      'sg-server',
      '--protocol',
      'tcp',
      '--port',
      '8080',
      '--cidr',
      '10.77.0.0/16',
    ])
    assert.equal(authorize.code, 0, authorize.stderr)
    const rules = authorize.json.SecurityGroupRules as Row[]
    const newRule = rules[0]?.SecurityGroupRuleId as string
    assert.match(newRule, /^sgr-[0-9a-f]{17}$/)
    await waitFor('the rule applied', () => (applied() > appliedBefore ? true : undefined))
    assert.equal(connect(8080)[`tcp:${b.address}:8080`], 'ok')

    await waitFor('the records of the new connection', () => {
      const rows = select(readTextRecords(vpcOut), {
        'interface-id': 'eni-b',
        dstport: 8080,
        'rule-id': newRule,
      })
      return rows.length > 0 ? rows : undefined
    })
    const vpcRows = readTextRecords(vpcOut)

    await t.test(
      'the created flow log writes the requested format from its first window after creation',
      () => {
        const written = filesWritten(service?.logs() ?? [], vpcFlowLog ?? '')
        assert.ok(written.length > 0)
        for (const f of written)
          assert.ok(Number(f.windowStart) >= Math.floor(created), `window ${f.windowStart}`)
        assert.ok(vpcRows.every((r) => r.version === 5 || r.version === '-' || typeof r.version === 'number'))
        const toServer = select(vpcRows, {
          'interface-id': 'eni-b',
          dstport: 80,
          'flow-direction': 'ingress',
        })
        assert.ok(toServer.length > 0, 'the allowed connection is recorded')
        assert.deepEqual(
          [...new Set(toServer.map((r) => `${r.action} ${r['rule-id']}`))],
          ['ACCEPT sgr-http'],
        )
      },
    )

    await t.test(
      'an authorized rule accepts the next connection at once, and its records name the rule',
      () => {
        const to8080 = select(vpcRows, {
          'interface-id': 'eni-b',
          dstport: 8080,
          'flow-direction': 'ingress',
        })
        const verdicts = new Set(to8080.map((r) => `${r.action} ${r['rule-id']}`))
        assert.ok(verdicts.has('REJECT -'), 'the connection before the rule was rejected')
        assert.ok(verdicts.has(`ACCEPT ${newRule}`), 'the connection after it names the new rule')
        const described = aws(lab, service as RunningService, [
          'describe-security-group-rules',
          '--filters',
          'Name=group-id,Values=sg-server',
        ])
        assert.equal(described.code, 0, described.stderr)
        const ids = (described.json.SecurityGroupRules as Row[]).map((r) => r.SecurityGroupRuleId)
        assert.ok(ids.includes(newRule))
      },
    )

    // Delete the VPC flow log mid-window; traffic after it goes only to the one on eni-b.
    const deleted = aws(lab, service, ['delete-flow-logs', '--flow-log-ids', vpcFlowLog ?? ''])
    assert.equal(deleted.code, 0, deleted.stderr)
    assert.deepEqual(deleted.json.Unsuccessful, [])
    const afterDelete = Date.now() / 1000
    // Text records show whole seconds: the traffic after the deletion starts in a later one.
    await sleep(1100)
    assert.equal(connect(80)[`tcp:${b.address}:80`], 'ok')
    await sleep(2 * 2000 + 1500)
    await waitFor('a later window of the eni-b flow log', () =>
      select(readTextRecords(eniOut), { dstport: 80 }).some((r) => Number(r.start) > afterDelete)
        ? true
        : undefined,
    )

    await t.test('the deleted flow log wrote its open window once, and nothing after', () => {
      const written = filesWritten(service?.logs() ?? [], vpcFlowLog ?? '')
      const windows = written.map((f) => Number(f.windowStart))
      assert.equal(new Set(windows).size, windows.length, 'one file per window, the last one too')
      assert.ok(
        windows.every((w) => w <= afterDelete),
        `no window after the deletion (${afterDelete}): ${windows}`,
      )
      // The window open when the daemon applied the deletion went out at once, partial: well
      // before it would have closed (its end + 1 s), and it holds what came before the deletion.
      const logs = service?.logs() ?? []
      const removal = logs.find(
        (l) => String(l.msg).startsWith('applied:') && (l.removed as string[]).includes(vpcFlowLog ?? ''),
      )
      assert.ok(removal, 'the daemon applied the deletion')
      const at = Date.parse(String(removal.time)) / 1000
      const last = written.find((f) => Number(f.windowStart) === Math.floor(at / 2) * 2)
      assert.ok(last, `the window open at the deletion (${at}) was written: ${windows}`)
      const writtenAt = Date.parse(String(last.time)) / 1000
      assert.ok(
        writtenAt - at < 0.9,
        `written at the deletion (${at}), not at the window's close (${writtenAt})`,
      )
      const rows = readTextRecords(vpcOut)
      assert.deepEqual(
        rows.filter((r) => r['log-status'] === 'OK' && Number(r.start) > Math.floor(afterDelete)),
        [],
        'no record of the traffic after the deletion',
      )
      const describe = aws(lab, service as RunningService, ['describe-flow-logs'])
      const ids = (describe.json.FlowLogs as Row[]).map((f) => f.FlowLogId)
      assert.deepEqual(ids, [eniFlowLog])
    })

    await t.test('bad requests are 4xx with AWS codes and change nothing', () => {
      const s = service as RunningService
      const before = aws(lab, s, ['describe-flow-logs']).json
      const badField = aws(lab, s, [
        'create-flow-logs',
        '--resource-type',
        'VPC',
        '--resource-ids',
        'vpc-lab',
        '--traffic-type',
        'ALL',
        '--log-destination-type',
        's3',
        '--log-destination',
        paramFile(dir, 'bad-destination', pathToFileURL(join(dir, 'bad')).href),
        '--log-format',
        '${version} ${no-such-field}',
      ])
      assert.notEqual(badField.code, 0)
      assert.match(badField.stderr, /InvalidParameterValue/)
      assert.match(badField.stderr, /no-such-field/)
      const badSecret = aws(lab, s, ['describe-flow-logs'], 'not-the-secret')
      assert.notEqual(badSecret.code, 0)
      assert.match(badSecret.stderr, /AuthFailure|SignatureDoesNotMatch/)
      const unknownGroup = aws(lab, s, [
        'authorize-security-group-ingress',
        '--group-id',
        'sg-none',
        '--protocol',
        'tcp',
        '--port',
        '22',
        '--cidr',
        '10.0.0.0/8',
      ])
      assert.match(unknownGroup.stderr, /InvalidGroup\.NotFound/)
      assert.deepEqual(aws(lab, s, ['describe-flow-logs']).json, before)
      assert.ok(!s.logs().some((l) => l.level === 'error' && l.msg === 'api request failed'), 'never a 5xx')
    })

    // Restart on the same state: the flow log and the rule are still there, and the daemon goes on.
    assert.equal(await service.stop(), 0, service.stderr())
    service = await startService(lab, files, ['--api-credentials', files.credentials])
    const restarted = service

    await t.test('a restart keeps the state: flow logs, rules, and the files go on', async () => {
      const flowLogs = aws(lab, restarted, ['describe-flow-logs']).json.FlowLogs as Row[]
      assert.deepEqual(
        flowLogs.map((f) => [
          f.FlowLogId,
          f.ResourceId,
          f.TrafficType,
          f.MaxAggregationInterval,
          f.LogFormat,
        ]),
        [[eniFlowLog, 'eni-b', 'ACCEPT', 3, FORMAT]],
      )
      const rules = aws(lab, restarted, [
        'describe-security-group-rules',
        '--security-group-rule-ids',
        newRule,
      ])
      assert.equal(rules.code, 0, rules.stderr)
      const started = Date.now() / 1000
      assert.equal(connect(8080)[`tcp:${b.address}:8080`], 'ok')
      const after = await waitFor('records after the restart', () => {
        const rows = select(readTextRecords(eniOut), { dstport: 8080 }).filter(
          (r) => Number(r.start) >= Math.floor(started),
        )
        return rows.length > 0 ? rows : undefined
      })
      assert.deepEqual([...new Set(after.map((r) => `${r.action} ${r['rule-id']}`))], [`ACCEPT ${newRule}`])
    })
    assert.equal(await restarted.stop(), 0, restarted.stderr())
    service = null
  } finally {
    if (service !== null) await service.stop()
    lab.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
})
