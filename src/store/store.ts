/**
 * The one store interface of the control plane (DESIGN 10), with an SQLite backend (one host,
 * `--state DIR`) and an etcd backend (a fleet, `--datastore etcd://…`). Values are JSON-able
 * objects kept under (kind, id). Every write is a transaction that commits only if nothing it read
 * has changed since (SQLite: one serialised writer; etcd: revision compares), so concurrent edits
 * never overwrite a half-read state. Watchers see every committed change, from this process or
 * (etcd) any other agent.
 */
export type StoreKind = 'flow-log' | 'security-group' | 'attachment' | 'client-token' | 'topology' | 'status'

export interface StoreReader {
  get<T>(kind: StoreKind, id: string): Promise<T | undefined>
  /** Every item of a kind, ordered by id. */
  list<T>(kind: StoreKind): Promise<Array<{ id: string; value: T }>>
}

export interface StoreTransaction extends StoreReader {
  put(kind: StoreKind, id: string, value: unknown): void
  delete(kind: StoreKind, id: string): void
}

export interface StoreChange {
  kind: StoreKind
  id: string
  /** The new value, or undefined when deleted. */
  value: unknown
}

export interface StoreHealth {
  ok: boolean
  /** Why not (etcd unreachable since …), or null. */
  reason: string | null
}

export interface Store {
  /** For logs and /status, without credentials: `sqlite:/var/lib/flowlog/state.db`, `etcd://…`. */
  readonly description: string
  /** A consistent snapshot read. */
  read<T>(fn: (reader: StoreReader) => Promise<T>): Promise<T>
  /**
   * Runs fn and commits its writes atomically if nothing it read changed meanwhile, else runs it
   * again (bounded). fn must have no effect but through the transaction. A store that cannot
   * write now (etcd unreachable) throws ControlError('ServiceUnavailable').
   */
  transact<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T>
  /** Called after every commit with what changed. Returns the unsubscribe function. */
  watch(listener: (changes: StoreChange[]) => void): () => void
  health(): StoreHealth
  close(): Promise<void>
}
