/**
 * Delivery counters as plain numbers, for summaries and for the live daemon's /metrics.
 *
 * The counters live in a SharedArrayBuffer: files are delivered on the writer thread while
 * /metrics is served on the main thread, and both see the same numbers without messages. Pass
 * `buffer` to the other thread and build a DeliveryStats over it there. Only one thread writes.
 */

/** Upper bounds (seconds) of the latency histogram: from a finished file to its delivery. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600]

const COUNTERS = [
  'spooled',
  'delivered',
  'deliveredBytes',
  'failedAttempts',
  'retries',
  'refusals',
  'waiting',
  'waitingBytes',
  'latencyCount',
  'latencySum',
  'latencyMax',
] as const
type Counter = (typeof COUNTERS)[number]
const INDEX = Object.fromEntries(COUNTERS.map((name, i) => [name, i])) as Record<Counter, number>
const SLOTS = COUNTERS.length + LATENCY_BUCKETS_SECONDS.length

export interface DeliveryStatsSnapshot {
  /** Files written to the spool (since start). */
  spooled: number
  /** Files delivered to their destination, directly or from the spool. */
  delivered: number
  deliveredBytes: number
  /** Attempts that failed (each retry that fails counts again). */
  failedAttempts: number
  /** Attempts after the first for a file. */
  retries: number
  /** Failures a destination gave for good: no such bucket, access denied, no credentials. */
  refusals: number
  /** Files in the spool now, waiting for a retry (a gauge). */
  waiting: number
  waitingBytes: number
  /** Finished file to delivered: a Prometheus-style histogram (cumulative bucket counts). */
  latencySeconds: {
    count: number
    sum: number
    max: number
    buckets: { le: number; count: number }[]
  }
}

export class DeliveryStats {
  readonly buffer: SharedArrayBuffer
  private readonly values: Float64Array

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(SLOTS * Float64Array.BYTES_PER_ELEMENT)) {
    this.buffer = buffer
    this.values = new Float64Array(buffer)
  }

  get spooled(): number {
    return this.get('spooled')
  }
  get delivered(): number {
    return this.get('delivered')
  }
  get failedAttempts(): number {
    return this.get('failedAttempts')
  }
  get retries(): number {
    return this.get('retries')
  }
  get refusals(): number {
    return this.get('refusals')
  }
  get waiting(): number {
    return this.get('waiting')
  }

  /** A file entered the spool and waits for delivery. */
  fileSpooled(bytes: number): void {
    this.add('spooled', 1)
    this.add('waiting', 1)
    this.add('waitingBytes', bytes)
  }

  /** A file that was already in the spool (from before a restart) is waiting again. */
  fileAdopted(bytes: number): void {
    this.add('waiting', 1)
    this.add('waitingBytes', bytes)
  }

  /** An attempt starts; `retry` when it is not the file's first. */
  attemptStarted(retry: boolean): void {
    if (retry) this.add('retries', 1)
  }

  attemptFailed(permanent: boolean): void {
    this.add('failedAttempts', 1)
    if (permanent) this.add('refusals', 1)
  }

  /** A file reached its destination; `fromSpool` when it had been waiting in the spool. */
  fileDelivered(bytes: number, latencySeconds: number, fromSpool: boolean): void {
    this.add('delivered', 1)
    this.add('deliveredBytes', bytes)
    if (fromSpool) this.leftSpool(bytes)
    const latency = Math.max(0, latencySeconds)
    this.add('latencyCount', 1)
    this.add('latencySum', latency)
    if (latency > this.get('latencyMax')) this.values[INDEX.latencyMax] = latency
    LATENCY_BUCKETS_SECONDS.forEach((le, i) => {
      if (latency <= le) this.values[COUNTERS.length + i] = (this.values[COUNTERS.length + i] ?? 0) + 1
    })
  }

  /** A waiting file left the spool without this process delivering it (another process did). */
  leftSpool(bytes: number): void {
    this.add('waiting', -1)
    this.add('waitingBytes', -bytes)
  }

  snapshot(): DeliveryStatsSnapshot {
    return {
      spooled: this.get('spooled'),
      delivered: this.get('delivered'),
      deliveredBytes: this.get('deliveredBytes'),
      failedAttempts: this.get('failedAttempts'),
      retries: this.get('retries'),
      refusals: this.get('refusals'),
      waiting: this.get('waiting'),
      waitingBytes: this.get('waitingBytes'),
      latencySeconds: {
        count: this.get('latencyCount'),
        sum: this.get('latencySum'),
        max: this.get('latencyMax'),
        buckets: LATENCY_BUCKETS_SECONDS.map((le, i) => ({
          le,
          count: this.values[COUNTERS.length + i] ?? 0,
        })),
      },
    }
  }

  private get(name: Counter): number {
    return this.values[INDEX[name]] ?? 0
  }

  private add(name: Counter, n: number): void {
    this.values[INDEX[name]] = this.get(name) + n
  }
}
