import { communityIdOfRow } from '../community-id/community-id.js'
import type { FlowRow } from './flow-row.js'
import { listSources } from './list-sources.js'
import { emptyStats, type ReadOptions, type ReadStats } from './read-options.js'
import { isParquet, type ScanSink, scanFiles } from './scan-files.js'
import type { SourceFile } from './source-file.js'

/**
 * Flow-log records from files, directories (recursively) and s3://bucket/prefix sources, in any
 * format flowlog writes or AWS/NHN deliver: AWS text of any version and field order (header line, or
 * `logFormat`), NHN CSV, JSONL and Parquet, gzip or not. Every row is keyed by AWS field names (see
 * FlowRow). `since`/`until` skip files by their key before opening them and drop records outside the
 * range. Bad lines are reported through `onBadLine` and counted in `stats`, never thrown; bad input
 * (a source that does not exist) throws InputError when iteration starts.
 *
 *   const reader = readFlows(['logs/'], { since })
 *   for await (const row of reader) ...
 *   reader.stats // { files, skippedFiles, rows, badLines, bytes }
 */
export interface FlowReader extends AsyncIterable<FlowRow> {
  /** Complete once iteration has finished. */
  readonly stats: ReadStats
  /** The same rows in arrays (one per block of input): fewer awaits for large reads. */
  batches(): AsyncGenerator<FlowRow[]>
  /**
   * When every source is a local Parquet file, the files, for a caller that reads them in its own
   * DuckDB query (an analysis sorting or grouping them there rather than taking them row by row);
   * null otherwise (standard input, object storage, other formats), and the caller iterates the
   * reader. Nothing is read or counted until the caller says it `begin`s.
   */
  parquetFiles(): Promise<ParquetFiles | null>
  /**
   * The records handed to `sink` as the reader reads them (a cursor each, before any row is made),
   * with the same formats, bad lines, time range and stats: for a caller that copies fields out
   * rather than keeping rows. Records go to the sink between the yields.
   */
  scan(sink: ScanSink): AsyncGenerator<void>
  /**
   * Another reader of the same sources and options that reports nothing (no bad lines, no
   * progress, stats of its own), for a caller that looks at the first records before it reads
   * them all; null when a source is standard input, which can be read only once.
   */
  sample(): FlowReader | null
}

/** Local Parquet files a caller scans itself (FlowReader.parquetFiles). */
export interface ParquetFiles {
  readonly files: readonly SourceFile[]
  /** Their local paths, in read order. */
  readonly paths: readonly string[]
  /** The read's options: the caller keeps to since/until and reports progress as the reader would. */
  readonly options: ReadOptions
  /**
   * Counts the files as read (and those pruned by their key) in the reader's stats, which it
   * returns: the caller adds the rows it reads within since/until to `rows`.
   */
  begin(): ReadStats
}

export function readFlows(sources: readonly string[], options: ReadOptions = {}): FlowReader {
  const stats = emptyStats()
  const batches = async function* (): AsyncGenerator<FlowRow[]> {
    const listing = await listSources(sources, options.since, options.until)
    stats.skippedFiles += listing.pruned
    let batch: FlowRow[] = []
    const withId = options.communityId === true
    const scan = scanFiles({
      files: listing.files,
      options,
      stats,
      sink: {
        bind: () => null,
        take: (cursor) => {
          const row = cursor.toRow()
          if (withId) row['community-id'] = communityIdOfRow(row)
          batch.push(row)
          return undefined
        },
      },
    })
    for await (const _ of scan) {
      if (batch.length > 0) {
        yield batch
        batch = []
      }
    }
  }
  const parquetFiles = async (): Promise<ParquetFiles | null> => {
    if (sources.some((s) => s === '-' || s.startsWith('s3://'))) return null
    const listing = await listSources(sources, options.since, options.until)
    const files = listing.files
    if (files.length === 0 || !files.every((f) => isParquet(f) && f.localPath !== null)) return null
    return {
      files,
      paths: files.map((f) => f.localPath ?? f.name),
      options,
      begin: () => {
        stats.skippedFiles += listing.pruned
        stats.files += files.length
        for (const f of files) stats.bytes += f.size
        return stats
      },
    }
  }
  const scan = async function* (sink: ScanSink): AsyncGenerator<void> {
    const listing = await listSources(sources, options.since, options.until)
    stats.skippedFiles += listing.pruned
    yield* scanFiles({ files: listing.files, options, stats, sink })
  }
  const sample = () => {
    if (sources.includes('-')) return null
    const { onBadLine: _lines, onProgress: _progress, ...quiet } = options
    return readFlows(sources, quiet)
  }
  return {
    stats,
    batches,
    parquetFiles,
    scan,
    sample,
    async *[Symbol.asyncIterator]() {
      for await (const batch of batches()) yield* batch
    },
  }
}
