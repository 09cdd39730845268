import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { analysisAdapter } from '../../src/api/analysis/analysis-adapter.js'
import { FlowsCache } from '../../src/api/analysis/flows-cache.js'
import type { ApiResponse } from '../../src/api/api-handler.js'
import { loadConfig } from '../../src/config/load-config.js'
import { runFlowlog } from '../support/cli.js'
import { type ConsoleData, replayConsoleData } from '../support/console-data.js'

/**
 * The console's analysis endpoints, in process, over the quick start's capture replayed into real
 * flow-log files; each answer is checked against what `flowlog sql` / `query` / `detect` say about
 * the same files.
 */
describe('analysis endpoints', () => {
  let data: ConsoleData
  let flows: FlowsCache
  let call: (path: string, query?: Record<string, string>, body?: string) => Promise<ApiResponse>
  const sql = (q: string) => {
    const r = runFlowlog(['sql', '--no-summary', '-o', 'json', q, data.logs])
    assert.equal(r.code, 0, r.stderr)
    return JSON.parse(r.stdout) as Record<string, number | string>[]
  }
  // biome-ignore lint/suspicious/noExplicitAny: the answers are read the way a client reads JSON
  const body = (r: ApiResponse) => JSON.parse(String(r.body)) as Record<string, any>

  before(() => {
    data = replayConsoleData()
    flows = new FlowsCache([data.logs])
    const network = loadConfig(data.config)
    const adapter = analysisAdapter({ flows, network: async () => network, token: null })
    call = (path, query = {}, text = '') =>
      adapter.handle({
        method: text === '' ? 'GET' : 'POST',
        path: `/v2.0/flowlog-analysis/${path}`,
        query: new URLSearchParams(query),
        headers: {},
        body: Buffer.from(text),
        remoteAddress: '127.0.0.1',
      })
  })
  after(() => {
    flows.close()
    rmSync(data.dir, { recursive: true, force: true })
  })

  it('traffic over time adds up to the records, packets and bytes of the files', async () => {
    const r = await call('traffic', { step: '60' })
    assert.equal(r.status, 200)
    const b = body(r)
    const [totals] = sql(
      `SELECT count(*) AS n, sum(packets) FILTER (WHERE action = 'ACCEPT') AS ap, sum(bytes) FILTER (WHERE action = 'REJECT') AS rb FROM flows`,
    )
    assert.equal(b.coverage.records, totals!.n)
    assert.equal(b.step, 60)
    const sum = (k: string) => b.series.reduce((s: number, p: Record<string, number>) => s + p[k]!, 0)
    assert.equal(sum('accepted_packets'), totals!.ap)
    assert.equal(sum('rejected_bytes'), totals!.rb)
    assert.ok(b.series.length >= 3, 'the 2.5-minute capture spans at least 3 one-minute intervals')
  })

  it('traffic splits by VPC and by instance through the network when the format has neither', async () => {
    const byVpc = body(await call('traffic', { step: '60', by: 'vpc' }))
    assert.deepEqual([...new Set(byVpc.series.map((p: Record<string, unknown>) => p.key))], ['vpc-0a1'])
    const byInstance = body(await call('traffic', { step: '60', by: 'instance' }))
    const packets = (key: string) =>
      byInstance.series
        .filter((p: Record<string, unknown>) => p.key === key)
        .reduce((s: number, p: Record<string, number>) => s + p.accepted_packets! + p.rejected_packets!, 0)
    const [db] = sql(`SELECT sum(packets) AS p FROM flows WHERE interface_id = 'eni-db1'`)
    assert.equal(packets('i-db1'), db!.p)
    assert.equal((await call('traffic', { by: 'region' })).status, 400)
  })

  it('a time range and an interface narrow the records, and the answer says so', async () => {
    const b = body(await call('traffic', { since: '2024-06-01T09:01:00Z', interface: 'eni-db1' }))
    const [n] = sql(`SELECT count(*) AS n FROM flows WHERE interface_id = 'eni-db1' AND "end" >= 1717232460`)
    assert.equal(b.coverage.records, n!.n)
    assert.equal(b.coverage.since, 1717232460)
    assert.deepEqual(b.coverage.place, { interface: 'eni-db1' })
    const vpc = body(await call('summary', { instance: 'i-db1' }))
    assert.equal(vpc.coverage.records, body(await call('summary', { interface: 'eni-db1' })).coverage.records)
    assert.ok(vpc.choices.vpc.includes('vpc-0a1'))
  })

  it('top rejected sources and destination ports', async () => {
    const b = body(await call('top', { by: 'srcaddr', filter: 'action = REJECT', metric: 'records' }))
    const expected = sql(
      `SELECT srcaddr, count(*) AS n FROM flows WHERE action = 'REJECT' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10`,
    )
    assert.deepEqual(
      b.items.map((i: Record<string, unknown>) => [i.key, i.value]),
      expected.map((e) => [e.srcaddr, e.n]),
    )
    const ports = body(await call('top', { by: 'dstport', filter: 'action = REJECT', limit: '3' }))
    assert.equal(ports.items.length, 3)
    assert.match(ports.items[0].key, /^tcp\/\d+$/)
  })

  it('who talks to whom', async () => {
    const b = body(await call('edges', { metric: 'bytes', limit: '5' }))
    const expected = sql(
      `SELECT srcaddr, dstaddr, sum(bytes) AS b FROM flows WHERE srcaddr IS NOT NULL GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 5`,
    )
    assert.deepEqual(
      b.edges.map((e: Record<string, unknown>) => [e.source, e.target, e.value]),
      expected.map((e) => [e.srcaddr, e.dstaddr, e.b]),
    )
  })

  it('the flow browser takes flowlog query filters, pages, and exports CSV', async () => {
    const filter = 'dstaddr = 10.0.1.10 and action = REJECT'
    const count = runFlowlog(['query', '--no-summary', '--count', '--where', filter, data.logs])
    const page = body(await call('flows', { filter, limit: '5', offset: '2' }))
    assert.equal(page.coverage.records, Number(count.stdout.trim()))
    assert.equal(page.records.length, 5)
    for (const r of page.records) {
      assert.equal(r.dstaddr, '10.0.1.10')
      assert.match(r.community_id, /^1:[A-Za-z0-9+/]+=*$/)
    }
    const csv = await call('flows.csv', { filter })
    assert.equal(csv.headers['content-type'], 'text/csv; charset=utf-8')
    const lines = String(csv.body).trim().split('\n')
    assert.match(lines[0]!, /^start,end,interface-id,/)
    assert.equal(lines.length - 1, Number(count.stdout.trim()))
    const bad = await call('flows', { filter: 'dstport = 99999999999999999999 and' })
    assert.equal(bad.status, 400)
    assert.match(body(bad).error.message, /filter/)
  })

  it('findings carry the evidence and the block as an exact rule change', async () => {
    const b = body(await call('findings'))
    const scan = b.findings.find((f: Record<string, unknown>) => f.detection === 'port-scan')
    assert.equal(scan.source, '198.51.100.66')
    assert.ok(scan.evidence.records > 0)
    assert.equal(scan.block.length, 1)
    const [change] = scan.block
    assert.equal(change.groupId, 'sg-web')
    assert.equal(change.revoke.id, 'sgr-web-ssh')
    assert.equal(change.authorize.length, 32)
    assert.ok(
      change.authorize.every((r: Record<string, unknown>) => r.protocol === 'tcp' && r.ports === '22'),
    )
    assert.ok(change.authorize.some((r: Record<string, unknown>) => r.peer === '198.51.100.67/32'))
  })

  it("audit counts each rule's hits, and what-if replays an edited group", async () => {
    const a = body(await call('audit'))
    const ssh = a.rules.find((r: Record<string, unknown>) => r.id === 'sgr-web-ssh')
    assert.equal(ssh.status, 'used')
    assert.ok(ssh.usage.records > 0)
    const groups = JSON.stringify([
      {
        id: 'sg-web',
        vpc: 'vpc-0a1',
        inbound: [
          { id: 'sgr-web-http', protocol: 'tcp', ports: '80', source: '0.0.0.0/0' },
          { id: 'sgr-web-https', protocol: 'tcp', ports: '443', source: '0.0.0.0/0' },
        ],
        outbound: [{ id: 'sgr-web-out', protocol: 'all', destination: '0.0.0.0/0' }],
      },
    ])
    const w = body(await call('what-if', {}, groups))
    assert.ok(w.acceptToReject > 0, 'closing SSH rejects the recorded SSH session')
    assert.ok(
      w.changes.every(
        (c: Record<string, unknown>) => c.dstport === 22 || c.srcport === 22 || c.protocol === 'icmp',
      ),
    )
  })

  it('with a token configured, nothing is shown without it', async () => {
    const network = loadConfig(data.config)
    const token = 'a-token-of-32-characters-0123456'
    const guarded = analysisAdapter({ flows, network: async () => network, token })
    const ask = (headers: Record<string, string>) =>
      guarded.handle({
        method: 'GET',
        path: '/v2.0/flowlog-analysis/flows',
        query: new URLSearchParams(),
        headers,
        body: Buffer.alloc(0),
        remoteAddress: '127.0.0.1',
      })
    assert.equal((await ask({})).status, 401)
    assert.equal((await ask({ 'x-auth-token': `${token}x` })).status, 401)
    assert.equal((await ask({ 'x-auth-token': token })).status, 200)
  })
})
