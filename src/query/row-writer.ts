import { csvCell } from '../format/csv-cell.js'

/**
 * Results as a table, CSV, JSON Lines or one JSON array, written as they come (a table waits for its
 * first TABLE_SAMPLE rows to size its columns). Output is gathered into large writes, and `flush`
 * waits when the reader of a pipe is slower; when the pipe closes (`| head`), `closed` turns true and
 * the caller stops reading.
 */
export type OutputFormat = 'table' | 'csv' | 'jsonl' | 'json'
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'csv', 'jsonl', 'json']

export type Cell = string | number | bigint | boolean | null

const TABLE_SAMPLE = 1000
const WRITE_CHARS = 1 << 16

export class RowWriter {
  closed = false
  rows = 0
  private pending = ''
  private sample: Cell[][] | null = []
  private widths: number[] = []
  private numeric: boolean[] = []
  private drained: Promise<void> | null = null
  private readonly keys: string[]

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly format: OutputFormat,
    private readonly columns: readonly string[],
    /** Table headers (columns with a note such as the time zone); defaults to the column names. */
    private readonly headers: readonly string[] = columns,
  ) {
    this.keys = columns.map((c) => JSON.stringify(c))
    // A closed pipe (`| head`) is the reader saying it has seen enough, not a failure.
    out.on('error', () => {
      this.closed = true
    })
    if (format === 'csv') this.push(columns.map(csvCell).join(','))
    if (format === 'json') this.pending += '['
  }

  row(cells: readonly Cell[]): void {
    this.rows++
    switch (this.format) {
      case 'table':
        if (this.sample !== null) {
          this.sample.push([...cells])
          if (this.sample.length >= TABLE_SAMPLE) this.startTable()
        } else this.push(this.tableLine(cells))
        break
      case 'csv': {
        let line = ''
        for (let i = 0; i < cells.length; i++) {
          const v = cells[i]
          const text = v === null || v === undefined ? '' : typeof v === 'string' ? csvCell(v) : String(v)
          line += i === 0 ? text : `,${text}`
        }
        this.push(line)
        break
      }
      case 'jsonl':
        this.push(this.object(cells))
        break
      case 'json':
        this.pending += `${this.rows === 1 ? '\n' : ',\n'}${this.object(cells)}`
        if (this.pending.length >= WRITE_CHARS) this.write()
        break
    }
  }

  /** A record with its own keys (JSON Lines and JSON only: the other formats have fixed columns). */
  record(entries: readonly (readonly [string, Cell])[]): void {
    this.rows++
    let s = '{'
    for (let i = 0; i < entries.length; i++) {
      const [key, v] = entries[i]!
      s += `${i === 0 ? '' : ','}${JSON.stringify(key)}:${json(v)}`
    }
    s += '}'
    if (this.format === 'json') {
      this.pending += `${this.rows === 1 ? '\n' : ',\n'}${s}`
      if (this.pending.length >= WRITE_CHARS) this.write()
    } else this.push(s)
  }

  /** Waits until the output has taken what was written (between blocks of input). */
  async flush(): Promise<void> {
    this.write()
    if (this.drained !== null) await this.drained
  }

  async end(): Promise<void> {
    if (this.format === 'table') {
      if (this.sample !== null) this.startTable()
    } else if (this.format === 'json') this.pending += this.rows === 0 ? ']\n' : '\n]\n'
    await this.flush()
  }

  private object(cells: readonly Cell[]): string {
    let s = '{'
    for (let i = 0; i < cells.length; i++)
      s += `${i === 0 ? '' : ','}${this.keys[i]}:${json(cells[i] ?? null)}`
    return `${s}}`
  }

  private startTable(): void {
    const sample = this.sample ?? []
    this.sample = null
    this.widths = this.headers.map((h) => h.length)
    this.numeric = this.columns.map(() => true)
    for (const cells of sample) {
      cells.forEach((v, i) => {
        const text = show(v)
        if (text.length > (this.widths[i] ?? 0)) this.widths[i] = text.length
        if (v !== null && typeof v !== 'number' && typeof v !== 'bigint') this.numeric[i] = false
      })
    }
    this.push(
      this.headers
        .map((h, i) => h.padEnd(this.widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    for (const cells of sample) this.push(this.tableLine(cells))
  }

  private tableLine(cells: readonly Cell[]): string {
    let line = ''
    for (let i = 0; i < cells.length; i++) {
      const text = show(cells[i] ?? null)
      const width = this.widths[i] ?? 0
      const padded = this.numeric[i] ? text.padStart(width) : text.padEnd(width)
      line += i === 0 ? padded : `  ${padded}`
    }
    return line.trimEnd()
  }

  private push(line: string): void {
    this.pending += `${line}\n`
    if (this.pending.length >= WRITE_CHARS) this.write()
  }

  private write(): void {
    if (this.pending.length === 0 || this.closed) {
      this.pending = ''
      return
    }
    const ok = this.out.write(this.pending)
    this.pending = ''
    if (!ok && this.drained === null) {
      this.drained = new Promise((resolve) => {
        // Whichever comes first; the other listener goes too, or every slow write would leave a
        // 'close' listener behind (Node warns of a leak after ten).
        const done = () => {
          this.out.removeListener('drain', done)
          this.out.removeListener('close', done)
          this.drained = null
          resolve()
        }
        this.out.once('drain', done)
        this.out.once('close', done)
      })
    }
  }
}

function json(v: Cell): string {
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null'
  return String(v)
}

/** A table cell: `-` for not applicable, as in AWS text. */
function show(v: Cell): string {
  return v === null || v === undefined ? '-' : String(v)
}
