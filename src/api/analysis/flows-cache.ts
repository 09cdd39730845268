import type { DuckDBConnection } from '@duckdb/node-api'
import { makeScratchDir } from '../../ops/scratch-dirs.js'
import { listSources } from '../../read/list-sources.js'
import type { ReadStats } from '../../read/read-options.js'
import { type FlowsDatabase, openFlowsDatabase } from '../../sql/flows-database.js'

/**
 * The sources' records held in DuckDB (the `flows` table of `flowlog sql`) for the console's charts:
 * loaded once, then every chart is one aggregate query, fast on tens of millions of records. The
 * sources are listed again at most every `recheckSeconds`; when a file appears, grows or goes (a
 * daemon writes one per window), the table is rebuilt from them before the next answer.
 *
 * DuckDB runs one statement at a time per connection: queries wait their turn here, and a table
 * being replaced stays open until the queries already running on it are done.
 */
export class FlowsCache {
  readonly #sources: () => Promise<readonly string[]>
  readonly #recheckMs: number
  #current: { db: FlowsDatabase; signature: string; users: number; stale: boolean } | null = null
  #checkedAt = 0
  #loading: Promise<void> | null = null
  #queue: Promise<unknown> = Promise.resolve()

  /**
   * `sources` as `flowlog sql` takes them, or a function giving them now (a daemon's flow logs come
   * and go); an empty list is an empty table.
   */
  constructor(
    sources: readonly string[] | (() => Promise<readonly string[]>),
    options: { recheckSeconds?: number } = {},
  ) {
    this.#sources = typeof sources === 'function' ? sources : async () => sources
    this.#recheckMs = (options.recheckSeconds ?? 5) * 1000
  }

  /** Runs `work` on the current table (refreshed first when the files changed); one at a time. */
  async use<T>(work: (connection: DuckDBConnection, stats: ReadStats) => Promise<T>): Promise<T> {
    await this.#refresh()
    const run = this.#queue.then(async () => {
      const current = this.#current
      if (current === null) throw new Error('flow records are not loaded')
      current.users++
      try {
        return await work(current.db.connection, current.db.stats)
      } finally {
        current.users--
        if (current.stale && current.users === 0) current.db.close()
      }
    })
    this.#queue = run.catch(() => undefined)
    return run
  }

  close(): void {
    if (this.#current !== null && this.#current.users === 0) this.#current.db.close()
    else if (this.#current !== null) this.#current.stale = true
    this.#current = null
  }

  async #refresh(): Promise<void> {
    if (this.#loading !== null) return this.#loading
    if (this.#current !== null && Date.now() - this.#checkedAt < this.#recheckMs) return
    this.#loading = this.#reload().finally(() => {
      this.#loading = null
    })
    return this.#loading
  }

  async #reload(): Promise<void> {
    const sources = await this.#sources()
    const listing = sources.length === 0 ? { files: [] } : await listSources(sources, undefined, undefined)
    this.#checkedAt = Date.now()
    const signature = `${sources.join('\n')}\n\n${listing.files.map((f) => `${f.key}\u0000${f.size}`).join('\n')}`
    if (this.#current !== null && this.#current.signature === signature) return
    const db = await openFlowsDatabase(sources.length === 0 ? [emptyDir()] : sources)
    const old = this.#current
    this.#current = { db, signature, users: 0, stale: false }
    if (old !== null) {
      if (old.users === 0) old.db.close()
      else old.stale = true
    }
  }
}

/**
 * A directory with no files: the table of no sources (openFlowsDatabase needs one source). It goes
 * when the console stops.
 */
let empty: string | null = null
function emptyDir(): string {
  empty ??= makeScratchDir('flowlog-console-empty-')
  return empty
}
