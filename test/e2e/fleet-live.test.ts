import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { listFiles } from '../support/cli.js'
import { EtcdTestCluster, requireEtcd } from '../support/etcd.js'
import { type FleetAgent, startAgent } from '../support/fleet-agent.js'
import { createFleetLab, type FleetLab } from '../support/fleet-lab.js'
import { CLIENT_JS, collectOutput, requireLab, SERVER_JS, waitFor } from '../support/netns.js'
import {
  ACCESS_KEY,
  aws,
  filesWritten,
  http,
  type Row,
  readTextRecords,
  SECRET_KEY,
} from '../support/service-lab.js'

const TOKEN = 'fleet-token-0123456789abcdef'

function paramFile(path: string, value: string): string {
  writeFileSync(path, value)
  return `file://${path}`
}

/**
 * Two hosts of a fleet, one flow-log service (docs/fleet.md): two `flowlog run` agents, each in its
 * own namespace lab (hypervisor, devices, instances), sharing one real three-member etcd on a
 * management network, and one destination directory (the "bucket"). Host a's agent reaches etcd
 * through members 1 and 2, host b's through member 0 only, so stopping member 0 cuts b off while
 * a writes on.
 */
function fleetConfig(fleet: FleetLab, out: string): string {
  const nic = (hostName: string, i: { name: string; address: string; device: string }, group: string) =>
    `  - { id: eni-${i.name}, instance: i-${i.name}, subnet: subnet-lab, addresses: [${i.address}], device: ${i.device}, host: ${hostName}, securityGroups: [${group}] }`
  const interfaces = fleet.hosts.flatMap((h) =>
    h.lab.instances.map((i, k) => nic(`host-${h.name}`, i, k === 0 ? 'sg-client' : 'sg-server')),
  )
  return `account: "123456789012"
region: kr1
spoolDir: ${out}-spool
vpcs:
  - id: vpc-lab
    cidrs: [10.77.0.0/16]
    subnets:
      - { id: subnet-lab, cidrs: [10.77.1.0/24] }
securityGroups:
  - id: sg-client
    outbound:
      - { id: sgr-client-out, protocol: all, destination: 0.0.0.0/0 }
  - id: sg-server
    inbound:
      - { id: sgr-http, protocol: tcp, ports: "80", source: sg-client }
    outbound:
      - { id: sgr-server-out, protocol: all, destination: 0.0.0.0/0 }
interfaces:
${interfaces.join('\n')}
`
}

test('two hosts, one flow-log service over etcd: fleet-wide groups and files, an outage survived, a crash recovered', async (t) => {
  if (!requireLab(t, { libpcap: false }) || !requireEtcd(t)) return
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-fleet-'))
  const fleet = createFleetLab('F', [
    { name: 'a', instances: ['a0', 'a1'] },
    { name: 'b', instances: ['b0', 'b1'] },
  ])
  const agents: FleetAgent[] = []
  t.after(async () => {
    for (const agent of agents) await agent.kill()
    fleet.destroy()
    rmSync(dir, { recursive: true, force: true })
  })
  const etcd = await EtcdTestCluster.start(t, { members: 3, netns: fleet.mgmt, address: fleet.etcdAddress })
  const out = join(dir, 'bucket')
  const config = join(dir, 'fleet.yaml')
  writeFileSync(config, fleetConfig(fleet, out))
  const tokenFile = join(dir, 'token')
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 })
  const credentials = join(dir, 'credentials')
  writeFileSync(
    credentials,
    `[fleet]\naws_access_key_id = ${ACCESS_KEY}\naws_secret_access_key = ${SECRET_KEY}\n`,
    { mode: 0o600 },
  )
  const [hostA, hostB] = fleet.hosts
  assert.ok(hostA && hostB)
  const start = (host: typeof hostA, members: number[]) =>
    startAgent(host, {
      config,
      datastore: etcd.datastoreUrl(members),
      hostName: `host-${host.name}`,
      args: ['--api-token-file', tokenFile, '--api-credentials', credentials],
    })
  let a = await start(hostA, [1, 2])
  agents.push(a)
  const b = await start(hostB, [0])
  agents.push(b)

  const api = (agent: FleetAgent, path: string, options: Parameters<typeof http>[2] = {}) =>
    http(agent.host.lab, `${agent.url}${path}`, {
      ...options,
      headers: { 'x-auth-token': TOKEN, ...options.headers },
    })
  const status = (agent: FleetAgent) => api(agent, '/status').json()
  const metrics = (agent: FleetAgent) => api(agent, '/metrics').body

  // Servers on every instance but the first of each host; clients probe across hosts.
  for (const host of fleet.hosts) {
    for (const i of host.lab.instances.slice(1)) {
      const server = host.lab.start(i.ns, [process.execPath, '-e', SERVER_JS, '80', '81'])
      const serverOut = collectOutput(server)
      await waitFor(`the server in ${i.name}`, () => (serverOut.stdout().includes('"80"') ? true : undefined))
    }
  }
  const [a0, a1] = hostA.lab.instances
  const [b0, b1] = hostB.lab.instances
  assert.ok(a0 && a1 && b0 && b1)
  const probe = (from: typeof a0, host: typeof hostA, to: typeof a0, port: number) =>
    JSON.parse(host.lab.run(from.ns, [process.execPath, '-e', CLIENT_JS, `tcp:${to.address}:${port}`])) as Row
  /** Records of this flow, as the agent of `to`'s host recorded them for `to`'s interface. */
  const recordsOf = (to: typeof a0, from: typeof a0, port: number, since: number) =>
    readTextRecords(out).filter(
      (r) =>
        r['interface-id'] === `eni-${to.name}` &&
        r.srcaddr === from.address &&
        r.dstport === port &&
        Number(r.start) >= since,
    )
  const verdictOf = async (what: string, to: typeof a0, from: typeof a0, port: number, since: number) =>
    waitFor(
      what,
      () => {
        // Observe mode lets a rejected connection happen; its later packets may then pass as
        // replies of the server's answer. The connection's verdict is its first packet's.
        const found = recordsOf(to, from, port, since)
        if (found.length === 0) return undefined
        return found.some((r) => r.action === 'REJECT') ? 'REJECT' : 'ACCEPT'
      },
      20_000,
    )
  const now = () => Math.floor(Date.now() / 1000)

  const ec2 = (agent: FleetAgent, args: readonly string[]) => aws(agent.host.lab, agent, args)

  // ── a flow log created through a's EC2 API runs on b too ─────────────────────────────────────
  assert.deepEqual((status(b) as { fleet: unknown }).fleet, { host: 'host-b', otherHosts: ['host-a'] })
  const created = ec2(a, [
    'create-flow-logs',
    '--resource-type',
    'VPC',
    '--resource-ids',
    'vpc-lab',
    '--traffic-type',
    'ALL',
    '--max-aggregation-interval',
    '2',
    '--log-destination-type',
    's3',
    '--log-destination',
    // awscli reads a file:// argument as a file holding the value: the value is a file:// URL.
    paramFile(join(dir, 'destination'), `file://${out}`),
    '--log-format',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: AWS LogFormat
    '${interface-id} ${flow-direction} ${srcaddr} ${dstaddr} ${dstport} ${action} ${start}',
  ])
  assert.equal(created.code, 0, created.stderr)
  const flowLogId = String((created.json.FlowLogIds as string[])[0])
  // It starts at its next window boundary: b's first file (NODATA, no traffic yet) says so.
  await waitFor("b to write the first file of a's flow log", () =>
    filesWritten(b.logs(), flowLogId).length > 0 ? true : undefined,
  )
  let since = now()
  probe(b0, hostB, b1, 80)
  assert.equal(await verdictOf("b's files of a's flow log", b1, b0, 80, since), 'ACCEPT')

  // ── fleet-wide groups: a0 (host a, sg-client) may reach b1 (host b) on 80, by group ───────────
  since = now()
  assert.equal(probe(a0, hostA, b1, 80)[`tcp:${b1.address}:80`], 'ok')
  assert.equal(
    await verdictOf('b to record a0 → b1:80', b1, a0, 80, since),
    'ACCEPT',
    "b resolved sg-client to a0's address on host a",
  )
  assert.equal(probe(a0, hostA, b1, 81)[`tcp:${b1.address}:81`], 'ok')
  assert.equal(await verdictOf('b to record a0 → b1:81', b1, a0, 81, since), 'REJECT')
  // Each host wrote its own files, side by side in one directory, never over each other.
  const writers = (window: number) =>
    readTextRecords(out)
      .filter((r) => Number(r.start) >= window)
      .map((r) => String(r['interface-id']))
  await waitFor('files from both hosts', () =>
    writers(since).some((i) => i.startsWith('eni-a')) && writers(since).some((i) => i.startsWith('eni-b'))
      ? true
      : undefined,
  )
  const names = listFiles(out).map((f) => f.split('/').at(-1) ?? '')
  assert.equal(new Set(names).size, names.length)

  // ── a group changed through b's API: a judges its new connections by it ────────────────────
  since = now()
  probe(a0, hostA, a1, 80)
  assert.equal(await verdictOf('a to accept a0 → a1:80', a1, a0, 80, since), 'ACCEPT')
  const revoked = ec2(b, [
    'revoke-security-group-ingress',
    '--group-id',
    'sg-server',
    '--security-group-rule-ids',
    'sgr-http',
  ])
  assert.equal(revoked.code, 0, revoked.stderr)
  await waitFor('a to apply the change made through b', () =>
    a.logs().some((l) => String(l.msg).startsWith('applied:') && Date.parse(String(l.time)) / 1000 >= since)
      ? true
      : undefined,
  )
  since = now()
  probe(a0, hostA, a1, 80)
  assert.equal(await verdictOf('a to reject a0 → a1:80 now', a1, a0, 80, since), 'REJECT')
  const restored = ec2(a, [
    'authorize-security-group-ingress',
    '--group-id',
    'sg-server',
    '--ip-permissions',
    'IpProtocol=tcp,FromPort=80,ToPort=80,UserIdGroupPairs=[{GroupId=sg-client}]',
  ])
  assert.equal(restored.code, 0, restored.stderr)

  // ── b cut off from etcd (its only member stops); a writes on; b resyncs when it is back ─────
  await etcd.stopMember(0)
  await waitFor('b to report etcd unreachable', () =>
    (status(b).store as Row).ok === false ? true : undefined,
  )
  assert.match(metrics(b), /^flowlog_datastore_up\{datastore="etcd:\/\/10\.78\.0\.1:\d+\/flowlog\/"\} 0$/m)
  const refused = api(b, `/v2.0/flowlog-loggers/${flowLogId}`, {
    method: 'PUT',
    body: { flowlog_logger: { admin_state_up: false } },
  })
  assert.equal(refused.status, 503, refused.body)
  // Through a: pause the fleet's flow log (etcd's two other members are a quorum).
  const paused = api(a, `/v2.0/flowlog-loggers/${flowLogId}`, {
    method: 'PUT',
    body: { flowlog_logger: { admin_state_up: false } },
  })
  assert.equal(paused.status, 200, paused.body)
  // b keeps logging with the state it had: the flow log still runs there.
  since = now()
  probe(b0, hostB, b1, 80)
  assert.equal(await verdictOf('b to log on, cut off', b1, b0, 80, since), 'ACCEPT')
  await etcd.startMember(0)
  await waitFor('b to resync and stop the paused flow log', () => {
    const s = status(b)
    return (s.store as Row).ok === true && (s.flowLogs as Row[]).length === 0 ? true : undefined
  })
  assert.ok(b.logs().some((l) => l.msg === 'etcd reachable again: resynced the state'))
  const resumed = api(b, `/v2.0/flowlog-loggers/${flowLogId}`, {
    method: 'PUT',
    body: { flowlog_logger: { admin_state_up: true } },
  })
  assert.equal(resumed.status, 200, resumed.body)
  await waitFor('a to run the flow log again', () =>
    (status(a).flowLogs as Row[]).length === 1 ? true : undefined,
  )

  // ── etcd down altogether: both log on, writes refused; back: both healthy ──────────────────
  await etcd.stop()
  await waitFor('both to report etcd unreachable', () =>
    (status(a).store as Row).ok === false && (status(b).store as Row).ok === false ? true : undefined,
  )
  since = now()
  probe(a0, hostA, a1, 80)
  probe(b0, hostB, b1, 80)
  assert.equal(await verdictOf('a to log on without etcd', a1, a0, 80, since), 'ACCEPT')
  assert.equal(await verdictOf('b to log on without etcd', b1, b0, 80, since), 'ACCEPT')
  for (const agent of [a, b]) {
    const r = api(agent, `/v2.0/flowlog-loggers/${flowLogId}`, {
      method: 'PUT',
      body: { flowlog_logger: { name: 'x' } },
    })
    assert.equal(r.status, 503, r.body)
  }
  const refusedEc2 = ec2(b, [
    'create-security-group',
    '--group-name',
    'late',
    '--description',
    'late',
    '--vpc-id',
    'vpc-lab',
  ])
  assert.notEqual(refusedEc2.code, 0)
  assert.match(refusedEc2.stderr, /ServiceUnavailable/)
  await etcd.start()
  await waitFor('both to find etcd again', () =>
    (status(a).store as Row).ok === true && (status(b).store as Row).ok === true ? true : undefined,
  )

  // ── a crashes (SIGKILL) and starts again: it takes the state from etcd and logs on ───────────
  await a.kill()
  a = await start(hostA, [1, 2])
  agents.push(a)
  const restarted = a
  await waitFor('a to write files again', () =>
    filesWritten(restarted.logs(), flowLogId).length > 0 ? true : undefined,
  )
  since = now()
  probe(a0, hostA, a1, 80)
  assert.equal(await verdictOf('a to log again after its restart', a1, a0, 80, since), 'ACCEPT')
  assert.equal(await b.stop(), 0)
  assert.equal(await a.stop(), 0)
})
