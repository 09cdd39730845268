/**
 * One flow-log record as the reader (src/read, issue 5 part 1) hands it over: keyed by AWS field
 * names ('srcaddr', 'dstport', 'log-status', ...), NHN files mapped to those names, `-` read as null.
 *
 * INTERIM: a local stand-in until src/read exports its FlowRow; then this file re-exports theirs.
 * Analyses only read rows through `toFlow`, so the exact value types do not matter here.
 */
export type FlowRow = Readonly<Record<string, unknown>>
