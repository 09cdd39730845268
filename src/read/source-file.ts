import type { Readable } from 'node:stream'

/** One stored flow-log file, local or in object storage, not yet opened. */
export interface SourceFile {
  /** What messages show: a path, or s3://bucket/key. */
  readonly name: string
  /** The '/'-separated key or path that names its layout folders and time stamp (for pruning and format). */
  readonly key: string
  /** Stored size in bytes (compressed, as on disk or in the bucket). */
  readonly size: number
  /** The local path, when it is a local file (DuckDB reads those directly). */
  readonly localPath: string | null
  /** The stored bytes, whole. */
  read(): Promise<Buffer>
  /** The stored bytes as a stream, for files too big to hold. */
  stream(): Promise<Readable>
}
