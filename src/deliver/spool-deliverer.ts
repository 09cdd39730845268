import type { Destination } from '../core/stages.js'
import { type BackoffPolicy, DEFAULT_BACKOFF, retryDelay } from './backoff.js'
import { failureSummary, isPermanentFailure } from './delivery-failure.js'
import type { DeliveryStats } from './delivery-stats.js'
import type { Spool, SpoolEntry } from './spool.js'

/** What became of one attempt, for logs and command output. */
export interface AttemptOutcome {
  entry: SpoolEntry
  delivered: boolean
  /** Set when the attempt failed: the failure in words, and whether waiting will not fix it. */
  error?: string
  permanent?: boolean
}

export interface SpoolDelivererOptions {
  spool: Spool
  stats: DeliveryStats
  /** The destination an entry goes to (built from the entry's URL and s3 settings, cached). */
  destinationOf: (entry: SpoolEntry) => Destination
  backoff?: BackoffPolicy
  /** Puts in flight at once. */
  concurrency?: number
  random?: () => number
  onOutcome?: (outcome: AttemptOutcome) => void
}

/** How long past a settle deadline an attempt in flight may still finish (a put's own time limit). */
const SETTLE_GRACE_MS = 130_000

interface Item {
  entry: SpoolEntry
  /** Epoch ms of the next attempt. */
  dueAt: number
  running: boolean
  /** The bytes for the first attempt, so a fresh file is not read back; dropped after it. */
  body: Uint8Array | null
}

/**
 * Delivers spooled files, retrying failures with exponential backoff and jitter until they go
 * through. A file leaves the spool only after its destination took it. A success at a
 * destination is taken as news that it is back, so every file waiting for that destination is
 * tried again at once instead of at the end of its backoff. Failures a destination gives for good
 * (no such bucket, access denied) wait the longest backoff: someone may fix the store.
 */
export class SpoolDeliverer {
  private readonly items = new Map<string, Item>()
  private readonly listeners = new Set<() => void>()
  private readonly backoff: BackoffPolicy
  private readonly concurrency: number
  private running = 0
  private timer: NodeJS.Timeout | null = null
  private timerAt = Number.POSITIVE_INFINITY
  private closed = false

  constructor(private readonly options: SpoolDelivererOptions) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF
    this.concurrency = options.concurrency ?? 4
  }

  /**
   * Schedules an attempt in `delayMs` (now by default). An entry already queued under the same id
   * is replaced.
   */
  enqueue(entry: SpoolEntry, body: Uint8Array | null = null, delayMs = 0): void {
    if (this.closed) return
    const dueAt = Date.now() + delayMs
    const current = this.items.get(entry.id)
    if (current?.running) {
      // The old bytes are being put right now; the new ones follow as soon as that ends.
      current.entry = entry
      current.body = body
      current.dueAt = dueAt
      return
    }
    this.items.set(entry.id, { entry, dueAt, running: false, body })
    this.pump()
  }

  /** Entries still waiting (in flight included), oldest first. */
  pending(): SpoolEntry[] {
    return [...this.items.values()].map((i) => ({ ...i.entry }))
  }

  /** Every waiting entry is tried now, whatever its backoff says (`flowlog spool deliver`). */
  retryAllNow(): void {
    const now = Date.now()
    for (const item of this.items.values()) item.dueAt = Math.min(item.dueAt, now)
    this.pump()
  }

  /**
   * Resolves with the entries still waiting once every attempt due by `deadline` (epoch ms) has
   * been made: nothing waits any more, or what waits is due after the deadline. An attempt due
   * before the deadline is made even if it starts after it (so a zero timeout still tries every
   * file once); one that hangs is given up on `graceMs` after the deadline. Retries go on
   * afterwards until `close`.
   */
  settle(deadline: number, graceMs = SETTLE_GRACE_MS): Promise<SpoolEntry[]> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | null = null
      const check = () => {
        const items = [...this.items.values()]
        const done =
          this.closed ||
          Date.now() >= deadline + graceMs ||
          items.every((i) => !i.running && i.dueAt > deadline)
        if (!done) return
        this.listeners.delete(check)
        if (timer !== null) clearTimeout(timer)
        resolve(this.pending())
      }
      this.listeners.add(check)
      timer = setTimeout(check, Math.max(0, deadline + graceMs - Date.now()))
      check()
    })
  }

  /** Stops scheduling; attempts in flight finish, and what waits stays in the spool. */
  close(): void {
    this.closed = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    for (const listener of [...this.listeners]) listener()
  }

  private pump(): void {
    if (this.closed) return
    const now = Date.now()
    let next = Number.POSITIVE_INFINITY
    for (const item of this.items.values()) {
      if (item.running) continue
      if (item.dueAt <= now && this.running < this.concurrency) this.start(item)
      else next = Math.min(next, item.dueAt)
    }
    this.schedule(next)
  }

  private schedule(at: number): void {
    if (at === this.timerAt) return
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.timerAt = at
    if (!Number.isFinite(at)) return
    this.timer = setTimeout(
      () => {
        this.timer = null
        this.timerAt = Number.POSITIVE_INFINITY
        this.pump()
      },
      Math.max(0, at - Date.now()),
    )
    // Waiting retries alone do not keep a process alive: its owner decides when to stop.
    this.timer.unref()
  }

  private start(item: Item): void {
    item.running = true
    this.running++
    this.attempt(item)
      .catch(() => {
        // attempt() handles its own failures; this only guards the scheduler.
      })
      .finally(() => {
        item.running = false
        this.running--
        this.pump()
        this.notify()
      })
  }

  private async attempt(item: Item): Promise<void> {
    const { spool, stats } = this.options
    const entry = item.entry
    const bytesOfEntry = entry.bytes
    stats.attemptStarted(entry.attempts > 0)
    entry.attempts++
    entry.lastAttemptAt = new Date().toISOString()
    const body = item.body ?? (await spool.read(entry.id))
    item.body = null
    if (body === null) {
      // Another process delivered it (and removed it) since it was listed.
      this.forget(item)
      stats.leftSpool(bytesOfEntry)
      await spool.remove(entry.id)
      return
    }
    try {
      await this.options.destinationOf(entry).put(entry.key, body)
    } catch (error) {
      const permanent = isPermanentFailure(error)
      entry.lastError = failureSummary(error)
      entry.refused = permanent
      stats.attemptFailed(permanent)
      const delay = permanent
        ? this.backoff.maxMs
        : retryDelay(entry.attempts, this.backoff, this.options.random)
      if (item.entry === entry) {
        item.dueAt = Date.now() + delay
        const stillThere = await spool.update(entry).catch(() => true)
        if (!stillThere) {
          this.forget(item)
          stats.leftSpool(bytesOfEntry)
        }
      }
      this.options.onOutcome?.({ entry: { ...entry }, delivered: false, error: entry.lastError, permanent })
      return
    }
    stats.fileDelivered(body.length, (Date.now() - Date.parse(entry.createdAt)) / 1000, true)
    // A newer file under the same key may have arrived while this one was being put: it stays
    // in the spool and goes next.
    if (item.entry === entry) {
      await spool.remove(entry.id)
      this.forget(item)
    }
    this.wakeDestination(entry.destination)
    this.options.onOutcome?.({ entry: { ...entry }, delivered: true })
  }

  private forget(item: Item): void {
    if (this.items.get(item.entry.id) === item) this.items.delete(item.entry.id)
  }

  private wakeDestination(destination: string): void {
    const now = Date.now()
    for (const item of this.items.values()) {
      if (item.entry.destination === destination && !item.running) item.dueAt = Math.min(item.dueAt, now)
    }
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener()
  }
}
