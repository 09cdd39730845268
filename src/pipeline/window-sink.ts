import { Worker } from 'node:worker_threads'
import { windowBatch } from '../aggregate/closed-window.js'
import { FlowlogError } from '../core/errors.js'
import type { ClosedWindow } from '../core/flow-record.js'
import type { NetworkConfig } from '../core/network.js'
import { deliverySetupFor } from '../deliver/delivery.js'
import { DeliveryStats } from '../deliver/delivery-stats.js'
import type { SpoolEntry } from '../deliver/spool.js'
import type { AttemptOutcome } from '../deliver/spool-deliverer.js'
import { WindowWriter, type WriterSetup, type WrittenFile } from './window-writer.js'

/**
 * Where the packet thread hands closed windows. `submit` never blocks the packet path;
 * `backlog` lets the reader pause when the writer falls behind, and `drain` waits for all.
 */
export interface WindowSink {
  /** A closed window, for every flow log of its interval, or only those named in `only`. */
  submit(interval: number, window: ClosedWindow, only?: readonly string[]): void
  /**
   * Called with a submitted window's table buffer once it is read and emptied (for the packet
   * thread's next windows: PacketPipeline.recycle).
   */
  onRecycle: ((interval: number, buffer: ArrayBuffer) => void) | null
  /** Windows submitted but not yet written. */
  readonly backlog: number
  /** Resolves when every submitted window is written; rejects with the first write failure. */
  drain(): Promise<void>
  /** Resolves when at most `limit` windows wait (the reader's backpressure). */
  waitBelow(limit: number): Promise<void>
  readonly files: readonly WrittenFile[]
  /** A reloaded policy's rule list, for windows submitted from now on (live reload). */
  setRuleIds(ruleIds: readonly string[]): void
  /** The flow logs and rules for windows submitted from now on (WindowWriter.update). */
  update(network: NetworkConfig, ruleIds: readonly string[], starts: Readonly<Record<string, number>>): void
  /** Called with the outcome of each delivery attempt from the spool (per flow log delivery status). */
  onOutcome: ((outcome: DeliveryOutcome) => void) | null
  /** Spool and delivery counters, live on this thread (the writer thread updates them). */
  readonly deliveryStats: DeliveryStats
  /**
   * After `drain`: waits until the spooled files reached their destinations, or at most until
   * `deadline` (epoch ms); answers the files still waiting in the spool.
   */
  settleDelivery(deadline: number): Promise<SpoolEntry[]>
  close(): Promise<void>
}

/** What the daemon hears of a delivery attempt (plain data: it crosses from the writer thread). */
export interface DeliveryOutcome {
  flowLogId: string | null
  key: string
  delivered: boolean
  /** The failure in words (never a credential), when it failed. */
  error: string | null
}

function outcomeOf(o: AttemptOutcome): DeliveryOutcome {
  return { flowLogId: o.entry.flowLogId, key: o.entry.key, delivered: o.delivered, error: o.error ?? null }
}

/** Writes on the calling thread. For tests and tiny captures. */
export class InlineWindowSink implements WindowSink {
  readonly files: WrittenFile[] = []
  onRecycle: ((interval: number, buffer: ArrayBuffer) => void) | null = null
  onOutcome: ((outcome: DeliveryOutcome) => void) | null = null
  private readonly writer: WindowWriter
  private chain: Promise<void> = Promise.resolve()
  private pending = 0
  private failure: unknown = null

  constructor(setup: WriterSetup) {
    this.writer = new WindowWriter(setup, (o) => this.onOutcome?.(outcomeOf(o)))
  }

  get backlog(): number {
    return this.pending
  }

  get deliveryStats(): DeliveryStats {
    return this.writer.delivery.stats
  }

  async settleDelivery(deadline: number): Promise<SpoolEntry[]> {
    await this.chain
    return this.writer.settleDelivery(deadline)
  }

  submit(interval: number, window: ClosedWindow, only?: readonly string[]): void {
    // Read now, while the buffer is the window's: it goes back for reuse at once.
    const batch = windowBatch(window)
    if (window.slots !== null) this.onRecycle?.(interval, window.slots)
    this.pending++
    this.chain = this.chain.then(async () => {
      try {
        if (this.failure === null) this.files.push(...(await this.writer.write(interval, batch, only)))
      } catch (error) {
        this.failure ??= error
      } finally {
        this.pending--
      }
    })
  }

  setRuleIds(ruleIds: readonly string[]): void {
    this.chain = this.chain.then(() => this.writer.setRuleIds(ruleIds))
  }

  update(network: NetworkConfig, ruleIds: readonly string[], starts: Readonly<Record<string, number>>): void {
    this.chain = this.chain.then(() => this.writer.update(network, ruleIds, starts))
  }

  async drain(): Promise<void> {
    await this.chain
    if (this.failure !== null) throw this.failure
  }

  async waitBelow(limit: number): Promise<void> {
    if (this.pending > limit) await this.chain
  }

  async close(): Promise<void> {
    await this.chain
    this.writer.delivery.close()
  }
}

/** Writes on a worker thread, so formatting and gzip overlap with packet processing. */
export class WorkerWindowSink implements WindowSink {
  readonly files: WrittenFile[] = []
  onRecycle: ((interval: number, buffer: ArrayBuffer) => void) | null = null
  onOutcome: ((outcome: DeliveryOutcome) => void) | null = null
  private readonly worker: Worker
  private nextId = 0
  private pending = 0
  private failure: Error | null = null
  private waiters: (() => void)[] = []
  readonly deliveryStats = new DeliveryStats()
  private readonly settling = new Map<number, (pending: SpoolEntry[]) => void>()

  constructor(setup: WriterSetup) {
    // The writer thread counts into this thread's buffer, so the numbers are readable here.
    const delivery = {
      ...(setup.delivery ?? deliverySetupFor(setup.network)),
      statsBuffer: this.deliveryStats.buffer,
    }
    this.worker = new Worker(new URL('./writer-worker.js', import.meta.url), {
      workerData: { ...setup, delivery } satisfies WriterSetup,
    })
    this.worker.on(
      'message',
      (message: {
        id: number
        files?: WrittenFile[]
        error?: { message: string; code?: string }
        settled?: SpoolEntry[]
        recycle?: { interval: number; buffer: ArrayBuffer }
        outcome?: DeliveryOutcome
      }) => {
        if (message.outcome !== undefined) {
          this.onOutcome?.(message.outcome)
          return
        }
        if (message.recycle !== undefined) {
          this.onRecycle?.(message.recycle.interval, message.recycle.buffer)
          return
        }
        if (message.settled !== undefined) {
          this.settling.get(message.id)?.(message.settled)
          this.settling.delete(message.id)
          return
        }
        this.pending--
        if (message.files) this.files.push(...message.files)
        if (message.error && this.failure === null) {
          this.failure = new FlowlogError(message.error.code ?? 'ERR_WRITE', message.error.message)
        }
        this.wake()
      },
    )
    this.worker.on('error', (error) => {
      this.failure ??= error
      this.pending = 0
      this.wake()
    })
  }

  settleDelivery(deadline: number): Promise<SpoolEntry[]> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.settling.set(id, resolve)
      this.worker.once('error', reject)
      this.worker.postMessage({ id, settle: deadline })
    })
  }

  get backlog(): number {
    return this.pending
  }

  submit(interval: number, window: ClosedWindow, only?: readonly string[]): void {
    this.pending++
    // The table's buffer moves to the writer thread (no copy); it comes back emptied (recycle).
    this.worker.postMessage(
      { id: this.nextId++, interval, window, ...(only === undefined ? {} : { only: [...only] }) },
      window.slots === null ? [] : [window.slots],
    )
  }

  setRuleIds(ruleIds: readonly string[]): void {
    this.worker.postMessage({ ruleIds: [...ruleIds] })
  }

  update(network: NetworkConfig, ruleIds: readonly string[], starts: Readonly<Record<string, number>>): void {
    this.worker.postMessage({ update: { network, ruleIds: [...ruleIds], starts: { ...starts } } })
  }

  async drain(): Promise<void> {
    await this.waitBelow(0)
    if (this.failure !== null) throw this.failure
  }

  /** Resolves when the backlog is at most `limit` (the reader's backpressure). */
  async waitBelow(limit: number): Promise<void> {
    while (this.pending > limit && this.failure === null) {
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  async close(): Promise<void> {
    await this.worker.terminate()
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }
}
