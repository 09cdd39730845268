import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import { registerDatastoreMetrics } from './datastore-metrics.js'

test('flowlog_datastore_up follows the store’s health at each scrape', async () => {
  const registry = new Registry()
  let ok = true
  registerDatastoreMetrics(registry, {
    description: 'etcd://10.0.0.5:2379/flowlog/',
    health: () => (ok ? { ok, reason: null } : { ok, reason: 'unreachable' }),
  })
  assert.match(
    await registry.metrics(),
    /^flowlog_datastore_up\{datastore="etcd:\/\/10.0.0.5:2379\/flowlog\/"\} 1$/m,
  )
  ok = false
  assert.match(
    await registry.metrics(),
    /^flowlog_datastore_up\{datastore="etcd:\/\/10.0.0.5:2379\/flowlog\/"\} 0$/m,
  )
})
