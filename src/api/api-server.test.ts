import assert from 'node:assert/strict'
import { request } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { createLogger } from '../ops/logger.js'
import type { ApiAdapter, ApiRequest } from './api-handler.js'
import { type ApiServer, startApiServer } from './api-server.js'

const lines: string[] = []
const logger = createLogger({ destination: { write: (line: string) => lines.push(line) } })
const seen: ApiRequest[] = []
const TOKEN = 'token-0123456789abcdef'

/** An adapter that answers with what it got, as the EC2 Query adapter would for POST /. */
const echo: ApiAdapter = {
  name: 'echo',
  handles: (r) => r.method === 'POST' && r.path === '/',
  async handle(r) {
    seen.push(r)
    return {
      status: 200,
      headers: { 'content-type': 'text/plain' },
      body: `${r.body.length}:${r.query.get('a')}`,
    }
  },
}
const rest: ApiAdapter = {
  name: 'rest',
  handles: (r) => r.path.startsWith('/v2.0/'),
  async handle(r) {
    if (r.path === '/v2.0/boom') throw new Error('secret detail /var/lib/flowlog/state.db')
    return { status: 201, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"ok":true}') }
  },
}

let server: ApiServer
let reloads = 0
before(async () => {
  server = await startApiServer(
    { host: '127.0.0.1', port: 0, token: TOKEN, adapters: [echo, rest], bodyLimit: 1000, logger },
    {
      metrics: async () => 'flowlog_up 1\n',
      metricsContentType: 'text/plain; version=0.0.4',
      status: () => ({ mode: 'observe' }),
      reload: async () => {
        reloads++
        return { ok: true, message: 'reloaded' }
      },
      openapi: () => '{"openapi":"3.0.3"}',
    },
  )
})
after(() => server.close())

function call(
  method: string,
  path: string,
  body = '',
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString(),
          headers: res.headers,
        }),
      )
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('the API server', () => {
  test('routes to the first adapter that handles a request, with its body and query', async () => {
    const r = await call('POST', '/?a=1', 'Action=DescribeFlowLogs', {
      'content-type': 'application/x-www-form-urlencoded',
    })
    assert.deepEqual([r.status, r.body], [200, '23:1'])
    assert.equal(seen.at(-1)?.headers['content-type'], 'application/x-www-form-urlencoded')
    assert.equal(seen.at(-1)?.remoteAddress, '127.0.0.1')
    const nhn = await call('GET', '/v2.0/flowlog-loggers')
    assert.deepEqual([nhn.status, nhn.body], [201, '{"ok":true}'])
  })

  test('keeps its own routes: metrics, status, healthz, openapi.json', async () => {
    assert.equal((await call('GET', '/metrics')).body, 'flowlog_up 1\n')
    assert.deepEqual(JSON.parse((await call('GET', '/status')).body), { mode: 'observe' })
    assert.equal((await call('GET', '/healthz')).status, 200)
    const doc = await call('GET', '/openapi.json')
    assert.deepEqual(
      [doc.status, doc.headers['content-type'], doc.body],
      [200, 'application/json', '{"openapi":"3.0.3"}'],
    )
  })

  test('POST /reload needs the bearer token', async () => {
    assert.equal((await call('POST', '/reload')).status, 401)
    assert.equal(
      (await call('POST', '/reload', '', { authorization: 'Bearer wrong-token-0123456789' })).status,
      401,
    )
    assert.equal((await call('GET', '/reload', '', { authorization: `Bearer ${TOKEN}` })).status, 405)
    assert.equal(reloads, 0)
    assert.equal((await call('POST', '/reload', '', { authorization: `Bearer ${TOKEN}` })).status, 200)
    assert.equal(reloads, 1)
  })

  test('a body over the limit is 413 and never reaches the adapter', async () => {
    const before = seen.length
    const r = await call('POST', '/', 'x'.repeat(1001))
    assert.equal(r.status, 413)
    assert.match(r.body, /larger than 1000 bytes/)
    assert.equal(seen.length, before)
    assert.equal((await call('POST', '/', 'x'.repeat(1000))).status, 200, 'the limit itself is fine')
  })

  test('an adapter that throws is a 500 with no detail; the log has it', async () => {
    const r = await call('GET', '/v2.0/boom')
    assert.equal(r.status, 500)
    assert.deepEqual(JSON.parse(r.body), { error: 'internal error' })
    assert.ok(lines.some((l) => l.includes('secret detail') && l.includes('api request failed')))
  })

  test('anything else is 404', async () => {
    const r = await call('GET', '/nothing')
    assert.equal(r.status, 404)
    assert.equal((await call('GET', '/')).status, 404, 'GET / is not the EC2 adapter')
  })
})
