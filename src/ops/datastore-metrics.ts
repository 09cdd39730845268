import { Gauge, type Registry } from 'prom-client'
import type { Store } from '../store/store.js'

/**
 * `flowlog_datastore_up{datastore="etcd://…/flowlog/"}`: 1 while the store takes writes, 0 while
 * it cannot (etcd unreachable: the daemon runs on with the last state it had, docs/fleet.md).
 * Read from store.health() at each scrape.
 */
export function registerDatastoreMetrics(
  registry: Registry,
  store: Pick<Store, 'description' | 'health'>,
): void {
  new Gauge({
    name: 'flowlog_datastore_up',
    help: 'Whether the control-plane datastore takes writes (1) or is unreachable (0); the daemon keeps running on its last state',
    labelNames: ['datastore'],
    registers: [registry],
    collect() {
      this.set({ datastore: store.description }, store.health().ok ? 1 : 0)
    },
  })
}
