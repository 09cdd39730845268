/** How to read flow-log sources (files, directories, s3:// prefixes). Every field is optional. */
export interface ReadOptions {
  /**
   * Unix seconds, inclusive: only records that end at or after it. Files and folders whose key says
   * they hold only earlier records are skipped before they are opened.
   */
  since?: number
  /** Unix seconds, exclusive: only records that start before it. Pruned by key like `since`. */
  until?: number
  /**
   * An AWS `${field}` format for text files that have no header line (for example files concatenated
   * or exported without one). Files with a header line always use their own.
   */
  logFormat?: string
  /** Add `community-id` to every row (Community ID v1 of its 5-tuple). Costs a SHA-1 per row. */
  communityId?: boolean
  /**
   * Called for every line that cannot be read (and for a file that cannot be read at all, with line 0).
   * Bad lines are counted in ReadStats and never stop the read.
   */
  onBadLine?(file: string, line: number, reason: string): void
  /** Called now and then during a read (about every 64 KiB of input and at the end of every file). */
  onProgress?(progress: ReadProgress): void
  /** Stops the read early (the iterator ends, no error). */
  signal?: AbortSignal
}

/** Where a read is: bytes are the sizes of the files as stored (compressed). */
export interface ReadProgress {
  files: number
  filesDone: number
  bytes: number
  bytesDone: number
  rows: number
}

/** What a read did, complete once the read has finished. */
export interface ReadStats {
  /** Files read (after pruning). */
  files: number
  /**
   * Files and folders skipped because their key lies outside since/until (never opened; a skipped
   * folder counts once, however many files it holds).
   */
  skippedFiles: number
  /** Rows read from the files (before any filter; after the since/until time check). */
  rows: number
  /** Lines that could not be read, each reported through onBadLine. */
  badLines: number
  /** Stored bytes of the files read. */
  bytes: number
}

export function emptyStats(): ReadStats {
  return { files: 0, skippedFiles: 0, rows: 0, badLines: 0, bytes: 0 }
}
