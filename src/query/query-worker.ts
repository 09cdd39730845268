import { parentPort, workerData } from 'node:worker_threads'
import { COMMUNITY_ID_FIELDS } from '../community-id/community-id.js'
import type { FlowRow } from '../read/flow-row.js'
import { localFile } from '../read/list-sources.js'
import { emptyStats, type ReadOptions, type ReadStats } from '../read/read-options.js'
import { scanFiles } from '../read/scan-files.js'
import { compileFilter } from './compile-filter.js'
import type { FilterNode } from './filter.js'

/**
 * One of the threads a parallel query reads files on (see parallel-query.ts): it reads the files it
 * is given, one at a time, and sends back the records its filter keeps, the file's counts and its
 * bad lines. Records cross threads by copying, which costs about as much as reading them; so when a
 * file keeps too many of its records the worker gives up on it (`tooMany`) and the main thread reads
 * it (and the rest) itself.
 */
export interface WorkerSetup {
  filter: FilterNode
  options: Pick<ReadOptions, 'since' | 'until' | 'logFormat'>
  /** Community ID fields to add to every row (community-id, community-id-elastic). */
  idFields: string[]
  countOnly: boolean
}

export interface WorkerTask {
  id: number
  path: string
  size: number
}

export interface WorkerResult {
  id: number
  rows: FlowRow[]
  matched: number
  stats: ReadStats
  bad: [line: number, reason: string][]
  tooMany: boolean
  /** The fields the file's records have (its schema's names). */
  fields: string[]
}

/** Copying is worth it for a few records: at most this many, or 2 % of the file's records. */
const FEW = 5000

const setup = workerData as WorkerSetup
const compiled = compileFilter(setup.filter)

parentPort?.on('message', async (task: WorkerTask) => {
  const stats = emptyStats()
  const bad: [number, string][] = []
  const rows: FlowRow[] = []
  let matched = 0
  let tooMany = false
  const fields = new Set<string>()
  const scan = scanFiles({
    files: [localFile(task.path, task.size)],
    options: { ...setup.options, onBadLine: (_file, line, reason) => bad.push([line, reason]) },
    stats,
    sink: {
      bind: (schema) => {
        for (const name of schema.index.keys()) fields.add(name)
        return compiled.bind(schema)
      },
      take: (cursor) => {
        matched++
        if (setup.countOnly) return undefined
        const row = cursor.toRow()
        for (const field of setup.idFields) row[field] = COMMUNITY_ID_FIELDS.get(field)?.(row) ?? null
        rows.push(row)
        if (rows.length > FEW && rows.length * 50 > stats.rows) {
          tooMany = true
          return false
        }
        return undefined
      },
    },
  })
  for await (const _ of scan) {
    // Records are collected as they are read.
  }
  const result: WorkerResult = {
    id: task.id,
    rows: tooMany ? [] : rows,
    matched,
    stats,
    bad,
    tooMany,
    fields: [...fields],
  }
  parentPort?.postMessage(result)
})
