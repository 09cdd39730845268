import { ControlError } from '../control/control-error.js'
import type { Store, StoreKind } from './store.js'

/**
 * `flowlog datastore copy` (docs/fleet.md, "Moving a host into a fleet"): every item of the
 * control state from one store to another, e.g. a single host's SQLite state into the fleet's
 * etcd. The topology is not copied: in a fleet each agent publishes its own from its config.
 */
export const COPIED_KINDS: readonly StoreKind[] = [
  'security-group',
  'flow-log',
  'attachment',
  'client-token',
  'status',
]

/**
 * etcd refuses a transaction of more than 128 operations or 1.5 MiB (its defaults), so a large
 * state goes over in several; the copy is then not one atomic step, but it writes the same items
 * again when run again.
 */
const BATCH_ITEMS = 100
const BATCH_BYTES = 1024 * 1024

export interface CopyResult {
  /** Items copied, by kind (every kind of COPIED_KINDS, 0 when none). */
  copied: Record<string, number>
  /** Items of the destination that the copy replaced (same kind and id), with --force. */
  replaced: number
}

/**
 * Copies the state. A destination that already holds control state is refused (its items are
 * listed by kind) unless `force`, which writes the source's items over the destination's of the
 * same id and keeps the others. `dryRun` reads both and reports, writing nothing.
 */
export async function copyState(
  from: Store,
  to: Store,
  options: { force?: boolean; dryRun?: boolean } = {},
): Promise<CopyResult> {
  const items = await from.read(async (r) => {
    const all: Array<{ kind: StoreKind; id: string; value: unknown }> = []
    for (const kind of COPIED_KINDS) for (const i of await r.list(kind)) all.push({ kind, ...i })
    return all
  })
  const existing = await to.transact(async (tx) => {
    const found = new Map<StoreKind, Set<string>>()
    for (const kind of COPIED_KINDS) found.set(kind, new Set((await tx.list(kind)).map((i) => i.id)))
    return found
  })
  const present = [...existing].filter(([, ids]) => ids.size > 0)
  if (present.length > 0 && options.force !== true) {
    const what = present.map(([kind, ids]) => `${ids.size} ${kind}`).join(', ')
    throw new ControlError(
      'Conflict',
      `${to.description} already holds control state (${what}); copy into an empty datastore, or give --force to write over the items of the same ids`,
    )
  }
  const copied: Record<string, number> = Object.fromEntries(COPIED_KINDS.map((k) => [k, 0]))
  let replaced = 0
  for (const item of items) {
    copied[item.kind] = (copied[item.kind] ?? 0) + 1
    if (existing.get(item.kind)?.has(item.id) === true) replaced += 1
  }
  if (options.dryRun === true) return { copied, replaced }

  let batch: typeof items = []
  let bytes = 0
  const flush = async () => {
    const writes = batch
    batch = []
    bytes = 0
    if (writes.length > 0)
      await to.transact(async (tx) => {
        for (const w of writes) tx.put(w.kind, w.id, w.value)
      })
  }
  for (const item of items) {
    const size = JSON.stringify(item.value).length + item.id.length + 64
    if (batch.length >= BATCH_ITEMS || (batch.length > 0 && bytes + size > BATCH_BYTES)) await flush()
    batch.push(item)
    bytes += size
  }
  await flush()
  return { copied, replaced }
}
