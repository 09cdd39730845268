import { exportStampLength } from './cloudwatch-export.js'
import { bufferBlocks, loadWhole, streamBlocks } from './file-blocks.js'
import {
  AWS_DEFAULT_FIELDS,
  type FileSchema,
  familyOf,
  HEADERLESS_NHN_FIELDS,
  isFlowField,
  isHeader,
  objectSchema,
  schemaOf,
} from './file-schema.js'
import { logFormatNames } from './log-format-presets.js'
import { scanParquet } from './parquet-scan.js'
import type { ReadOptions, ReadStats } from './read-options.js'
import { inTimeRange, LineCursor, ObjectCursor, type RecordCursor } from './record-cursor.js'
import type { SourceFile } from './source-file.js'

/** A record test bound to one schema; null takes every record. */
export type RecordTest = ((cursor: RecordCursor) => boolean) | null

/** Where the scanner sends records. */
export interface ScanSink {
  /** Called when a file (or a format change inside one) starts: the test for its records. */
  bind(schema: FileSchema, file: SourceFile): RecordTest
  /** A record inside the time range that passed the test. Return false to end the scan. */
  take(cursor: RecordCursor, file: SourceFile): boolean | undefined
  /**
   * For Parquet files, the test as SQL over the file's own column names, so DuckDB filters before
   * any row reaches JavaScript; null when the test cannot be said in SQL (it then runs in JavaScript).
   */
  sqlFor?(schema: FileSchema, columnOf: (field: string) => SqlColumn | null): string | null
}

/** A Parquet column: its name in the file, and whether it holds numbers (compared without casts). */
export interface SqlColumn {
  name: string
  numeric: boolean
}

export interface ScanContext {
  files: readonly SourceFile[]
  options: ReadOptions
  stats: ReadStats
  sink: ScanSink
}

/** How many files are loaded (read and gunzipped on the thread pool) ahead of the one being parsed. */
const PREFETCH = 2
/** Progress is reported at most this often (ms). */
const PROGRESS_EVERY = 200

/**
 * Reads every file and hands each record to the sink. It yields after every block of lines so the
 * caller can pass results on (and wait for a slow pipe) between blocks; records go to the sink
 * synchronously inside a block. Bad lines are counted and reported, never thrown; a file that cannot
 * be read at all is reported as line 0 and skipped.
 */
export async function* scanFiles(context: ScanContext): AsyncGenerator<void> {
  const { files, options, stats } = context
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0)
  let bytesDone = 0
  let lastProgress = 0
  const progress = (force: boolean) => {
    if (options.onProgress === undefined) return
    const now = Date.now()
    if (!force && now - lastProgress < PROGRESS_EVERY) return
    lastProgress = now
    options.onProgress({
      files: files.length,
      filesDone: stats.files,
      bytes: totalBytes,
      bytesDone,
      rows: stats.rows,
    })
  }
  const loads: (Promise<Buffer> | null)[] = []
  const startLoad = (i: number) => {
    const file = files[i]
    if (file === undefined || loads[i] !== undefined || isParquet(file)) return
    const load = loadWhole(file)
    // A failed load is reported when its turn comes; until then it must not be an unhandled rejection.
    load?.catch(() => {})
    loads[i] = load
  }
  for (let i = 0; i < files.length; i++) {
    if (options.signal?.aborted) return
    for (let k = 0; k <= PREFETCH; k++) startLoad(i + k)
    const file = files[i]!
    const load = loads[i] ?? null
    loads[i] = null
    let stop = false
    if (isParquet(file)) {
      const failed = new Set<readonly SourceFile[]>()
      // A run of Parquet files is one DuckDB scan: DuckDB reads them on every core, in order.
      let j = i
      while (j + 1 < files.length && isParquet(files[j + 1]!)) j++
      const batch = files.slice(i, j + 1)
      stats.files += batch.length
      for (const f of batch) stats.bytes += f.size
      // One unreadable file fails a whole scan: then each file is scanned alone, to name it.
      const scans = [batch, ...(batch.length > 1 ? batch.map((f) => [f]) : [])]
      for (const [n, part] of scans.entries()) {
        if (n > 0 && scans[0] !== undefined && !failed.has(scans[0])) break
        let started = false
        try {
          for await (const more of scanParquet(part, context)) {
            started = true
            progress(false)
            yield
            if (!more) {
              stop = true
              break
            }
          }
        } catch (error) {
          if (started || part.length === 1) {
            badLine(
              context,
              part[0]!,
              0,
              `cannot read the file: ${error instanceof Error ? error.message : String(error)}`,
            )
          } else failed.add(part)
        }
        if (stop) break
      }
      for (const f of batch) bytesDone += f.size
      progress(true)
      if (stop) return
      i = j
      continue
    }
    stats.files++
    stats.bytes += file.size
    try {
      const blocks = load === null ? streamBlocks(await file.stream()) : bufferBlocks(await load)
      const parser = new LineParser(file, context)
      for await (const block of blocks) {
        const more = parser.block(block)
        progress(false)
        yield
        if (!more || options.signal?.aborted) {
          stop = true
          break
        }
      }
    } catch (error) {
      badLine(
        context,
        file,
        0,
        `cannot read the file: ${error instanceof Error ? error.message : String(error)}`,
      )
    }
    bytesDone += file.size
    progress(true)
    if (stop) return
  }
}

export function isParquet(file: SourceFile): boolean {
  return /\.parquet(?:\.gz)?$/i.test(file.key)
}

function badLine(context: ScanContext, file: SourceFile, line: number, reason: string): void {
  context.stats.badLines++
  context.options.onBadLine?.(file.name, line, reason)
}

/**
 * Lines of AWS text, NHN CSV or JSONL. The first line decides the format: `{` is JSONL, a header of
 * NHN names (or a .csv name) is CSV, anything else AWS text (its header line, or --log-format, or
 * AWS's default format for a headerless file whose lines have its 14 fields).
 */
class LineParser {
  private lineNo = 0
  /** The lines carry CloudWatch export timestamps in front of the records (cloudwatch-export.ts). */
  private exported = false
  private kind: 'unknown' | 'text' | 'csv' | 'jsonl' | 'bad' = 'unknown'
  private cursor: LineCursor | null = null
  private objects: ObjectCursor | null = null
  private objectNames: string[] = []
  private test: RecordTest = null
  private width = 0
  private header: Buffer | null = null
  private readonly since: number
  private readonly until: number
  private readonly timed: boolean

  constructor(
    private readonly file: SourceFile,
    private readonly context: ScanContext,
  ) {
    this.since = context.options.since ?? Number.NEGATIVE_INFINITY
    this.until = context.options.until ?? Number.POSITIVE_INFINITY
    this.timed = context.options.since !== undefined || context.options.until !== undefined
  }

  /** Parses one block of whole lines; false when the sink asked to stop. */
  block(buf: Buffer): boolean {
    // The common case, a delimited file past its first line: one pass finds lines and fields.
    if (this.delimitedKind()) return this.delimitedBlock(buf)
    let p = 0
    const n = buf.length
    while (p < n) {
      let q = buf.indexOf(10, p)
      if (q < 0) q = n
      let e = q
      if (e > p && buf[e - 1] === 13) e--
      const s = p
      p = q + 1
      this.lineNo++
      if (e === s) continue
      if (!this.line(buf, s, e)) return false
      // The first line decided a delimited format: the rest of the block takes the one-pass path.
      if (this.delimitedKind()) return this.delimitedBlock(buf.subarray(p))
    }
    return true
  }

  private delimitedBlock(buf: Buffer): boolean {
    const cursor = this.cursor!
    const n = buf.length
    let p = 0
    while (p < n) {
      const s = this.exported ? p + exportStampLength(buf, p, n) : p
      const q = cursor.scan(buf, s, n)
      p = q + 1
      this.lineNo++
      if (cursor.end === s) continue
      if (cursor.count === this.width && !this.isHeaderAgain(buf, s, cursor.end)) {
        if (!this.offer(cursor)) return false
      } else if (!this.delimited(buf, s, cursor.end)) return false
      // A format change inside the block (concatenated files) moves to the general path.
      if (!this.delimitedKind()) return this.block(buf.subarray(p))
    }
    return true
  }

  /** A method, not an inline test: the kind changes as lines are read, which narrowing cannot see. */
  private delimitedKind(): boolean {
    return this.kind === 'text' || this.kind === 'csv'
  }

  private isHeaderAgain(buf: Buffer, s: number, e: number): boolean {
    const header = this.header
    return header !== null && e - s === header.length && buf.compare(header, 0, header.length, s, e) === 0
  }

  private line(buf: Buffer, s: number, e: number): boolean {
    switch (this.kind) {
      case 'text':
      case 'csv':
        return this.delimited(buf, s, e)
      case 'jsonl':
        return this.json(buf.toString('utf8', s, e))
      case 'bad':
        return true
      default: {
        // A UTF-8 byte-order mark is not part of the first field name.
        const bom = buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf ? 3 : 0
        return this.first(buf, s + bom, e)
      }
    }
  }

  private first(buf: Buffer, start: number, e: number): boolean {
    const stamp = exportStampLength(buf, start, e)
    this.exported = stamp > 0
    const s = start + stamp
    const line = buf.toString('utf8', s, e)
    if (line.trimStart().startsWith('{')) {
      this.kind = 'jsonl'
      return this.json(line)
    }
    const csv = /\.csv(?:\.gz)?$/i.test(this.file.key) || (line.includes(',') && !/[ \t]/.test(line))
    this.kind = csv ? 'csv' : 'text'
    // Text fields are counted at runs of blanks: a tab-separated or hand-aligned file is read too.
    const tokens = csv ? line.split(',').map((t) => t.trim().replace(/^"|"$/g, '')) : line.trim().split(/\s+/)
    if (isHeader(tokens)) {
      this.use(schemaOf(tokens, familyOf(tokens), line))
      return true
    }
    const fallback = this.headerless(tokens.length)
    if (fallback === null) {
      this.kind = 'bad'
      badLine(
        this.context,
        this.file,
        this.lineNo,
        csv
          ? `no header row, and ${tokens.length} fields are none of NHN's lists (${[...HEADERLESS_NHN_FIELDS.keys()].join(', ')} fields): give --log-format`
          : `no header line, and ${tokens.length} fields are not AWS's default format: give --log-format`,
      )
      return true
    }
    this.use(fallback)
    return this.delimited(buf, s, e)
  }

  private headerless(fields: number): FileSchema | null {
    const format = this.context.options.logFormat
    if (format !== undefined) {
      const names = logFormatNames(format)
      return schemaOf(names, familyOf(names), null)
    }
    if (this.kind === 'text' && fields === AWS_DEFAULT_FIELDS.length)
      return schemaOf(AWS_DEFAULT_FIELDS, 'aws', null)
    const nhn = this.kind === 'csv' ? HEADERLESS_NHN_FIELDS.get(fields) : undefined
    if (nhn !== undefined) return schemaOf(nhn, 'nhn', null)
    return null
  }

  private use(schema: FileSchema): void {
    if (this.cursor === null) this.cursor = new LineCursor(schema, this.kind === 'csv' ? ',' : ' ')
    else this.cursor.schema = schema
    this.width = schema.columns.length
    this.header = schema.header === null ? null : Buffer.from(schema.header)
    this.test = this.context.sink.bind(schema, this.file)
  }

  private delimited(buf: Buffer, start: number, e: number): boolean {
    const cursor = this.cursor!
    const s = this.exported ? start + exportStampLength(buf, start, e) : start
    // Files concatenated with `cat` repeat their header line.
    if (this.isHeaderAgain(buf, s, e)) return true
    cursor.load(buf, s, e)
    if (cursor.count !== this.width && this.kind === 'text' && /\s\s|\t|^\s|\s$/.test(cursor.line()))
      cursor.loadWords()
    if (cursor.count !== this.width) {
      // A different header line (files of two formats concatenated) starts a new format.
      const tokens = cursor.tokens()
      if (isHeader(tokens)) {
        this.use(schemaOf(tokens, familyOf(tokens), cursor.line()))
        return true
      }
      badLine(
        this.context,
        this.file,
        this.lineNo,
        `${cursor.count} fields where the header has ${this.width}`,
      )
      return true
    }
    return this.offer(cursor)
  }

  private json(line: string): boolean {
    let record: unknown
    try {
      record = JSON.parse(line)
    } catch {
      badLine(this.context, this.file, this.lineNo, 'not a JSON object')
      return true
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      badLine(this.context, this.file, this.lineNo, 'not a JSON object')
      return true
    }
    const object = record as Record<string, unknown>
    if (this.objects === null || !sameKeys(object, this.objectNames)) {
      // A JSON file that is not flow records (a manifest beside the logs) matches nothing: a
      // record names two flow-log fields at least, or only flow-log fields.
      const keys = Object.keys(object)
      const known = keys.filter(isFlowField).length
      if (known < Math.min(2, keys.length) || known === 0) {
        badLine(this.context, this.file, this.lineNo, 'a JSON object that is not a flow-log record')
        return true
      }
      this.useObjects(object)
    }
    this.objects!.record = object
    return this.offer(this.objects!)
  }

  /** JSONL lines name their fields; a schema lists them plus every known field (absent ones read as null). */
  private useObjects(object: Record<string, unknown>): void {
    this.objectNames = Object.keys(object)
    const { schema, sourceNames } = objectSchema(this.objectNames)
    this.objects = new ObjectCursor(schema, sourceNames)
    this.test = this.context.sink.bind(schema, this.file)
  }

  private offer(cursor: RecordCursor): boolean {
    const { stats } = this.context
    if (this.timed && !inTimeRange(cursor, this.since, this.until)) return true
    stats.rows++
    if (this.test !== null && !this.test(cursor)) return true
    return this.context.sink.take(cursor, this.file) !== false
  }
}

function sameKeys(object: Record<string, unknown>, names: readonly string[]): boolean {
  let i = 0
  for (const key in object) {
    if (names[i] !== key) return false
    i++
  }
  return i === names.length
}
