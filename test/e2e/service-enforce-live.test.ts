// biome-ignore-all lint/suspicious/noTemplateCurlyInString: AWS's ${field} format syntax in LogFormat
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { pathToFileURL } from 'node:url'
import {
  CLIENT_JS,
  collectOutput,
  createLab,
  type Lab,
  requireLab,
  SERVER_JS,
  waitFor,
} from '../support/netns.js'
import { requireCommands } from '../support/requirements.js'
import {
  aws,
  filesWritten,
  type Row,
  type RunningService,
  readTextRecords,
  serviceFiles,
  startService,
} from '../support/service-lab.js'

/**
 * Enforce mode as a service: the kernel judges through nftables, and a security-group change made
 * through the EC2 API replaces the ruleset at once: a port the groups refused (its connection
 * times out) is reachable by the next connection after AuthorizeSecurityGroupIngress, the
 * kernel's records of it name the new rule, and a revoke closes it again for new connections.
 */
test('flowlog run --enforce as a service: an authorized rule opens the port in the kernel at once (awscli)', async (t) => {
  if (!requireLab(t, { libpcap: false })) return
  if (!requireCommands(t, 'apt-get install awscli (Debian, /usr/bin/aws)', '/usr/bin/aws')) return
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-svc-enforce-'))
  const lab: Lab = createLab('f', ['a', 'b'])
  let service: RunningService | null = null
  try {
    const [a, b] = lab.instances as [Lab['instances'][0], Lab['instances'][0]]
    const files = serviceFiles(lab, dir)
    service = await startService(lab, files, ['--enforce', '--api-credentials', files.credentials])
    const s = service
    const server = lab.start(b.ns, [process.execPath, '-e', SERVER_JS, '80', '8080'])
    const serverOut = collectOutput(server)
    await waitFor('the servers in b', () => (serverOut.stdout().includes('"8080"') ? true : undefined))
    const connect = (port: number) =>
      (JSON.parse(lab.run(a.ns, [process.execPath, '-e', CLIENT_JS, `tcp:${b.address}:${port}`])) as Row)[
        `tcp:${b.address}:${port}`
      ]
    const ruleset = () =>
      spawnSync('ip', ['netns', 'exec', lab.hv, 'nft', 'list', 'table', 'inet', 'flowlog'], {
        encoding: 'utf8',
      }).stdout
    const applied = () => s.logs().filter((l) => String(l.msg).startsWith('applied:')).length

    const out = join(dir, 'out')
    const destination = join(dir, 'destination')
    writeFileSync(destination, pathToFileURL(out).href)
    const created = aws(lab, s, [
      'create-flow-logs',
      '--resource-type',
      'NetworkInterface',
      '--resource-ids',
      'eni-b',
      '--traffic-type',
      'ALL',
      '--log-destination-type',
      's3',
      '--log-destination',
      pathToFileURL(destination).href,
      '--max-aggregation-interval',
      '2',
      '--log-format',
      '${interface-id} ${flow-direction} ${srcport} ${dstport} ${protocol} ${packets} ${start} ${action} ${log-status} ${rule-id}',
    ])
    assert.equal(created.code, 0, created.stderr)
    const [flowLog] = created.json.FlowLogIds as string[]
    // It starts at its next window boundary: the traffic comes once it runs.
    await waitFor('its first file', () =>
      filesWritten(s.logs(), flowLog ?? '').length > 0 ? true : undefined,
    )

    assert.equal(connect(80), 'ok', 'sgr-http lets port 80 in')
    assert.equal(connect(8080), 'timeout', 'no rule for 8080: the kernel drops it')

    const before = applied()
    const authorize = aws(lab, s, [
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
    const rule = (authorize.json.SecurityGroupRules as Row[])[0]?.SecurityGroupRuleId as string
    await waitFor('the change applied', () => (applied() > before ? true : undefined))
    assert.match(ruleset(), new RegExp(`${rule}`), 'the loaded ruleset has the new rule')
    assert.equal(connect(8080), 'ok', 'the next connection is let in')

    const rows = await waitFor('the kernel records of the new connection', () => {
      const r = readTextRecords(out).filter(
        (x) => x['log-status'] === 'OK' && x.dstport === 8080 && x['flow-direction'] === 'ingress',
      )
      return r.some((x) => x.action === 'ACCEPT') ? r : undefined
    })
    assert.deepEqual(
      [...new Set(rows.map((r) => `${r.action} ${r['rule-id']}`))].sort(),
      [`ACCEPT ${rule}`, 'REJECT -'],
      'the dropped attempts before, the accepted connection after, named by the new rule',
    )

    const afterAuthorize = applied()
    const revoked = aws(lab, s, [
      'revoke-security-group-ingress',
      '--group-id',
      'sg-server',
      '--security-group-rule-ids',
      rule,
    ])
    assert.equal(revoked.code, 0, revoked.stderr)
    await waitFor('the revoke applied', () => (applied() > afterAuthorize ? true : undefined))
    assert.equal(connect(8080), 'timeout', 'revoked: new connections are dropped again')
    assert.equal(await s.stop(), 0, s.stderr())
    service = null
    assert.equal(ruleset(), '', 'the table is gone after the stop')
  } finally {
    if (service !== null) await service.stop()
    lab.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
})
