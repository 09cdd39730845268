import type { FlowRow } from './flow-row.js'
import { readFlows } from './interim-read.js'

/**
 * Where the analysis commands get their records: the one place that calls the reader, so swapping
 * the interim reader for src/read's `readFlows` (with its options) touches this file only.
 */
export interface SourceOptions {
  since?: number
  until?: number
}

export function flowRows(sources: readonly string[], _options: SourceOptions = {}): AsyncGenerator<FlowRow> {
  return readFlows(sources)
}
