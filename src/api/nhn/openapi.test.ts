import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { openTestControl, type TestControl } from '../../control/test-kit.js'
import type { ApiRequest } from '../api-handler.js'
import { NHN_ROUTES, NhnApiAdapter, PORT_FILTERS } from './nhn-adapter.js'
import { CREATE_KEYS, LOGGER_FILTERS, UPDATE_KEYS } from './nhn-logger.js'
import { openApiResponse, openApiText } from './openapi.js'

/** The OpenAPI document against the adapter: every route documented, every documented route answered. */
interface Operation {
  parameters?: Array<{ name: string; in: string }>
  responses: Record<string, unknown>
}
interface Schema {
  properties: Record<string, unknown>
  required?: string[]
}
interface OpenApi {
  openapi: string
  paths: Record<string, Record<string, Operation | unknown>>
  components: {
    schemas: Record<string, Schema>
    securitySchemes: Record<string, { name: string; in: string }>
  }
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options']
const TOKEN = 'openapi-test-token'
const doc = JSON.parse(openApiText()) as OpenApi

/** The NHN API's operations (the console's analysis routes have their own test: analysis-openapi.test.ts). */
function operations(): Array<{ method: string; path: string; op: Operation }> {
  const nhn = Object.entries(doc.paths).filter(([path]) => !path.startsWith('/v2.0/flowlog-analysis/'))
  return nhn.flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ method: method.toUpperCase(), path, op: op as Operation })),
  )
}

describe('the OpenAPI document of the NHN API', () => {
  let control: TestControl
  let nhn: NhnApiAdapter
  before(async () => {
    control = await openTestControl()
    nhn = new NhnApiAdapter({ control: control.service, token: TOKEN })
  })
  after(() => control.close())

  const send = async (method: string, path: string, body?: unknown) => {
    const [pathname = '', query = ''] = path.split('?')
    const request: ApiRequest = {
      method,
      path: pathname,
      query: new URLSearchParams(query),
      headers: { 'x-auth-token': TOKEN },
      body: Buffer.from(body === undefined ? '' : JSON.stringify(body)),
      remoteAddress: '127.0.0.1',
    }
    const answer = await nhn.handle(request)
    const text = answer.body.toString()
    return { status: answer.status, json: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> }
  }

  test('is OpenAPI 3, served as JSON, with the X-Auth-Token scheme', () => {
    assert.match(doc.openapi, /^3\./)
    assert.equal(doc.components.securitySchemes.AuthToken?.name, 'X-Auth-Token')
    const served = openApiResponse()
    assert.equal(served.status, 200)
    assert.deepEqual(JSON.parse(served.body.toString()), doc)
  })

  test('documents exactly the routes the adapter answers', () => {
    const documented = operations()
      .map((o) => `${o.method} ${o.path}`)
      .sort()
    assert.deepEqual(documented, NHN_ROUTES.map((r) => `${r.method} ${r.path}`).sort())
  })

  test('documents exactly the filters, create keys and update keys the adapter takes', () => {
    const filters = (path: string) =>
      ((doc.paths[path]?.get as Operation | undefined)?.parameters ?? [])
        .filter((p) => p.in === 'query')
        .map((p) => p.name)
        .sort()
    assert.deepEqual(filters('/v2.0/flowlog-loggers'), Object.keys(LOGGER_FILTERS).sort())
    assert.deepEqual(filters('/v2.0/flowlog-logging-ports'), Object.keys(PORT_FILTERS).sort())
    assert.deepEqual(
      Object.keys(doc.components.schemas.FlowlogLoggerCreate?.properties ?? {}).sort(),
      [...CREATE_KEYS].sort(),
    )
    assert.deepEqual(
      Object.keys(doc.components.schemas.FlowlogLoggerUpdate?.properties ?? {}).sort(),
      [...UPDATE_KEYS].sort(),
    )
  })

  test('every documented operation is answered with a documented status and shape', async () => {
    const schema = (name: string) => doc.components.schemas[name]?.required?.slice().sort()
    const create = await send('POST', '/v2.0/flowlog-loggers', {
      flowlog_logger: { name: 'doc', resource_id: 'eni-db1', storage_url: 's3://openapi-test/doc' },
    })
    const logger = create.json.flowlog_logger as Record<string, unknown>
    const id = String(logger.id)
    assert.deepEqual(Object.keys(logger).sort(), schema('FlowlogLogger'))
    const port = `${id}.eni-db1`
    const concrete = (path: string) =>
      path.replace('flowlog-loggers/{id}', `flowlog-loggers/${id}`).replace('ports/{id}', `ports/${port}`)
    const bodies: Record<string, unknown> = {
      POST: {
        flowlog_logger: { name: 'doc2', resource_id: 'eni-b1', storage_url: 's3://openapi-test/doc2' },
      },
      PUT: { flowlog_logger: { description: 'documented' } },
    }
    // DELETE last: the others need the logger.
    const ops = operations().sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'))
    for (const { method, path, op } of ops) {
      const answer = await send(method, concrete(path), bodies[method])
      assert.ok(
        String(answer.status) in op.responses,
        `${method} ${path}: ${answer.status} is not documented`,
      )
      assert.ok(answer.status < 300, `${method} ${path}: ${answer.status} ${JSON.stringify(answer.json)}`)
    }
    const ports = await send('GET', '/v2.0/flowlog-logging-ports')
    const first = (ports.json.flowlog_logging_ports as Record<string, unknown>[])[0] ?? {}
    assert.deepEqual(Object.keys(first).sort(), schema('FlowlogLoggingPort'))
    // Every documented filter is taken (200), an undocumented one refused (400).
    for (const name of Object.keys(LOGGER_FILTERS))
      assert.equal((await send('GET', `/v2.0/flowlog-loggers?${name}=x`)).status, 200, name)
    const refused = await send('GET', '/v2.0/flowlog-loggers?undocumented=x')
    assert.equal(refused.status, 400)
    assert.deepEqual(Object.keys(refused.json), ['NeutronError'])
  })
})
