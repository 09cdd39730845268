import type { Logger } from '../ops/logger.js'
import type { Datastore } from './datastore-url.js'
import { EtcdStore } from './etcd-store.js'
import { SqliteStore } from './sqlite-store.js'
import type { Store } from './store.js'

/**
 * Opens the store a datastore names. `create: false` is for readers (copy's source, exports): a
 * missing SQLite state is then ControlError('NotFound') instead of a new empty one; etcd has no
 * such difference (an empty prefix is an empty state).
 */
export async function openStore(
  datastore: Datastore,
  options: { create?: boolean; logger?: Logger | undefined } = {},
): Promise<Store> {
  if (datastore.type === 'sqlite') return SqliteStore.open(datastore.dir, { create: options.create ?? true })
  return EtcdStore.open({ endpoints: datastore.endpoints, prefix: datastore.prefix, logger: options.logger })
}
