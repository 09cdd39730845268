/**
 * One flow-log record as the reader hands it over (src/read): keyed by AWS field names, NHN files
 * mapped to them, null where the file says "not applicable". Analyses read rows through `toFlow`.
 */
export type { FlowRow } from '../read/index.js'
