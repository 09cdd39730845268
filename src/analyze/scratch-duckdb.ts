import { join } from 'node:path'
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import type { Connection } from '@duckdb/node-bindings'
import { removeScratchDir } from '../ops/scratch-dirs.js'
import { type DuckdbBindings, sqlString } from '../read/duckdb-connection.js'
import { ANALYSIS_DUCKDB_MEMORY_LIMIT } from '../sql/flows-database.js'
import type { StagingFile } from '../sql/staging-file.js'

/**
 * An analysis's own DuckDB for sorting and grouping (replay-order.ts, detections/flow-table.ts):
 * its settings, the staged files it reads and its progress while it works. It keeps to the
 * analyses' memory share and spills beyond it, so an analysis's footprint does not grow with the
 * records.
 */

/** The settings of a scratch DuckDB whose spill directory is under `dir`. */
export function scratchSettings(dir: string): string[] {
  return [
    `SET memory_limit = '${ANALYSIS_DUCKDB_MEMORY_LIMIT}'`,
    `SET temp_directory = ${sqlString(join(dir, 'spill'))}`,
    // Sorts and groups say their own order; none need the order of the staged lines.
    'SET preserve_insertion_order = false',
    // Progress is asked for (withQueryProgress) while a sort or group runs, never printed.
    'SET enable_progress_bar = true',
    'SET enable_progress_bar_print = false',
  ]
}

/** A scratch DuckDB and how to close it. */
export interface ScratchDuckDB {
  readonly connection: DuckDBConnection
  /**
   * Another connection to the same database, for a query that runs beside the first connection's
   * (each connection runs one query at a time; temporary tables are the connection's own). Closed
   * by close().
   */
  connect(): Promise<DuckDBConnection>
  /** Closes DuckDB and removes `dir` (its staging and spill files). */
  close(): void
}

/**
 * An in-memory DuckDB with the scratch settings, spilling under `dir`, which it then owns: closing
 * it (or failing to open it) removes the directory.
 */
export async function openScratchDuckDB(dir: string): Promise<ScratchDuckDB> {
  let instance: DuckDBInstance | null = null
  let connections: DuckDBConnection[] = []
  const close = () => {
    for (const c of connections) c.closeSync()
    instance?.closeSync()
    connections = []
    instance = null
    removeScratchDir(dir)
  }
  const connect = async () => {
    if (instance === null) throw new Error('scratch DuckDB: connect after close')
    const opened = await instance.connect()
    connections.push(opened)
    return opened
  }
  try {
    instance = await DuckDBInstance.create(':memory:')
    const opened = await connect()
    for (const setting of scratchSettings(dir)) await opened.run(setting)
    return { connection: opened, connect, close }
  } catch (error) {
    close()
    throw error
  }
}

/** The `read_csv(...)` of a staging file whose columns have these DuckDB types (field name → type). */
export function stagedTable(stage: StagingFile, types: Readonly<Record<string, string>>): string {
  const columns = `{${stage.fields.map((f) => `'${f}': '${types[f] ?? 'VARCHAR'}'`).join(', ')}}`
  return `read_csv(${sqlString(stage.path)}, delim = '\\t', quote = '', escape = '', header = false, auto_detect = false, columns = ${columns})`
}

/** How often DuckDB's progress is passed on (ms). */
const PROGRESS_EVERY = 200

/** DuckDB's progress in a query, as both of its APIs report it. */
interface QueryProgress {
  percentage: number
  rows_processed: bigint
  total_rows_to_process: bigint
}

/**
 * Runs `work`, which waits for DuckDB (a sort or a group), telling `onProgress` meanwhile how far
 * DuckDB says it is: rows processed of the rows it expects to process.
 */
export function withQueryProgress<T>(
  connection: DuckDBConnection,
  onProgress: ((done: number, total: number) => void) | undefined,
  work: () => Promise<T>,
): Promise<T> {
  return polling(() => connection.progress, onProgress, work)
}

/** withQueryProgress for a connection of the low-level bindings. */
export function withSortProgress<T>(
  duckdb: DuckdbBindings,
  connection: Connection,
  onProgress: ((done: number, total: number) => void) | undefined,
  work: () => Promise<T>,
): Promise<T> {
  return polling(() => duckdb.query_progress(connection), onProgress, work)
}

async function polling<T>(
  progress: () => QueryProgress,
  onProgress: ((done: number, total: number) => void) | undefined,
  work: () => Promise<T>,
): Promise<T> {
  if (onProgress === undefined) return work()
  const timer = setInterval(() => {
    const p = progress()
    if (p.percentage >= 0 && p.total_rows_to_process > 0n)
      onProgress(Number(p.rows_processed), Number(p.total_rows_to_process))
  }, PROGRESS_EVERY)
  try {
    return await work()
  } finally {
    clearInterval(timer)
  }
}

/** The most DuckDB's share is raised to when a step runs out of it (withMoreMemory). */
const MEMORY_CEILING = 16 * 2 ** 30

/** The share each database was raised to (withMoreMemory), by the connection that raised it. */
const raised = new WeakMap<object, number>()

/**
 * Runs `work`, a step before any record is replayed or counted (loading the records, the sort of
 * them, the tables made of them), again with twice DuckDB's share each time it runs out of memory,
 * saying so, up to MEMORY_CEILING: DuckDB's sort of 10 M staged records was measured to need more
 * than the analyses' share (384 MB was too little, as was 192 MB for 1 M). `setMemory` runs the
 * SET on `connection`. The work must be safe to run again (it replaces what a failed run made).
 */
export async function withMoreMemory<T>(
  connection: object,
  work: () => Promise<T>,
  setMemory: (setting: string) => Promise<unknown>,
): Promise<T> {
  for (;;) {
    try {
      return await work()
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      const share = 2 * (raised.get(connection) ?? bytesOf(ANALYSIS_DUCKDB_MEMORY_LIMIT))
      if (!/out of memory/i.test(message) || share > MEMORY_CEILING) throw error
      raised.set(connection, share)
      const mb = Math.round(share / 2 ** 20)
      process.stderr.write(
        `flowlog: DuckDB needed more than its memory share for the records; trying again with ${mb} MB (FLOWLOG_DUCKDB_MEMORY sets the share)\n`,
      )
      await setMemory(`SET memory_limit = '${mb}MB'`)
    }
  }
}

/** DuckDB's memory units (500MB, 1GB, 1.5GiB) in bytes; 512 MB when they cannot be read. */
function bytesOf(setting: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT])i?B$/i.exec(setting)
  if (m === null) return 512 * 2 ** 20
  return Number(m[1]) * 2 ** (10 * ' KMGT'.indexOf((m[2] ?? 'M').toUpperCase()))
}
