import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { analysisAdapter } from './analysis-adapter.js'
import { ANALYSIS_OPENAPI } from './analysis-openapi.js'
import { FlowsCache } from './flows-cache.js'

describe('the analysis part of the OpenAPI document', () => {
  it('is joined into docs/openapi.json as it stands here (node scripts/join-openapi.js)', () => {
    const doc = JSON.parse(readFileSync(new URL('../../../../docs/openapi.json', import.meta.url), 'utf8'))
    const part = JSON.parse(JSON.stringify(ANALYSIS_OPENAPI)) as typeof doc
    const analysisPaths = Object.fromEntries(
      Object.entries(doc.paths as Record<string, unknown>).filter(([p]) =>
        p.startsWith('/v2.0/flowlog-analysis/'),
      ),
    )
    assert.deepEqual(analysisPaths, part.paths)
    for (const [name, schema] of Object.entries(part.components.schemas))
      assert.deepEqual(doc.components.schemas[name], schema, name)
    assert.ok(doc.components.securitySchemes.AuthToken, 'the AuthToken scheme the routes name')
  })

  it('documents exactly the routes the adapter answers, with their methods', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-openapi-'))
    const flows = new FlowsCache([dir])
    const adapter = analysisAdapter({ flows, network: async () => null, token: null })
    try {
      for (const [path, operations] of Object.entries(ANALYSIS_OPENAPI.paths)) {
        for (const method of Object.keys(operations)) {
          assert.ok(adapter.handles({ method: method.toUpperCase(), path, headers: {} }), path)
          const answer = await adapter.handle({
            method: method.toUpperCase(),
            path,
            query: new URLSearchParams(),
            headers: {},
            body: Buffer.from('[]'),
            remoteAddress: '127.0.0.1',
          })
          // Audit and what-if need a network (400 names it), delivery a control plane (404 says so).
          if (path.endsWith('/delivery')) assert.match(String(answer.body), /no control plane/)
          else
            assert.ok(answer.status === 200 || answer.status === 400, `${method} ${path}: ${answer.status}`)
        }
      }
      const unknown = await adapter.handle({
        method: 'GET',
        path: '/v2.0/flowlog-analysis/nothing',
        query: new URLSearchParams(),
        headers: {},
        body: Buffer.alloc(0),
        remoteAddress: '127.0.0.1',
      })
      assert.equal(unknown.status, 404)
    } finally {
      flows.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
