import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  CLIENT_JS,
  collectOutput,
  createLab,
  type Lab,
  requireLab,
  SERVER_JS,
  waitFor,
} from '../support/netns.js'
import {
  filesWritten,
  http,
  type Row,
  type RunningService,
  readCsvRecords,
  serviceFiles,
  sleep,
  startService,
  TOKEN,
} from '../support/service-lab.js'

/** The time (unix seconds) of the daemon's last change that added or removed the flow log `id`. */
function appliedAt(service: RunningService, what: 'added' | 'removed', id: string): Promise<number> {
  return waitFor(`the daemon to apply the change of ${id}`, () => {
    const change = service
      .logs()
      .filter((l) => String(l.msg).startsWith('applied:') && (l[what] as string[]).includes(id))
      .at(-1)
    return change === undefined ? undefined : Date.parse(String(change.time)) / 1000
  })
}

/**
 * flowlog as NHN Cloud's flow-log service of a namespace network, driven with plain HTTP (what
 * curl does): the config seeds a logger (2 s windows, NHN CSV), which records real traffic;
 * pausing it through the API (admin_state_up false) writes its open window once and then nothing,
 * resuming starts it again at its next window; a logger created through the API covers its
 * ports and runs at once, and stops when deleted; bad requests change nothing.
 */
test('flowlog run as an NHN flow-log service: loggers paused, resumed, created and deleted live (HTTP)', async (t) => {
  if (!requireLab(t, { libpcap: false })) return
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-svc-nhn-'))
  const lab: Lab = createLab('n', ['a', 'b'])
  let service: RunningService | null = null
  try {
    const [a, b] = lab.instances as [Lab['instances'][0], Lab['instances'][0]]
    const out = join(dir, 'nhn')
    const files = serviceFiles(
      lab,
      dir,
      `flowLogs:
  - id: fl-nhn-seed
    resource: vpc-lab
    aggregationInterval: 2
    fileFormat: nhn-csv
    layout: nhn
    destination: file://${out}
    compression: none
  - id: fl-nhn-down
    resource: eni-a
    aggregationInterval: 2
    fileFormat: nhn-csv
    layout: nhn
    destination: s3://flowlog-unreachable
s3: { endpoint: "http://127.0.0.1:9", region: kr1, forcePathStyle: true }
`,
    )
    service = await startService(lab, files)
    const s = service
    const api = (path: string, options: Parameters<typeof http>[2] = {}) =>
      http(lab, `${s.url}${path}`, { ...options, headers: { 'x-auth-token': TOKEN, ...options.headers } })
    const server = lab.start(b.ns, [process.execPath, '-e', SERVER_JS, '80'])
    const serverOut = collectOutput(server)
    await waitFor('the server in b', () => (serverOut.stdout().includes('"80"') ? true : undefined))
    const connect = () => {
      const r = JSON.parse(lab.run(a.ns, [process.execPath, '-e', CLIENT_JS, `tcp:${b.address}:80`])) as Row
      assert.equal(r[`tcp:${b.address}:80`], 'ok')
    }
    const windows = () => filesWritten(s.logs(), 'fl-nhn-seed').map((f) => Number(f.windowStart))

    await t.test('the seeded logger is listed, and without the token nothing is', () => {
      assert.equal(http(lab, `${s.url}/v2.0/flowlog-loggers`).status, 401)
      const list = api('/v2.0/flowlog-loggers')
      assert.equal(list.status, 200, list.body)
      const loggers = list.json().flowlog_loggers as Row[]
      assert.deepEqual(
        loggers
          .filter((l) => l.id === 'fl-nhn-seed')
          .map((l) => [l.id, l.resource_type, l.resource_id, l.admin_state_up, l.status, l.log_format]),
        [['fl-nhn-seed', 'VPC', 'vpc-lab', true, 'ACTIVE', 'CSV']],
      )
    })

    connect()
    await waitFor('the seeded logger to record the connection', () =>
      readCsvRecords(out).some((r) => r.dst_port === 80 && r.filter === 'ACCEPT') ? true : undefined,
    )

    // Pause: the open window is written at once, then nothing while paused.
    const pause = api('/v2.0/flowlog-loggers/fl-nhn-seed', {
      method: 'PUT',
      body: { flowlog_logger: { admin_state_up: false } },
    })
    assert.equal(pause.status, 200, pause.body)
    // When the daemon applied it (a store watcher: just after the answer, or just before).
    const paused = await appliedAt(s, 'removed', 'fl-nhn-seed')
    assert.equal((pause.json().flowlog_logger as Row).status, 'INACTIVE')
    await sleep(1100)
    connect()
    await sleep(2 * 2000 + 1500)

    await t.test('a paused logger wrote its open window once, then nothing', () => {
      const w = windows()
      assert.equal(new Set(w).size, w.length, 'one file per window')
      assert.ok(
        w.every((x) => x <= paused),
        `no window after the pause (${paused}): ${w}`,
      )
      assert.deepEqual(
        readCsvRecords(out).filter(
          (r) => r.status === 'OK' && Number(r.timestamp_start) > Math.floor(paused),
        ),
        [],
        'the connection while paused is not recorded',
      )
    })

    const resume = api('/v2.0/flowlog-loggers/fl-nhn-seed', {
      method: 'PUT',
      body: { flowlog_logger: { admin_state_up: true } },
    })
    assert.equal(resume.status, 200, resume.body)
    const resumed = await appliedAt(s, 'added', 'fl-nhn-seed')
    assert.equal((resume.json().flowlog_logger as Row).status, 'ACTIVE')
    await sleep(2100)
    connect()
    const resumedRows = await waitFor('records after the resume', () => {
      const rows = readCsvRecords(out).filter(
        (r) => r.status === 'OK' && r.dst_port === 80 && Number(r.timestamp_start) > Math.floor(resumed),
      )
      return rows.length > 0 ? rows : undefined
    })

    await t.test('a resumed logger starts again at its next window, with nothing of the pause', () => {
      assert.ok(resumedRows.length > 0)
      const w = windows()
      assert.deepEqual(
        w.filter((x) => x > paused && x < resumed),
        [],
        'no window between the pause and the resume',
      )
      assert.ok(
        w.filter((x) => x > paused).every((x) => x >= Math.floor(resumed)),
        'the first window after the resume starts after it',
      )
    })

    await t.test('a bad request is 4xx and changes nothing', () => {
      const before = api('/v2.0/flowlog-loggers').body
      const immutable = api('/v2.0/flowlog-loggers/fl-nhn-seed', {
        method: 'PUT',
        body: { flowlog_logger: { resource_id: 'eni-a' } },
      })
      assert.equal(immutable.status, 400, immutable.body)
      const malformed = api('/v2.0/flowlog-loggers', { method: 'POST', headers: {}, body: 'not an object' })
      assert.equal(malformed.status, 400, malformed.body)
      const unknown = api('/v2.0/flowlog-loggers', {
        method: 'POST',
        body: {
          flowlog_logger: {
            name: 'x',
            resource_type: 'PORT',
            resource_id: 'eni-none',
            storage_url: `file://${join(dir, 'none')}`,
          },
        },
      })
      assert.ok(unknown.status >= 400 && unknown.status < 500, unknown.body)
      assert.equal(api('/v2.0/flowlog-loggers').body, before)
      assert.ok(!s.logs().some((l) => l.msg === 'api request failed'), 'never a 5xx')
    })

    await t.test(
      'a logger created through the API runs at once on its ports; deleted, it stops',
      async () => {
        const created = api('/v2.0/flowlog-loggers', {
          method: 'POST',
          body: {
            flowlog_logger: {
              name: 'port-b',
              resource_type: 'PORT',
              resource_id: 'eni-b',
              aggregation_interval: 1,
              storage_type: 'OBS',
              storage_url: `file://${join(dir, 'port-b')}`,
            },
          },
        })
        assert.equal(created.status, 201, created.body)
        const id = (created.json().flowlog_logger as Row).id as string
        const ports = api(`/v2.0/flowlog-logging-ports?logger_id=${id}`).json().flowlog_logging_ports as Row[]
        assert.deepEqual(
          ports.map((p) => p.port_id),
          ['eni-b'],
        )
        const running = () => (api('/status').json().flowLogs as Row[]).map((f) => f.id)
        await waitFor('the daemon to run it', () => (running().includes(id) ? true : undefined))
        assert.equal(api(`/v2.0/flowlog-loggers/${id}`, { method: 'DELETE' }).status, 204)
        await waitFor('the daemon to stop it', () => (running().includes(id) ? undefined : true))
        assert.equal(api(`/v2.0/flowlog-loggers/${id}`).status, 404)
        assert.deepEqual(running(), ['fl-nhn-down', 'fl-nhn-seed'])
      },
    )

    await t.test(
      'a destination that fails shows in the logger and in /status, from the real deliveries',
      async () => {
        const down = await waitFor('the failed delivery', () => {
          const logger = api('/v2.0/flowlog-loggers/fl-nhn-down').json().flowlog_logger as Row
          return logger.status === 'ERROR' ? logger : undefined
        })
        assert.equal(down.error_type, 'OBSServiceNotAvailableError')
        const status = api('/status').json()
        const delivery = (status.flowLogs as Row[]).find((f) => f.id === 'fl-nhn-down')?.delivery as Row
        assert.equal(delivery.status, 'FAILED')
        assert.ok(Number(delivery.spooled) > 0, 'its files wait in the spool')
        assert.match(String(delivery.error), /\S/)
        const seed = (status.flowLogs as Row[]).find((f) => f.id === 'fl-nhn-seed')?.delivery as Row
        assert.equal(seed.status, 'SUCCESS')
        assert.match(String((status.store as Row).description), /^sqlite:.*state\.db$/)
        assert.equal((status.store as Row).ok, true)
        assert.ok((status.lastApplied as Row).at, 'the last change applied')
        const metrics = api('/metrics').body
        assert.match(metrics, /^flowlog_flow_logs 2$/m)
        assert.match(metrics, /^flowlog_control_changes_total\{result="applied"\} [1-9]/m)
      },
    )

    await t.test('SIGHUP reloads the topology; a topology that would need a restart is refused', async () => {
      s.child.kill('SIGHUP')
      await waitFor('the reload', () =>
        s.logs().some((l) => String(l.msg).startsWith('config reloaded')) ? true : undefined,
      )
      writeFileSync(files.config, readFileSync(files.config, 'utf8').replace(a.address, '10.77.1.99'))
      s.child.kill('SIGHUP')
      const refused = await waitFor('the refusal', () =>
        s.logs().find((l) => String(l.msg).startsWith('config reload refused')),
      )
      assert.match(JSON.stringify(refused.problems), /interfaces changed/)
      assert.equal(api('/healthz').status, 200, 'the daemon goes on')
      connect()
    })

    assert.equal(await s.stop(), 0, s.stderr())
    service = null
  } finally {
    if (service !== null) await service.stop()
    lab.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
})
