/**
 * The reader's public API: what report, detect, audit and what-if build on. Import from here; the
 * other files in src/read are its parts and may change.
 */
export { communityIdOfRow } from '../community-id/community-id.js'
export type { FlowRow, FlowValue, ValueKind } from './flow-row.js'
export { columnName, KNOWN_FIELDS, kindOf, NHN_TO_AWS } from './flow-row.js'
export type { FlowReader, ParquetFiles } from './read-flows.js'
export { readFlows } from './read-flows.js'
export type { ReadOptions, ReadProgress, ReadStats } from './read-options.js'
