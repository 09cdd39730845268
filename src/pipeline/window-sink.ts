import { Worker } from 'node:worker_threads'
import { batchBuffers } from '../aggregate/flow-table.js'
import { FlowlogError } from '../core/errors.js'
import type { RecordBatch } from '../core/flow-record.js'
import { WindowWriter, type WriterSetup, type WrittenFile } from './window-writer.js'

/**
 * Where the packet thread hands closed windows. `submit` never blocks the packet path;
 * `backlog` lets the reader pause when the writer falls behind, and `drain` waits for all.
 */
export interface WindowSink {
  submit(interval: number, batch: RecordBatch): void
  /** Windows submitted but not yet written. */
  readonly backlog: number
  /** Resolves when every submitted window is written; rejects with the first write failure. */
  drain(): Promise<void>
  /** Resolves when at most `limit` windows wait (the reader's backpressure). */
  waitBelow(limit: number): Promise<void>
  readonly files: readonly WrittenFile[]
  /** A reloaded policy's rule list, for windows submitted from now on (live reload). */
  setRuleIds(ruleIds: readonly string[]): void
  close(): Promise<void>
}

/** Writes on the calling thread. For tests and tiny captures. */
export class InlineWindowSink implements WindowSink {
  readonly files: WrittenFile[] = []
  private readonly writer: WindowWriter
  private chain: Promise<void> = Promise.resolve()
  private pending = 0
  private failure: unknown = null

  constructor(setup: WriterSetup) {
    this.writer = new WindowWriter(setup)
  }

  get backlog(): number {
    return this.pending
  }

  submit(interval: number, batch: RecordBatch): void {
    this.pending++
    this.chain = this.chain.then(async () => {
      try {
        if (this.failure === null) this.files.push(...(await this.writer.write(interval, batch)))
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

  async drain(): Promise<void> {
    await this.chain
    if (this.failure !== null) throw this.failure
  }

  async waitBelow(limit: number): Promise<void> {
    if (this.pending > limit) await this.chain
  }

  async close(): Promise<void> {
    await this.chain
  }
}

/** Writes on a worker thread, so formatting and gzip overlap with packet processing. */
export class WorkerWindowSink implements WindowSink {
  readonly files: WrittenFile[] = []
  private readonly worker: Worker
  private nextId = 0
  private pending = 0
  private failure: Error | null = null
  private waiters: (() => void)[] = []

  constructor(setup: WriterSetup) {
    this.worker = new Worker(new URL('./writer-worker.js', import.meta.url), { workerData: setup })
    this.worker.on(
      'message',
      (message: { id: number; files?: WrittenFile[]; error?: { message: string; code?: string } }) => {
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

  get backlog(): number {
    return this.pending
  }

  submit(interval: number, batch: RecordBatch): void {
    this.pending++
    this.worker.postMessage({ id: this.nextId++, interval, batch }, batchBuffers(batch))
  }

  setRuleIds(ruleIds: readonly string[]): void {
    this.worker.postMessage({ ruleIds: [...ruleIds] })
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
