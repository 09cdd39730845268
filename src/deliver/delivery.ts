import { DeliveryError } from '../core/errors.js'
import type { NetworkConfig, S3Settings } from '../core/network.js'
import type { Destination } from '../core/stages.js'
import { type BackoffPolicy, DEFAULT_BACKOFF, retryDelay } from './backoff.js'
import { defaultSpoolDir } from './default-spool-dir.js'
import { DeliveryStats } from './delivery-stats.js'
import { FileDestination } from './file-destination.js'
import { DEFAULT_S3_SETTINGS, destinationFor } from './registry.js'
import { Spool, type SpoolEntry } from './spool.js'
import { type AttemptOutcome, SpoolDeliverer } from './spool-deliverer.js'

/** Plain data, so a writer thread can receive it as is. */
export interface DeliverySetup {
  spoolDir: string
  s3: S3Settings
  /** The DeliveryStats buffer of the thread that reads the numbers (the daemon's /metrics). */
  statsBuffer?: SharedArrayBuffer
  backoff?: BackoffPolicy
  /** Pick up the files earlier runs left in the spool at start (the live daemon does). */
  resume?: boolean
}

/** One finished file, ready to go. */
export interface FinishedFile {
  /** The flow log's destination URL. */
  url: string
  key: string
  body: Uint8Array
  flowLogId: string | null
  windowStart: number | null
}

/**
 * Hands finished files to their destinations without ever losing one (DESIGN 5, 9).
 *
 * A file bound for object storage is first made durable in the local spool, then put; failures
 * are retried by the SpoolDeliverer until they go through, across restarts (`resume`). A file
 * bound for a local directory is written there directly, because that write is as durable as the
 * spool's; only when it fails does the file go to the spool and wait like any other.
 */
export class Delivery {
  readonly spool: Spool
  readonly stats: DeliveryStats
  private readonly deliverer: SpoolDeliverer
  private readonly destinations = new Map<string, Destination>()
  private readonly s3: S3Settings
  private readonly backoff: BackoffPolicy

  constructor(setup: DeliverySetup, onOutcome?: (outcome: AttemptOutcome) => void) {
    this.spool = new Spool(setup.spoolDir)
    this.stats = new DeliveryStats(setup.statsBuffer)
    this.s3 = setup.s3
    this.backoff = setup.backoff ?? DEFAULT_BACKOFF
    this.deliverer = new SpoolDeliverer({
      spool: this.spool,
      stats: this.stats,
      destinationOf: (entry) => this.destinationFor(entry.destination, entry.s3 ?? this.s3),
      ...(setup.backoff === undefined ? {} : { backoff: setup.backoff }),
      ...(onOutcome === undefined ? {} : { onOutcome }),
    })
  }

  /** The destination of a URL, one per URL and settings, so connections are shared. */
  destinationFor(url: string, s3: S3Settings = this.s3): Destination {
    const id = url.startsWith('s3://') ? `${url}\n${JSON.stringify(s3)}` : url
    let destination = this.destinations.get(id)
    if (destination === undefined) {
      destination = destinationFor(url, s3)
      this.destinations.set(id, destination)
    }
    return destination
  }

  /**
   * Takes a file over: when this resolves, the file is at its destination (`delivered`) or safe
   * in the spool with an attempt under way (`spooled`). Rejects only when neither was possible.
   */
  async deliver(file: FinishedFile): Promise<'delivered' | 'spooled'> {
    const destination = this.destinationFor(file.url)
    if (destination instanceof FileDestination) {
      try {
        await destination.put(file.key, file.body)
        this.stats.fileDelivered(file.body.length, 0, false)
        return 'delivered'
      } catch (error) {
        return this.spoolAndRetry(file, destination, error)
      }
    }
    return this.spoolAndRetry(file, destination, null)
  }

  /** Picks up what earlier runs left in the spool (the daemon at start, `flowlog spool deliver`). */
  async resume(): Promise<SpoolEntry[]> {
    await this.spool.sweep()
    const { entries } = await this.spool.list()
    const known = new Set(this.deliverer.pending().map((e) => e.id))
    for (const entry of entries) {
      if (known.has(entry.id)) continue
      this.stats.fileAdopted(entry.bytes)
      this.deliverer.enqueue(entry)
    }
    return entries
  }

  /** Tries every waiting file now, ignoring its backoff. */
  retryAllNow(): void {
    this.deliverer.retryAllNow()
  }

  /** Waits (at most until `deadline`, epoch ms) for the waiting files; answers those left. */
  settle(deadline: number): Promise<SpoolEntry[]> {
    return this.deliverer.settle(deadline)
  }

  pending(): SpoolEntry[] {
    return this.deliverer.pending()
  }

  close(): void {
    this.deliverer.close()
    for (const destination of this.destinations.values()) {
      ;(destination as { destroy?: () => void }).destroy?.()
    }
  }

  private async spoolAndRetry(
    file: FinishedFile,
    destination: Destination,
    firstError: unknown,
  ): Promise<'delivered' | 'spooled'> {
    let entry: SpoolEntry
    try {
      entry = await this.spool.add(
        {
          destination: file.url,
          key: file.key,
          s3: file.url.startsWith('s3://') ? this.s3 : null,
          flowLogId: file.flowLogId,
          windowStart: file.windowStart,
        },
        file.body,
      )
    } catch (spoolError) {
      // The spool itself is broken (disk full, no permission): a direct put is the last chance.
      if (firstError === null) {
        try {
          await destination.put(file.key, file.body)
          this.stats.fileDelivered(file.body.length, 0, false)
          return 'delivered'
        } catch (error) {
          firstError = error
        }
      }
      const reason = (e: unknown) => (e instanceof Error ? e.message : String(e))
      throw new DeliveryError(
        `cannot deliver ${destination.locate(file.key)} (${reason(firstError)}) nor keep it in the spool ${this.spool.dir} (${reason(spoolError)})`,
        destination.description,
        file.key,
        { cause: spoolError },
      )
    }
    this.stats.fileSpooled(file.body.length)
    let delay = 0
    if (firstError !== null) {
      // The direct write already failed once: that was the first attempt.
      this.stats.attemptFailed(false)
      entry.attempts = 1
      entry.lastAttemptAt = new Date().toISOString()
      entry.lastError = firstError instanceof Error ? firstError.message : String(firstError)
      await this.spool.update(entry).catch(() => true)
      delay = retryDelay(1, this.backoff)
    }
    this.deliverer.enqueue(entry, file.body, delay)
    return 'spooled'
  }
}

/** The delivery setup of a config: its spool (or `spoolDir` given on the command line) and s3 settings. */
export function deliverySetupFor(
  network: Pick<NetworkConfig, 'delivery'>,
  overrides: { spoolDir?: string | undefined; statsBuffer?: SharedArrayBuffer } = {},
): DeliverySetup {
  return {
    spoolDir: overrides.spoolDir ?? network.delivery?.spoolDir ?? defaultSpoolDir(),
    s3: network.delivery?.s3 ?? DEFAULT_S3_SETTINGS,
    ...(overrides.statsBuffer === undefined ? {} : { statsBuffer: overrides.statsBuffer }),
  }
}
