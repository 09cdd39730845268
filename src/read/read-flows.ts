import { communityIdOfRow } from '../community-id/community-id.js'
import type { FlowRow } from './flow-row.js'
import { listSources } from './list-sources.js'
import { emptyStats, type ReadOptions, type ReadStats } from './read-options.js'
import { scanFiles } from './scan-files.js'

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
  return {
    stats,
    batches,
    async *[Symbol.asyncIterator]() {
      for await (const batch of batches()) yield* batch
    },
  }
}
