import { availableParallelism } from 'node:os'
import type { FlowRow } from '../read/flow-row.js'
import type { ReadOptions, ReadStats } from '../read/read-options.js'
import { isParquet } from '../read/scan-files.js'
import type { SourceFile } from '../read/source-file.js'
import type { WorkerResult, WorkerSetup, WorkerTask } from './query-worker.js'

/**
 * Reads text files on several threads at once. One thread parses a gzip text file about as fast as
 * the thread pool gunzips it, so a query over many files is bound by one core; with a worker per
 * core, each parsing its own files, both cores parse. Results are handed on in file order, so the
 * output is the same as reading the files one by one.
 *
 * Used only where it pays: local text files (not Parquet, which DuckDB already reads on every core;
 * not object storage), at least two files and PARALLEL_BYTES of them. FLOWLOG_QUERY_WORKERS sets
 * the number of workers (0: never; set, it also drops the size threshold, for tests).
 */
const PARALLEL_BYTES = 8 << 20
/** Tasks per worker in flight: the next file is read while the worker's result travels. */
const DEPTH = 2

export function parallelWorkers(files: readonly SourceFile[]): number {
  const configured = process.env.FLOWLOG_QUERY_WORKERS
  const wanted = configured === undefined ? Math.min(availableParallelism(), 4) : Number(configured)
  if (!Number.isInteger(wanted) || wanted < 2 || files.length < 2) return 0
  if (files.some((f) => f.localPath === null || isParquet(f))) return 0
  if (configured === undefined && files.reduce((sum, f) => sum + f.size, 0) < PARALLEL_BYTES) return 0
  return Math.min(wanted, files.length)
}

export interface ParallelSink {
  /** A kept record, in file order. Return false to stop. */
  take(row: FlowRow): boolean
  /** Kept records when only counting. Return false to stop. */
  count(n: number): boolean
  /** The fields a file's records have. */
  fields(names: readonly string[]): void
}

/**
 * Reads `files` on `workers` threads and hands each kept record to the sink in file order (or their
 * number, when only counting). Returns the index of the first file it did not hand on: files.length
 * when it read them all, less when the sink stopped it or a file kept too many records to copy
 * between threads (the caller reads the rest itself).
 */
export async function readInParallel(
  files: readonly SourceFile[],
  workers: number,
  setup: WorkerSetup,
  options: ReadOptions,
  stats: ReadStats,
  sink: ParallelSink,
  flush: () => Promise<boolean>,
): Promise<number> {
  // Loaded here: most queries never start a thread.
  const { Worker } = await import('node:worker_threads')
  const pool = Array.from(
    { length: workers },
    () => new Worker(new URL('./query-worker.js', import.meta.url), { workerData: setup }),
  )
  const results = new Map<number, WorkerResult>()
  let wake: (() => void) | null = null
  let failure: Error | null = null
  const busy = pool.map(() => 0)
  let next = 0
  const send = (w: number) => {
    const file = files[next]
    if (file === undefined) return
    const task: WorkerTask = { id: next++, path: file.localPath!, size: file.size }
    busy[w]!++
    pool[w]!.postMessage(task)
  }
  pool.forEach((worker, w) => {
    worker.on('message', (result: WorkerResult) => {
      busy[w]!--
      results.set(result.id, result)
      wake?.()
    })
    worker.on('error', (error) => {
      failure = error
      wake?.()
    })
  })
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0)
  let bytesDone = 0
  let done = 0
  try {
    for (let w = 0; w < pool.length; w++) for (let d = 0; d < DEPTH; d++) send(w)
    while (done < files.length) {
      let result = results.get(done)
      while (result === undefined) {
        if (failure !== null) throw failure
        await new Promise<void>((resolve) => {
          wake = resolve
        })
        wake = null
        result = results.get(done)
      }
      if (result.tooMany) return done
      results.delete(done)
      const file = files[done]!
      for (const [line, reason] of result.bad) options.onBadLine?.(file.name, line, reason)
      sink.fields(result.fields)
      stats.files += result.stats.files
      stats.bytes += result.stats.bytes
      stats.rows += result.stats.rows
      stats.badLines += result.stats.badLines
      bytesDone += file.size
      done++
      let more = true
      if (setup.countOnly) more = sink.count(result.matched)
      else {
        for (const row of result.rows) {
          more = sink.take(row)
          if (!more) break
        }
      }
      options.onProgress?.({
        files: files.length,
        filesDone: done,
        bytes: totalBytes,
        bytesDone,
        rows: stats.rows,
      })
      if (!more || !(await flush())) return done
      // Keep every worker fed: a finished task frees a slot on the worker that ran it.
      pool.forEach((_, w) => {
        while (busy[w]! < DEPTH && next < files.length) send(w)
      })
    }
    return done
  } finally {
    await Promise.all(pool.map((worker) => worker.terminate()))
  }
}
