import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { readJsonlRecords } from '../support/cli.js'
import {
  CLIENT_JS,
  collectOutput,
  createLab,
  type Lab,
  labConfig,
  logLines,
  probeServer,
  requireLab,
  requirePacketRing,
  startServer,
  waitFor,
} from '../support/netns.js'
import { repoPath } from '../support/paths.js'

type Row = Record<string, unknown>

/** Sums packets of the OK records matching `where` (a flow may span windows). */
function packets(records: Row[], where: Row): number {
  return select(records, where).reduce((n, r) => n + Number(r.packets), 0)
}

function select(records: Row[], where: Row): Row[] {
  return records.filter(
    (r) => r['log-status'] === 'OK' && Object.entries(where).every(([k, v]) => r[k] === v),
  )
}

/** OR of the tcp-flags of the matching records. */
function flags(records: Row[], where: Row): number {
  return select(records, where).reduce((n, r) => n | Number(r['tcp-flags']), 0)
}

/** GETs or POSTs a URL from inside the lab's hypervisor namespace (the API listens on its loopback). */
function http(lab: Lab, url: string, method = 'GET', token?: string): { status: number; body: string } {
  const script = `fetch(${JSON.stringify(url)}, { method: ${JSON.stringify(method)}, headers: ${JSON.stringify(
    token === undefined ? {} : { authorization: `Bearer ${token}` },
  )} }).then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })))`
  return JSON.parse(lab.run(lab.hv, [process.execPath, '-e', script])) as { status: number; body: string }
}

test('flowlog run (observe, default backend: af-packet where its addon is built) records real namespace traffic, reloads groups on SIGHUP, flushes on SIGTERM', async (t) => {
  await observe(t, 'af-packet')
})

test('flowlog run (observe, --capture-backend tcpdump) records the same', async (t) => {
  await observe(t, 'tcpdump')
})

test('flowlog run (observe, --capture-backend libpcap) records the same', async (t) => {
  await observe(t, 'libpcap')
})

/**
 * The whole observe scenario on one capture backend: af-packet is what `auto` picks where its
 * addon is built (no flag given, so the default is what is tested); the others are asked for by
 * name.
 */
async function observe(t: TestContext, backend: 'af-packet' | 'tcpdump' | 'libpcap'): Promise<void> {
  if (!requireLab(t, { libpcap: backend === 'libpcap' })) return
  if (backend === 'af-packet' && !requirePacketRing(t)) return
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-live-'))
  const out = join(dir, 'out')
  const lab = createLab({ 'af-packet': 'r', tcpdump: 'o', libpcap: 'p' }[backend], ['a', 'b', 'c'])
  let daemon: ChildProcess | null = null
  try {
    const [a, b] = lab.instances as [(typeof lab.instances)[0], (typeof lab.instances)[0]]
    const config = join(dir, 'host.yaml')
    writeFileSync(config, labConfig(lab, out))
    const token = 'test-token-0123456789abcdef'
    daemon = lab.start(
      lab.hv,
      [
        process.execPath,
        repoPath('bin/flowlog.js'),
        'run',
        '--config',
        config,
        '--no-state',
        '--api',
        '127.0.0.1:0',
        ...(backend === 'af-packet' ? [] : ['--capture-backend', backend]),
      ],
      { FLOWLOG_API_TOKEN: token },
    )
    const output = collectOutput(daemon)
    const logs = () => logLines(output.stdout())
    const port = await waitFor(
      'the API to listen',
      () => logs().find((l) => l.msg === 'api listening')?.port as number | undefined,
    )
    const started = logs().find((l) => l.msg === 'flowlog run started')
    assert.equal(started?.mode, 'observe')
    assert.equal(started?.backend, backend)

    await startServer(lab, b, ['80', '22', 'udp:53'])

    // Traffic: ping both ways, TCP allowed / refused / rejected, UDP request-response, a short scan.
    lab.run(a.ns, ['ping', '-c', '3', '-i', '0.2', '-W', '1', b.address])
    lab.run(b.ns, ['ping', '-c', '2', '-i', '0.2', '-W', '1', a.address])
    const outcomes = probeServer(lab, a.ns, b.address, 20)
    assert.equal(outcomes[`tcp:${b.address}:80`], 'ok')
    assert.equal(outcomes[`tcp:${b.address}:81`], 'refused')
    assert.equal(outcomes[`tcp:${b.address}:22`], 'ok', 'observe mode does not block what the groups reject')
    assert.equal(outcomes[`udp:${b.address}:53`], 'ok')

    // SIGHUP with a new inbound rule: a new connection to port 22 is accepted by it.
    writeFileSync(
      config,
      labConfig(lab, out, {
        extraInbound: '      - { id: sgr-ssh, protocol: tcp, ports: "22", source: sg-client }',
      }),
    )
    daemon.kill('SIGHUP')
    await waitFor('the reload', () =>
      logs().some((l) => String(l.msg).startsWith('config reloaded')) ? true : undefined,
    )
    lab.run(a.ns, [process.execPath, '-e', CLIENT_JS, `tcp:${b.address}:22`])

    // A changed flow log is refused, and the daemon goes on with what it had.
    writeFileSync(config, labConfig(lab, out, { interval: 3 }))
    daemon.kill('SIGHUP')
    const refused = await waitFor('the refusal', () =>
      logs().find((l) => String(l.msg).startsWith('config reload refused')),
    )
    assert.match(
      JSON.stringify(refused.problems),
      /flow log fl-lab changed \(aggregationInterval\); flow logs are immutable/,
    )

    // Operations: metrics and the token-guarded API, from the daemon's own namespace.
    const metrics = http(lab, `http://127.0.0.1:${port}/metrics`)
    assert.equal(metrics.status, 200)
    assert.match(metrics.body, /flowlog_packets_total\{interface="eni-b",outcome="reject"\} [1-9]/)
    assert.match(metrics.body, /flowlog_capture_frames_total\{device="[^"]+"\} [1-9]/)
    for (const name of [
      'flowlog_kernel_drops_total',
      'flowlog_decode_failures_total',
      'flowlog_neighbour_discovery_packets_total',
      'flowlog_active_flows',
      'flowlog_skipdata_packets_total',
      'flowlog_windows_closed_total',
      'flowlog_files_written_total',
      'flowlog_file_write_delay_seconds_bucket',
      'flowlog_delivered_files_total',
      'flowlog_spooled_files_total',
      'flowlog_delivery_retries_total',
      'flowlog_delivery_failures_total',
      'flowlog_delivery_latency_seconds_sum',
      'flowlog_spool_waiting_files',
    ]) {
      assert.match(metrics.body, new RegExp(`^# TYPE ${name.replace(/_bucket$/, '')} `, 'm'), name)
    }
    assert.equal(http(lab, `http://127.0.0.1:${port}/reload`, 'POST').status, 401)
    assert.equal(http(lab, `http://127.0.0.1:${port}/reload`, 'POST', 'wrong-token-0123456789').status, 401)
    const reload = http(lab, `http://127.0.0.1:${port}/reload`, 'POST', token)
    assert.equal(reload.status, 409, 'the config on disk still changes the flow log')

    // Files appear while running, a few seconds after their window ends.
    await waitFor('a file with records', () =>
      readJsonlRecords(out).some((r) => r['log-status'] === 'OK') ? true : undefined,
    )
    daemon.kill('SIGTERM')
    const code = await new Promise<number | null>((resolve) => daemon?.once('exit', (c) => resolve(c)))
    assert.equal(code, 0, output.stderr())
    const stopped = logs().find((l) => l.msg === 'flowlog run stopped')
    assert.ok(stopped)
    assert.equal(stopped.kernelDrops, 0)
    assert.deepEqual(
      logs().filter(
        (l) => l.msg === 'capture stream problems' || l.msg === 'capture ended; reopening in 5 s',
      ),
      [],
      'the capture ran until flowlog stopped it (tcpdump: its stream ended on a record boundary)',
    )
    const records = readJsonlRecords(out)
    const A = 'eni-a'
    const B = 'eni-b'

    await t.test('ping: both sides of each echo, accepted by rule, directions and counts', () => {
      // a -> b: a's 3 echo requests and its 2 replies to b's pings (ports 0, so one record key).
      const req = { protocol: 1, 'pkt-srcaddr': a.address, 'pkt-dstaddr': b.address }
      assert.equal(
        packets(records, { ...req, 'interface-id': A, 'flow-direction': 'egress', action: 'ACCEPT' }),
        5,
      )
      assert.equal(
        packets(records, { ...req, 'interface-id': B, 'flow-direction': 'ingress', action: 'ACCEPT' }),
        5,
      )
      // The window holding a's first echo request: its record (one key with a's replies to b) names
      // the rule of its first packet. Files of one minute sort by hash, so order by start.
      const first = select(records, { ...req, 'interface-id': B }).sort(
        (x, y) => Number(x.start) - Number(y.start),
      )
      assert.equal(first[0]?.['rule-id'], 'sgr-ping')
      const reply = { protocol: 1, 'pkt-srcaddr': b.address, 'pkt-dstaddr': a.address, action: 'ACCEPT' }
      assert.ok(packets(records, { ...reply, 'interface-id': B, 'flow-direction': 'egress' }) >= 3)
      // b -> a: a has no inbound rule, so its ingress rejects the first echo request; observe mode
      // does not block it, and a's reply (allowed outbound) opens the connection that accepts the second.
      const back = {
        protocol: 1,
        'pkt-srcaddr': b.address,
        'pkt-dstaddr': a.address,
        'interface-id': A,
        'flow-direction': 'ingress',
      }
      assert.equal(packets(records, { ...back, action: 'REJECT' }), 1)
      // Accepted: b's 3 replies to a's pings and b's second echo request (one key: ICMP has ports 0).
      assert.equal(packets(records, { ...back, action: 'ACCEPT' }), 4)
      assert.equal(
        select(records, { ...back, action: 'REJECT' })[0]?.['reject-reason-detail'],
        'no-matching-rule',
      )
    })

    await t.test('TCP allowed: SYN and FIN one way, SYN-ACK and FIN the other, rule sgr-http', () => {
      const toServer = {
        protocol: 6,
        dstport: 80,
        'interface-id': B,
        'flow-direction': 'ingress',
        action: 'ACCEPT',
      }
      assert.equal(flags(records, toServer), 3)
      assert.equal(select(records, toServer)[0]?.['rule-id'], 'sgr-http')
      assert.equal(
        flags(records, { protocol: 6, srcport: 80, 'interface-id': B, 'flow-direction': 'egress' }),
        19,
      )
      assert.equal(
        packets(records, { protocol: 6, dstport: 80, 'interface-id': A, 'flow-direction': 'egress' }),
        packets(records, toServer),
        'what a sent is what b received',
      )
    })

    await t.test('TCP refused: SYN accepted by the rule, answered by RST', () => {
      assert.equal(
        flags(records, {
          protocol: 6,
          dstport: 81,
          'interface-id': B,
          'flow-direction': 'ingress',
          action: 'ACCEPT',
        }),
        2,
      )
      assert.equal(
        flags(records, {
          protocol: 6,
          srcport: 81,
          'interface-id': B,
          'flow-direction': 'egress',
          action: 'ACCEPT',
        }),
        4,
      )
    })

    await t.test('TCP rejected by the groups before the reload, accepted by the new rule after it', () => {
      const ssh = { protocol: 6, dstport: 22, 'interface-id': B, 'flow-direction': 'ingress' }
      const rejected = select(records, { ...ssh, action: 'REJECT' })
      assert.ok(rejected.length >= 1)
      assert.equal(rejected[0]?.['reject-reason-detail'], 'no-matching-rule')
      // Observe mode does not block: b's SYN-ACK opened the first connection on b's egress
      // (sgr-server-out), which then accepts the rest of it. The connection after SIGHUP is new.
      const first = new Set(rejected.map((r) => r.srcport))
      const first2 = select(records, { ...ssh, action: 'ACCEPT' }).filter((r) => first.has(r.srcport))
      assert.ok(first2.every((r) => r['rule-id'] === 'sgr-server-out'))
      const accepted = select(records, { ...ssh, action: 'ACCEPT' }).filter((r) => !first.has(r.srcport))
      assert.ok(accepted.length >= 1, 'the connection after SIGHUP')
      assert.ok(accepted.every((r) => r['rule-id'] === 'sgr-ssh'))
      assert.equal(flags(records, { ...ssh, srcport: accepted[0]?.srcport }), 3)
    })

    await t.test('UDP request and response: one rule for both directions', () => {
      const q = select(records, {
        protocol: 17,
        dstport: 53,
        'interface-id': B,
        'flow-direction': 'ingress',
        action: 'ACCEPT',
      })
      const r = select(records, {
        protocol: 17,
        srcport: 53,
        'interface-id': B,
        'flow-direction': 'egress',
        action: 'ACCEPT',
      })
      assert.equal(q[0]?.['rule-id'], 'sgr-dns')
      assert.equal(r[0]?.['rule-id'], 'sgr-dns')
      assert.equal(
        q.reduce((n, x) => n + Number(x.packets), 0),
        1,
      )
    })

    await t.test('port scan: one rejected SYN per port, each answered by RST', () => {
      const scan = select(records, {
        protocol: 6,
        'interface-id': B,
        'flow-direction': 'ingress',
        action: 'REJECT',
      }).filter((r) => Number(r.dstport) >= 1000 && Number(r.dstport) <= 1019)
      assert.equal(new Set(scan.map((r) => r.dstport)).size, 20)
      for (const r of scan) assert.equal(r['tcp-flags'], 2)
    })

    await t.test('the idle instance has NODATA records only, one per window', () => {
      const c = records.filter((r) => r['interface-id'] === 'eni-c')
      assert.ok(c.length >= 2)
      assert.ok(c.every((r) => r['log-status'] === 'NODATA'))
      assert.equal(new Set(c.map((r) => r.start)).size, c.length)
    })
  } finally {
    if (daemon !== null && daemon.exitCode === null) daemon.kill('SIGKILL')
    lab.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
}
