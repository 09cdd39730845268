import {
  Etcd3,
  GRPCCancelledError,
  GRPCDeadlineExceededError,
  GRPCGenericError,
  GRPCUnavailableError,
  type IKeyValue,
  type IOptions,
  type IWatchResponse,
  isRecoverableError,
  type Watcher,
} from 'etcd3'
import { ControlError } from '../control/control-error.js'
import type { Logger } from '../ops/logger.js'
import { EtcdKeys, prefixRangeEnd } from './etcd-keys.js'
import type { Store, StoreChange, StoreHealth, StoreKind, StoreReader, StoreTransaction } from './store.js'

/**
 * The fleet's store (`--datastore etcd://…`, DESIGN 10), as Calico's etcd datastore and Cilium's
 * kvstore keep their agents' shared state. Items live under `<prefix>v1/<kind>/<id>` as JSON
 * (etcd-keys.ts).
 *
 * - Reads are served from a mirror of the whole prefix that this store keeps current with an etcd
 *   watch: every agent answers from memory, and keeps answering with the last state it knew while
 *   etcd is unreachable. The mirror changes one etcd revision at a time, so a read sees one
 *   revision throughout.
 * - A transaction reads from etcd itself, every read at the revision of its first, and commits
 *   with compares on what it read: each key's mod revision (create revision 0 for a key read as
 *   absent), and for each listed kind "nothing in the range modified after that revision". A
 *   commit that loses to another agent's runs again on fresh reads (bounded), so no write is
 *   based on a half-read state. It returns once this store's mirror holds the commit, so the
 *   caller's next read sees it.
 * - The watch feeds the mirror and the listeners with every change, from any agent. After any
 *   disconnection the store re-reads the prefix and reports the differences as changes, so a
 *   change made meanwhile through another agent is never missed, even if etcd compacted it away.
 * - While etcd is unreachable, health() says since when and why, and transactions fail at once
 *   with ControlError('ServiceUnavailable') (HTTP 503). A probe every second notices the return.
 */
export interface EtcdStoreOptions {
  /** Client URLs of the members, `http://host:port`. */
  endpoints: readonly string[]
  /** Ends with `/`; default `/flowlog/`. */
  prefix: string
  logger?: Logger | undefined
  /** The deadline of each etcd call; default 2000 ms. */
  callTimeoutMs?: number | undefined
  /** How long open() tries to reach etcd; default 10 s. */
  openTimeoutMs?: number | undefined
}

interface Item {
  kind: StoreKind
  id: string
  value: unknown
  modRevision: number
}

/** One revision of the mirror: item key → item. Replaced, never changed, so readers hold a snapshot. */
type Mirror = ReadonlyMap<string, Item>

const MAX_ATTEMPTS = 8
const PROBE_INTERVAL_MS = 1000
const WATCH_RECONNECT_MS = 500
/** How long a commit waits for the watch to bring it into the mirror before returning anyway. */
const CATCH_UP_TIMEOUT_MS = 5000

type FaultHandling = NonNullable<IOptions['faultHandling']>
type HostPolicy = ReturnType<NonNullable<FaultHandling['host']>>
type WatchBackoff = NonNullable<FaultHandling['watchBackoff']>

/**
 * No circuit breaker per member: etcd3's default one refuses every call for five seconds after
 * three failures, which would hold an agent off a cluster that has just come back. The client's
 * global retry (three attempts, each on another member) still moves calls off a dead member.
 */
const passThrough: HostPolicy = {
  _altReturn: undefined as never,
  onSuccess: () => ({ dispose: () => undefined }),
  onFailure: () => ({ dispose: () => undefined }),
  // async: the client counts on a rejection, never a synchronous throw (it reports failures
  // through execute with a function that throws).
  execute: async (fn, signal) => fn({ signal: signal ?? new AbortController().signal }),
}

/** The watch stream reconnects every half second while etcd is away (etcd3's default backs off to 30 s). */
const steadyReconnect: WatchBackoff = {
  duration: WATCH_RECONNECT_MS,
  next: () => steadyReconnect,
}

export class EtcdStore implements Store {
  readonly description: string
  readonly #client: Etcd3
  readonly #keys: EtcdKeys
  readonly #root: Buffer
  readonly #rootEnd: Buffer
  readonly #log: Logger | undefined
  readonly #listeners = new Set<(changes: StoreChange[]) => void>()
  #mirror: Mirror = new Map()
  /** The etcd revision the mirror reflects. */
  #revision = 0
  /** Mirror updates (watch batches, resyncs) run one after another, in order. */
  #updates: Promise<void> = Promise.resolve()
  #revisionWaiters: Array<{ revision: number; resolve: () => void }> = []
  #watcher: Watcher | null = null
  /** Why etcd is unreachable, and since when; null while it answers. */
  #failure: { reason: string; since: Date } | null = null
  #probe: NodeJS.Timeout | null = null
  #closed = false

  private constructor(options: EtcdStoreOptions) {
    const timeout = options.callTimeoutMs ?? 2000
    this.#client = new Etcd3({
      hosts: [...options.endpoints],
      dialTimeout: timeout,
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
      faultHandling: { host: () => passThrough, watchBackoff: steadyReconnect },
      // Notice a dead connection (a member gone without closing it) within ~15 s: the watch
      // stream is always open, so pings go with a call, as etcd's server requires (every 5 s at
      // most, by default).
      grpcOptions: {
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
      },
    })
    this.#keys = new EtcdKeys(options.prefix)
    this.#root = Buffer.from(this.#keys.root)
    this.#rootEnd = prefixRangeEnd(this.#keys.root)
    this.#log = options.logger?.child({ datastore: 'etcd' })
    const hosts = options.endpoints.map((e) => e.replace(/^https?:\/\//, '')).join(',')
    this.description = `etcd://${hosts}${options.prefix}`
  }

  /**
   * Connects, reads the whole prefix into the mirror and starts watching. Throws
   * ControlError('ServiceUnavailable') when etcd does not answer within openTimeoutMs: an agent
   * without any state to start from should not start (systemd restarts it).
   */
  static async open(options: EtcdStoreOptions): Promise<EtcdStore> {
    const store = new EtcdStore(options)
    const deadline = Date.now() + (options.openTimeoutMs ?? 10_000)
    for (;;) {
      try {
        await store.#resync()
        break
      } catch (error) {
        if (Date.now() >= deadline) {
          await store.close()
          throw new ControlError('ServiceUnavailable', `${store.description}: ${reasonOf(error)}`, {
            cause: error,
          })
        }
        await delay(250)
      }
    }
    store.#startWatch()
    return store
  }

  read<T>(fn: (reader: StoreReader) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(closedError())
    return fn(mirrorReader(this.#mirror, this.#keys))
  }

  async transact<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw closedError()
      if (this.#failure !== null) throw this.#unavailable()
      const tx = new EtcdTransaction(this.#client, this.#keys)
      let result: T
      let committed: number | null
      try {
        result = await fn(tx)
        committed = await tx.commit()
      } catch (error) {
        // fn's own errors (ControlError for bad input, say) are the caller's.
        if (!(error instanceof EtcdCallFailed)) throw error
        if (isCompacted(error.cause) && attempt < MAX_ATTEMPTS) continue
        if (!isUnreachable(error.cause)) {
          throw new ControlError('InternalError', `etcd refused the transaction: ${reasonOf(error.cause)}`)
        }
        this.#markFailed(error.cause)
        throw this.#unavailable()
      }
      if (committed !== null) {
        if (committed > 0) await this.#caughtUp(committed)
        return result
      }
      if (attempt >= MAX_ATTEMPTS) {
        throw new ControlError(
          'ServiceUnavailable',
          'the state changed under every attempt to write it (other agents are writing the same items); try again',
        )
      }
      // Another agent committed first: give it a moment, then read again.
      await delay(5 * attempt + Math.random() * 20 * attempt)
    }
  }

  watch(listener: (changes: StoreChange[]) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  health(): StoreHealth {
    if (this.#closed) return { ok: false, reason: 'the store is closed' }
    if (this.#failure === null) return { ok: true, reason: null }
    return {
      ok: false,
      reason: `${this.description} unreachable since ${this.#failure.since.toISOString()}: ${this.#failure.reason}`,
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#probe !== null) clearTimeout(this.#probe)
    this.#probe = null
    const watcher = this.#watcher
    this.#watcher = null
    watcher?.removeAllListeners()
    // Cancelling needs etcd; when it is away the stream just goes with the client.
    await Promise.race([watcher?.cancel().catch(() => undefined), delay(500)])
    this.#client.close()
    this.#listeners.clear()
    for (const w of this.#revisionWaiters) w.resolve()
    this.#revisionWaiters = []
  }

  // ── the mirror ─────────────────────────────────────────────────────────────

  /** Queues a mirror update behind the others; its failure is its caller's, never the queue's. */
  #update<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.#updates.then(fn)
    this.#updates = run.then(
      () => undefined,
      () => undefined,
    )
    return run
  }

  /**
   * Reads the whole prefix (linearizable) and makes it the mirror, reporting every difference to
   * the mirror before as a change. Marks etcd healthy when it succeeds.
   */
  #resync(): Promise<void> {
    return this.#update(async () => {
      const response = await this.#client.kv.range({ key: this.#root, range_end: this.#rootEnd })
      const revision = Number(response.header.revision)
      const next = new Map<string, Item>()
      for (const kv of response.kvs) {
        const item = this.#item(kv)
        if (item !== null) next.set(kv.key.toString('utf8'), item)
      }
      const changes: StoreChange[] = []
      for (const [key, item] of next) {
        if (this.#mirror.get(key)?.modRevision !== item.modRevision) changes.push(changeOf(item))
      }
      for (const [key, item] of this.#mirror) {
        if (!next.has(key)) changes.push({ kind: item.kind, id: item.id, value: undefined })
      }
      const wasFailing = this.#failure
      this.#mirror = next
      this.#setRevision(Math.max(revision, this.#revision))
      this.#markHealthy()
      if (wasFailing !== null) {
        this.#log?.info(
          { revision, changes: changes.length, downSince: wasFailing.since.toISOString() },
          'etcd reachable again: resynced the state',
        )
      }
      this.#notify(changes)
    })
  }

  #startWatch(): void {
    if (this.#closed) return
    const watcher = this.#client
      .watch()
      .inRange({ start: this.#root, end: this.#rootEnd })
      .startRevision(String(this.#revision + 1))
      .watcher()
    this.#watcher = watcher
    let disconnected = false
    watcher.on('data', (response: IWatchResponse) => {
      void this.#update(() => this.#applyEvents(response)).catch((error: unknown) => {
        this.#log?.error({ err: error }, 'applying an etcd watch response failed')
      })
    })
    watcher.on('disconnected', (error: Error) => {
      disconnected = true
      // One member gone is no outage while the others answer: only a failed re-read is.
      void this.#resync().catch((e: unknown) => this.#markFailed(e ?? error))
    })
    watcher.on('connected', () => {
      // The watch resumes where it was, but a resync also covers changes compacted meanwhile.
      if (disconnected) void this.#resync().catch((error: unknown) => this.#markFailed(error))
      disconnected = false
    })
    watcher.on('error', (error: Error) => {
      // etcd cancelled the watch (its start revision was compacted, say): read everything again
      // and watch from there.
      this.#log?.warn({ err: error }, 'etcd cancelled the watch; resyncing')
      watcher.removeAllListeners()
      if (this.#watcher !== watcher) return
      this.#watcher = null
      void this.#resync()
        .then(() => this.#startWatch())
        .catch((e: unknown) => {
          this.#markFailed(e)
          this.#retryWatchLater()
        })
    })
  }

  #retryWatchLater(): void {
    setTimeout(() => {
      if (this.#closed || this.#watcher !== null) return
      void this.#resync()
        .then(() => this.#startWatch())
        .catch(() => this.#retryWatchLater())
    }, PROBE_INTERVAL_MS).unref()
  }

  /** One watch response: each revision's events become one batch of changes for the listeners. */
  #applyEvents(response: IWatchResponse): void {
    const batches = new Map<number, StoreChange[]>()
    let mirror: Map<string, Item> | null = null
    let highest = this.#revision
    for (const event of response.events) {
      const revision = Number(event.kv.mod_revision)
      // Already in the mirror: a resync read past it, or the watch replays after a reconnect.
      if (revision <= this.#revision) continue
      mirror ??= new Map(this.#mirror)
      const key = event.kv.key.toString('utf8')
      let change: StoreChange | null = null
      if (event.type === 'Delete') {
        const before = mirror.get(key)
        if (before !== undefined) {
          mirror.delete(key)
          change = { kind: before.kind, id: before.id, value: undefined }
        }
      } else {
        const item = this.#item(event.kv)
        if (item !== null) {
          mirror.set(key, item)
          change = changeOf(item)
        }
      }
      if (change !== null) batches.set(revision, [...(batches.get(revision) ?? []), change])
      highest = Math.max(highest, revision)
    }
    // A progress notice (no events) promises nothing at or below its revision is still to come.
    if (response.events.length === 0) highest = Math.max(highest, Number(response.header.revision))
    if (mirror !== null) this.#mirror = mirror
    this.#setRevision(highest)
    for (const [, changes] of [...batches].sort(([a], [b]) => a - b)) this.#notify(changes)
  }

  /** The item a key-value holds, or null (with a warning) for a key or value not of this layout. */
  #item(kv: IKeyValue): Item | null {
    const key = kv.key.toString('utf8')
    const parsed = this.#keys.parse(key)
    if (parsed === null) {
      this.#log?.warn({ key }, 'ignoring an etcd key under the prefix that is not of the v1 layout')
      return null
    }
    try {
      const value = JSON.parse(kv.value.toString('utf8')) as unknown
      return { ...parsed, value, modRevision: Number(kv.mod_revision) }
    } catch {
      this.#log?.warn({ key }, 'ignoring an etcd key whose value is not JSON')
      return null
    }
  }

  #setRevision(revision: number): void {
    this.#revision = revision
    const waiting = this.#revisionWaiters
    this.#revisionWaiters = waiting.filter((w) => w.revision > revision)
    for (const w of waiting) if (w.revision <= revision) w.resolve()
  }

  /** Resolves once the mirror reflects `revision`, or after CATCH_UP_TIMEOUT_MS. */
  #caughtUp(revision: number): Promise<void> {
    if (this.#revision >= revision || this.#closed) return Promise.resolve()
    return new Promise((resolve) => {
      const waiter = { revision, resolve: () => resolve() }
      this.#revisionWaiters.push(waiter)
      setTimeout(() => {
        this.#revisionWaiters = this.#revisionWaiters.filter((w) => w !== waiter)
        resolve()
      }, CATCH_UP_TIMEOUT_MS).unref()
    })
  }

  #notify(changes: StoreChange[]): void {
    if (changes.length === 0) return
    for (const listener of [...this.#listeners]) {
      // A listener's failure is its own; the change has happened and the others must hear of it.
      try {
        listener(changes.map((c) => ({ ...c, value: copy(c.value) })))
      } catch (error) {
        this.#log?.error({ err: error }, 'a store listener failed')
      }
    }
  }

  // ── health ─────────────────────────────────────────────────────────────────

  #markFailed(error: unknown): void {
    if (this.#closed) return
    if (this.#failure === null) {
      this.#failure = { reason: reasonOf(error), since: new Date() }
      this.#log?.warn(
        { reason: this.#failure.reason },
        'etcd unreachable: serving the last known state, refusing writes',
      )
    }
    this.#scheduleProbe()
  }

  #markHealthy(): void {
    this.#failure = null
    if (this.#probe !== null) clearTimeout(this.#probe)
    this.#probe = null
  }

  /** While etcd is unreachable, a resync every second: the first that succeeds ends the outage. */
  #scheduleProbe(): void {
    if (this.#probe !== null || this.#closed) return
    this.#probe = setTimeout(() => {
      this.#probe = null
      if (this.#failure === null || this.#closed) return
      void this.#resync().catch(() => this.#scheduleProbe())
    }, PROBE_INTERVAL_MS)
    this.#probe.unref()
  }

  #unavailable(): ControlError {
    return new ControlError(
      'ServiceUnavailable',
      `the state store cannot take writes now: ${this.health().reason}`,
    )
  }
}

/**
 * One attempt of a transaction: reads at one etcd revision (the first read's), writes buffered,
 * then one etcd transaction guarded by compares on everything read.
 */
class EtcdTransaction implements StoreTransaction {
  readonly #client: Etcd3
  readonly #keys: EtcdKeys
  #revision: number | null = null
  /** Key → mod revision read (0: absent). */
  readonly #readKeys = new Map<string, number>()
  readonly #listedKinds = new Set<StoreKind>()
  readonly #writes = new Map<string, StoreChange>()

  constructor(client: Etcd3, keys: EtcdKeys) {
    this.#client = client
    this.#keys = keys
  }

  async get<T>(kind: StoreKind, id: string): Promise<T | undefined> {
    const key = this.#keys.key(kind, id)
    const written = this.#writes.get(key)
    if (written !== undefined) return copy(written.value) as T | undefined
    const kvs = await this.#range(Buffer.from(key), undefined)
    const kv = kvs[0]
    this.#readKeys.set(key, kv === undefined ? 0 : Number(kv.mod_revision))
    return kv === undefined ? undefined : (JSON.parse(kv.value.toString('utf8')) as T)
  }

  async list<T>(kind: StoreKind): Promise<Array<{ id: string; value: T }>> {
    const prefix = this.#keys.kindPrefix(kind)
    const kvs = await this.#range(Buffer.from(prefix), prefixRangeEnd(prefix))
    this.#listedKinds.add(kind)
    const items = new Map<string, T>()
    for (const kv of kvs) {
      const key = kv.key.toString('utf8')
      this.#readKeys.set(key, Number(kv.mod_revision))
      const parsed = this.#keys.parse(key)
      if (parsed !== null) items.set(parsed.id, JSON.parse(kv.value.toString('utf8')) as T)
    }
    for (const w of this.#writes.values()) {
      if (w.kind !== kind) continue
      if (w.value === undefined) items.delete(w.id)
      else items.set(w.id, copy(w.value) as T)
    }
    return [...items].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, value]) => ({ id, value }))
  }

  put(kind: StoreKind, id: string, value: unknown): void {
    // A copy now, so a caller changing its object afterwards cannot change the commit.
    this.#writes.set(this.#keys.key(kind, id), { kind, id, value: copy(value) })
  }

  delete(kind: StoreKind, id: string): void {
    this.#writes.set(this.#keys.key(kind, id), { kind, id, value: undefined })
  }

  /**
   * Commits the writes if nothing read changed: the revision it committed at, 0 when there was
   * nothing to write, null when another commit got there first.
   */
  async commit(): Promise<number | null> {
    if (this.#writes.size === 0) return 0
    const compare: NonNullable<Parameters<Etcd3['kv']['txn']>[0]['compare']> = []
    for (const [key, modRevision] of this.#readKeys) {
      compare.push(
        modRevision === 0
          ? { key: Buffer.from(key), target: 'Create', result: 'Equal', create_revision: 0 }
          : { key: Buffer.from(key), target: 'Mod', result: 'Equal', mod_revision: modRevision },
      )
    }
    // A listed kind must have gained no item and changed none since the read (an item deleted
    // since fails its own compare above).
    for (const kind of this.#listedKinds) {
      const prefix = this.#keys.kindPrefix(kind)
      compare.push({
        key: Buffer.from(prefix),
        range_end: prefixRangeEnd(prefix),
        target: 'Mod',
        result: 'Less',
        mod_revision: (this.#revision ?? 0) + 1,
      })
    }
    const success = [...this.#writes].map(([key, w]) =>
      w.value === undefined
        ? { request_delete_range: { key: Buffer.from(key) } }
        : { request_put: { key: Buffer.from(key), value: Buffer.from(JSON.stringify(w.value)) } },
    )
    const response = await etcdCall(() => this.#client.kv.txn({ compare, success, failure: [] }))
    return response.succeeded ? Number(response.header.revision) : null
  }

  /** A range at this transaction's revision (the first read fixes it). */
  async #range(key: Buffer, rangeEnd: Buffer | undefined): Promise<IKeyValue[]> {
    const response = await etcdCall(() =>
      this.#client.kv.range({
        key,
        ...(rangeEnd === undefined ? {} : { range_end: rangeEnd }),
        ...(this.#revision === null ? {} : { revision: this.#revision }),
      }),
    )
    this.#revision ??= Number(response.header.revision)
    return response.kvs
  }
}

function mirrorReader(mirror: Mirror, keys: EtcdKeys): StoreReader {
  return {
    get: async <T>(kind: StoreKind, id: string): Promise<T | undefined> =>
      copy(mirror.get(keys.key(kind, id))?.value) as T | undefined,
    list: async <T>(kind: StoreKind): Promise<Array<{ id: string; value: T }>> =>
      [...mirror.values()]
        .filter((item) => item.kind === kind)
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((item) => ({ id: item.id, value: copy(item.value) as T })),
  }
}

function changeOf(item: Item): StoreChange {
  return { kind: item.kind, id: item.id, value: item.value }
}

function copy(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown)
}

/** An etcd call of a transaction failed (as opposed to the transaction's own code). */
class EtcdCallFailed extends Error {
  override readonly cause: unknown
  constructor(cause: unknown) {
    super(reasonOf(cause))
    this.cause = cause
  }
}

async function etcdCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw new EtcdCallFailed(error)
  }
}

/** etcd is down or cut off (as opposed to refusing this request: too large, no permission). */
function isUnreachable(error: unknown): boolean {
  return (
    error instanceof GRPCUnavailableError ||
    error instanceof GRPCDeadlineExceededError ||
    error instanceof GRPCCancelledError ||
    (error instanceof Error && isRecoverableError(error)) ||
    (error instanceof GRPCGenericError && error.constructor === GRPCGenericError)
  )
}

function isCompacted(error: unknown): boolean {
  return error instanceof Error && error.message.includes('compacted')
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function closedError(): ControlError {
  return new ControlError('ServiceUnavailable', 'the state store is closed')
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
