import type { FileSchema } from './file-schema.js'
import type { FlowRow, FlowValue } from './flow-row.js'

/**
 * The record being read, seen through its file's schema. Filters read single columns from it; only
 * the records they keep become FlowRow objects (toRow). A text cursor keeps the line and the offsets
 * of its fields, so a record that a filter drops costs one split and the few columns it looked at.
 */
export interface RecordCursor {
  readonly schema: FileSchema
  /** The column's text, null where not applicable (`-`, an empty cell, null). */
  text(column: number): string | null
  /** The column as a number; null where not applicable or not a number. */
  number(column: number): number | null
  toRow(): FlowRow
}

/**
 * Numbers without a per-field regex or slice: the common case (plain digits) is parsed in place.
 * `-` and an empty cell are null; anything else that is not a finite number is null as well.
 */
function parseNumber(line: string, start: number, end: number): number | null {
  if (end === start) return null
  let n = 0
  for (let i = start; i < end; i++) {
    const d = line.charCodeAt(i) - 48
    if (d < 0 || d > 9) return slowNumber(line.slice(start, end))
    n = n * 10 + d
  }
  return n
}

function slowNumber(text: string): number | null {
  if (text === '-' || text.trim() === '') return null
  const n = Number(text)
  return Number.isFinite(n) ? n : null
}

/** A line of a delimited file (AWS text: spaces; NHN CSV: commas), split once into field offsets. */
export class LineCursor implements RecordCursor {
  schema: FileSchema
  line = ''
  count = 0
  private starts = new Int32Array(64)
  private ends = new Int32Array(64)
  /** CSV lines with quotes are unquoted into values (rare: flowlog quotes only odd ids). */
  private values: string[] | null = null
  private readonly delimiter: number
  private readonly delimiterChar: string

  constructor(schema: FileSchema, delimiter: ' ' | ',') {
    this.schema = schema
    this.delimiterChar = delimiter
    this.delimiter = delimiter.charCodeAt(0)
  }

  /** Splits `line` into fields; the caller compares `count` with the schema's column count. */
  load(line: string): void {
    this.line = line
    this.values = null
    if (this.delimiter === 44 && line.includes('"')) {
      this.values = splitQuotedCsv(line)
      this.count = this.values.length
      return
    }
    const d = this.delimiterChar
    let n = 0
    let p = 0
    for (;;) {
      if (n === this.starts.length) this.grow()
      const q = line.indexOf(d, p)
      this.starts[n] = p
      if (q < 0) {
        this.ends[n++] = line.length
        break
      }
      this.ends[n++] = q
      p = q + 1
    }
    this.count = n
  }

  /**
   * Splits at runs of blanks instead of single spaces: AWS's own guide has a record with a doubled
   * space, and hand-edited files have tabs. Only tried when a line does not fit its header.
   */
  loadWords(line: string): void {
    this.line = line
    this.values = line.trim().split(/\s+/)
    this.count = this.values.length
  }

  /** The fields as strings (for a header check on a line that does not fit the schema). */
  tokens(): string[] {
    if (this.values !== null) return this.values
    const out: string[] = []
    for (let i = 0; i < this.count; i++) out.push(this.line.slice(this.starts[i], this.ends[i]))
    return out
  }

  text(column: number): string | null {
    let raw: string
    if (this.values !== null) raw = this.values[column] ?? ''
    else {
      const s = this.starts[column]!
      const e = this.ends[column]!
      if (e === s) return null
      if (e === s + 1 && this.line.charCodeAt(s) === 45) return null
      raw = this.line.slice(s, e)
    }
    if (raw === '' || raw === '-') return null
    const map = this.schema.valueMaps[column]
    return map == null ? raw : (map.get(raw) ?? raw)
  }

  number(column: number): number | null {
    if (this.values !== null) {
      const v = this.values[column] ?? ''
      return parseNumber(v, 0, v.length)
    }
    return parseNumber(this.line, this.starts[column]!, this.ends[column]!)
  }

  toRow(): FlowRow {
    const { rowNames, numeric } = this.schema
    const row: FlowRow = {}
    for (let c = 0; c < rowNames.length; c++) {
      const value: FlowValue = numeric[c] ? this.number(c) : this.text(c)
      for (const name of rowNames[c]!) row[name] = value
    }
    return row
  }

  private grow(): void {
    const starts = new Int32Array(this.starts.length * 2)
    starts.set(this.starts)
    this.starts = starts
    const ends = new Int32Array(this.ends.length * 2)
    ends.set(this.ends)
    this.ends = ends
  }
}

/** RFC 4180 fields of one line: quoted fields may hold commas and doubled quotes. */
export function splitQuotedCsv(line: string): string[] {
  const out: string[] = []
  let i = 0
  for (;;) {
    let value = ''
    if (line.charCodeAt(i) === 34) {
      i++
      for (;;) {
        const q = line.indexOf('"', i)
        if (q < 0) {
          value += line.slice(i)
          i = line.length
          break
        }
        value += line.slice(i, q)
        if (line.charCodeAt(q + 1) === 34) {
          value += '"'
          i = q + 2
        } else {
          i = q + 1
          break
        }
      }
      const comma = line.indexOf(',', i)
      if (comma < 0) {
        out.push(value)
        return out
      }
      out.push(value)
      i = comma + 1
    } else {
      const comma = line.indexOf(',', i)
      if (comma < 0) {
        out.push(line.slice(i))
        return out
      }
      out.push(line.slice(i, comma))
      i = comma + 1
    }
  }
}

/**
 * A record that is already an object (a JSONL line, a Parquet row), keyed by file names. Its schema
 * lists every field a filter could ask for, so columns are looked up by name once per schema.
 */
export class ObjectCursor implements RecordCursor {
  schema: FileSchema
  /** The record keyed by the schema's source names (names[c] for column c). */
  record: Record<string, unknown> = {}
  private readonly sourceNames: readonly string[]

  constructor(schema: FileSchema, sourceNames: readonly string[]) {
    this.schema = schema
    this.sourceNames = sourceNames
  }

  private raw(column: number): unknown {
    const name = this.sourceNames[column]
    return name === undefined ? undefined : this.record[name]
  }

  text(column: number): string | null {
    const v = this.raw(column)
    if (v === null || v === undefined || v === '' || v === '-') return null
    const s = typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : String(v)
    const map = this.schema.valueMaps[column]
    return map == null ? s : (map.get(s) ?? s)
  }

  number(column: number): number | null {
    const v = this.raw(column)
    if (typeof v === 'number') return Number.isFinite(v) ? v : null
    if (typeof v === 'bigint') return Number(v)
    if (typeof v === 'string') return slowNumber(v)
    return null
  }

  toRow(): FlowRow {
    const { rowNames, numeric } = this.schema
    const row: FlowRow = {}
    for (let c = 0; c < rowNames.length; c++) {
      if (this.raw(c) === undefined) continue
      const value: FlowValue = numeric[c] ? this.number(c) : this.text(c)
      for (const name of rowNames[c]!) row[name] = value
    }
    return row
  }
}
