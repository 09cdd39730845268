import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { ControlError } from '../control/control-error.js'
import type { Store, StoreChange, StoreHealth, StoreKind, StoreReader, StoreTransaction } from './store.js'

/**
 * The embedded store of one host (`--state DIR`): `DIR/state.db`, SQLite in WAL mode, one table of
 * (kind, id, JSON value, revision). The revision is the store's commit counter at the row's last
 * write, as etcd's mod_revision, so both backends speak of changes the same way.
 *
 * better-sqlite3 is synchronous, and transact's fn is async (the etcd backend awaits the network),
 * so a transaction buffers its writes and commits them in one SQLite transaction at the end.
 * Transactions and reads of this process are serialised by one queue; a commit of another
 * process on the same file (export-config only reads, but two daemons could share a directory by
 * mistake) moves the store revision, and a transaction that sees it moved runs again.
 */

/** Bumped for every change of the tables; open() migrates older files and refuses newer ones. */
export const SCHEMA_VERSION = 1
export const STATE_FILE = 'state.db'
const MAX_ATTEMPTS = 5

interface Row {
  kind: string
  id: string
  value: string
  revision: number
}

export class SqliteStore implements Store {
  readonly description: string
  readonly #db: Database.Database
  readonly #listeners = new Set<(changes: StoreChange[]) => void>()
  #queue: Promise<unknown> = Promise.resolve()
  #closed = false

  private constructor(db: Database.Database, path: string) {
    this.#db = db
    this.description = `sqlite:${path}`
  }

  /**
   * Opens `dir/state.db`, creating both when missing unless `create` is false (then a missing
   * file is a ControlError('NotFound'): a reader such as export-config must not invent a state).
   * Throws ControlError when the file is from a newer flowlog.
   */
  static open(dir: string, options: { create?: boolean } = {}): SqliteStore {
    const path = join(dir, STATE_FILE)
    if (options.create === false && !existsSync(path))
      throw new ControlError('NotFound', `${path} does not exist (no flowlog state in ${dir})`)
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const db = new Database(path)
    try {
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
      db.pragma('busy_timeout = 5000')
      migrate(db, path)
    } catch (error) {
      db.close()
      throw error
    }
    return new SqliteStore(db, path)
  }

  read<T>(fn: (reader: StoreReader) => Promise<T>): Promise<T> {
    return this.#serialised(async () => {
      for (let attempt = 1; ; attempt++) {
        const before = this.#revision()
        const result = await fn(this.#reader(new Map()))
        if (this.#revision() === before || attempt >= MAX_ATTEMPTS) return result
      }
    })
  }

  transact<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return this.#serialised(async () => {
      for (let attempt = 1; ; attempt++) {
        const start = this.#revision()
        const writes = new Map<string, StoreChange>()
        const result = await fn({
          ...this.#reader(writes),
          put: (kind, id, value) => {
            // A copy now, so a caller changing its object afterwards cannot change the commit.
            writes.set(key(kind, id), { kind, id, value: JSON.parse(JSON.stringify(value)) as unknown })
          },
          delete: (kind, id) => {
            writes.set(key(kind, id), { kind, id, value: undefined })
          },
        })
        const changes = [...writes.values()]
        if (this.#commit(start, changes)) {
          if (changes.length > 0) this.#notify(changes)
          return result
        }
        if (attempt >= MAX_ATTEMPTS) {
          throw new ControlError(
            'ServiceUnavailable',
            'the state changed under every attempt to write it; try again',
          )
        }
      }
    })
  }

  watch(listener: (changes: StoreChange[]) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  health(): StoreHealth {
    return this.#closed ? { ok: false, reason: 'the store is closed' } : { ok: true, reason: null }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#queue.catch(() => undefined)
    this.#listeners.clear()
    this.#db.close()
  }

  /** Runs fn after every earlier read and transaction of this store has finished. */
  #serialised<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed)
      return Promise.reject(new ControlError('ServiceUnavailable', 'the state store is closed'))
    const run = this.#queue.then(fn, fn)
    this.#queue = run.catch(() => undefined)
    return run
  }

  #revision(): number {
    const row = this.#db.prepare('SELECT value FROM meta WHERE key = ?').get('revision') as
      | { value: string }
      | undefined
    return row === undefined ? 0 : Number(row.value)
  }

  /** A reader that sees this transaction's own writes over the committed state. */
  #reader(writes: ReadonlyMap<string, StoreChange>): StoreReader {
    const db = this.#db
    return {
      get: async <T>(kind: StoreKind, id: string): Promise<T | undefined> => {
        const written = writes.get(key(kind, id))
        if (written !== undefined) return copy(written.value) as T | undefined
        const row = db.prepare('SELECT value FROM resources WHERE kind = ? AND id = ?').get(kind, id) as
          | Pick<Row, 'value'>
          | undefined
        return row === undefined ? undefined : (JSON.parse(row.value) as T)
      },
      list: async <T>(kind: StoreKind): Promise<Array<{ id: string; value: T }>> => {
        const rows = db.prepare('SELECT id, value FROM resources WHERE kind = ?').all(kind) as Pick<
          Row,
          'id' | 'value'
        >[]
        const items = new Map<string, T>(rows.map((r) => [r.id, JSON.parse(r.value) as T]))
        for (const w of writes.values()) {
          if (w.kind !== kind) continue
          if (w.value === undefined) items.delete(w.id)
          else items.set(w.id, copy(w.value) as T)
        }
        return [...items]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([id, value]) => ({ id, value }))
      },
    }
  }

  /** One SQLite transaction: false (nothing written) when another process committed since `start`. */
  #commit(start: number, changes: readonly StoreChange[]): boolean {
    const db = this.#db
    const upsert = db.prepare(
      'INSERT INTO resources (kind, id, value, revision) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (kind, id) DO UPDATE SET value = excluded.value, revision = excluded.revision',
    )
    const remove = db.prepare('DELETE FROM resources WHERE kind = ? AND id = ?')
    const apply = db.transaction((): boolean => {
      if (this.#revision() !== start) return false
      if (changes.length === 0) return true
      const revision = start + 1
      for (const c of changes) {
        if (c.value === undefined) remove.run(c.kind, c.id)
        else upsert.run(c.kind, c.id, JSON.stringify(c.value), revision)
      }
      db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('revision', ?)").run(String(revision))
      return true
    })
    // IMMEDIATE: take the write lock before reading the revision, so the check and the writes are one.
    return apply.immediate()
  }

  #notify(changes: StoreChange[]): void {
    for (const listener of [...this.#listeners]) {
      // A listener's failure is its own; the commit has happened and the others must hear of it.
      try {
        listener(changes.map((c) => ({ ...c, value: copy(c.value) })))
      } catch {}
    }
  }
}

function key(kind: StoreKind, id: string): string {
  return `${kind}\u0000${id}`
}

function copy(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown)
}

/** Creates the tables of a new file; a file written by a newer flowlog is refused, never altered. */
function migrate(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number
  if (version > SCHEMA_VERSION) {
    throw new ControlError(
      'ServiceUnavailable',
      `${path} has state schema version ${version}; this flowlog knows up to ${SCHEMA_VERSION} (a newer flowlog wrote it)`,
    )
  }
  if (version === SCHEMA_VERSION) return
  db.transaction(() => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS resources (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        value TEXT NOT NULL,
        revision INTEGER NOT NULL,
        PRIMARY KEY (kind, id)
      ) WITHOUT ROWID;
    `)
    db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', '0')").run()
    db.pragma(`user_version = ${SCHEMA_VERSION}`)
  }).immediate()
}
