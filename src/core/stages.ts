import type { FlowRecord, RecordBatch } from './flow-record.js'
import type { FlowLogSpec, NetworkConfig } from './network.js'

/** Everything a format needs besides the records. */
export interface FormatContext {
  flowLog: FlowLogSpec
  network: NetworkConfig
}

/** What a format needs to read a RecordBatch itself: `cause` indexes the compiled policy's rule list. */
export interface BatchFormatContext extends FormatContext {
  ruleIds: readonly string[]
}

/** Turns one window's records into the bytes of one file (before compression). */
export interface Formatter {
  /** File name extension without compression suffix: "log", "csv", "jsonl", "parquet". */
  readonly extension: string
  /** Text formats answer at once; binary ones built by a library (Parquet) may need a promise. */
  encode(records: readonly FlowRecord[], context: FormatContext): Uint8Array | Promise<Uint8Array>
  /**
   * Optional, preferred by the writer when present: the same bytes as `encode` of the records
   * `expandBatch` would make, read straight from the columns. `selection` lists the batch indexes
   * to write, in order; null writes every record. No object per record: on scan traffic (a record
   * per packet) building them cost more than formatting.
   */
  encodeBatch?(
    batch: RecordBatch,
    selection: Uint32Array | null,
    context: BatchFormatContext,
  ): Uint8Array | Promise<Uint8Array>
}

/** Where finished files go. Writes are atomic and idempotent: the same key overwrites. */
export interface Destination {
  /** A URL-like description for messages, without credentials. */
  readonly description: string
  put(key: string, body: Uint8Array): Promise<void>
  /** Where a key ends up, for summaries (a path or an s3:// URL). */
  locate(key: string): string
}
