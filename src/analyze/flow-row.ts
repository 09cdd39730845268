import type { FlowReader, FlowRow } from '../read/index.js'

/**
 * One flow-log record as the reader hands it over (src/read): keyed by AWS field names, NHN files
 * mapped to them, null where the file says "not applicable". Analyses read rows through `toFlow`.
 */
export type { FlowRow } from '../read/index.js'

/**
 * What an analysis reads: rows (the API's and the tests'), or a reader, whose local Parquet files
 * or cursors the analysis may read in its own way.
 */
export type FlowRows = AsyncIterable<FlowRow> | Iterable<FlowRow> | FlowReader
