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
  /**
   * True when the column's text equals `value` (upper-cased first when `caseless`); `ascii` is
   * `value` as bytes, for cursors that compare in place.
   */
  textEquals(column: number, ascii: Uint8Array, caseless: boolean, value: string): boolean
  toRow(): FlowRow
}

/** Where copyField puts a field: raw bytes of the line, or text. */
export interface FieldSink {
  bytes(buf: Buffer, start: number, end: number): void
  text(text: string): void
}

/** Where copyColumns puts a line's fields: straight from the line's bytes, each its own column. */
export interface LineFieldsSink {
  lineFields(buf: Buffer, starts: Int32Array, ends: Int32Array, columns: readonly number[]): void
}

/** Node's Buffer has slice decoders without toString's argument checks; they are not in @types/node. */
/** A column's text as the schema spells it: mapped values (NHN's DROP) read as AWS's (REJECT). */
export function mappedText(schema: FileSchema, column: number, text: string): string {
  const map = schema.valueMaps[column]
  return map == null ? text : (map.get(text) ?? text)
}

/** `textEquals` through `text()`, for a cursor (or a column) with no bytes to compare in place. */
export function textEqualsByText(
  cursor: RecordCursor,
  column: number,
  caseless: boolean,
  value: string,
): boolean {
  const t = cursor.text(column)
  return t !== null && (caseless ? t.toUpperCase() : t) === value
}

interface Slicing {
  utf8Slice(start: number, end: number): string
}
const EMPTY = Buffer.alloc(0)

/** A number from text (JSON strings, Parquet text columns); null for `-`, blanks and non-numbers. */
export function slowNumber(text: string): number | null {
  if (text === '-' || text.trim() === '') return null
  const n = Number(text)
  return Number.isFinite(n) ? n : null
}

/**
 * A line of a delimited file (AWS text: spaces; NHN CSV: commas), read straight from the bytes of
 * the decompressed file: the line is never decoded as a whole. Splitting records the fields' byte
 * offsets; numbers are parsed from the digits and text compared byte by byte, so a record that a
 * filter drops allocates nothing. Only kept records (toRow) and text a filter must see as a string
 * are decoded.
 */
export class LineCursor implements RecordCursor {
  schema: FileSchema
  buf: Buffer = EMPTY
  /** Byte offsets of the line in `buf` (end excludes the line break). */
  start = 0
  end = 0
  count = 0
  private starts = new Int32Array(64)
  private ends = new Int32Array(64)
  /** Fields already decoded, for CSV lines with quotes and lines split at runs of blanks (rare). */
  private values: string[] | null = null
  private readonly delimiter: number

  constructor(schema: FileSchema, delimiter: ' ' | ',') {
    this.schema = schema
    this.delimiter = delimiter.charCodeAt(0)
  }

  /** Splits the line buf[start, end) into fields; the caller compares `count` with the schema's width. */
  load(buf: Buffer, start: number, end: number): void {
    this.scan(buf, start, end)
  }

  /**
   * Splits the line that starts at `start` and runs to the next line break (or `limit`), finding
   * the line's end and its fields in one pass over the bytes. Returns the offset of the line break.
   * The line ends before it, and before a carriage return in front of it.
   */
  scan(buf: Buffer, start: number, limit: number): number {
    this.buf = buf
    this.start = start
    this.values = null
    const d = this.delimiter
    let starts = this.starts
    let ends = this.ends
    let n = 0
    let fieldStart = start
    let quoted = false
    let i = start
    for (; i < limit; i++) {
      const b = buf[i]!
      if (b === d) {
        if (n + 1 >= starts.length) {
          this.grow()
          starts = this.starts
          ends = this.ends
        }
        starts[n] = fieldStart
        ends[n++] = i
        fieldStart = i + 1
      } else if (b === 10) break
      else if (b === 34) quoted = true
    }
    const end = i > start && buf[i - 1] === 13 ? i - 1 : i
    this.end = end
    starts[n] = fieldStart
    ends[n++] = end
    this.count = n
    if (quoted && d === 44) {
      this.values = splitQuotedCsv(this.line())
      this.count = this.values.length
    }
    return i
  }

  /**
   * Splits at runs of blanks instead of single spaces: AWS's own guide has a record with a doubled
   * space, and hand-edited files have tabs. Only tried when a line does not fit its header.
   */
  loadWords(): void {
    this.values = this.line().trim().split(/\s+/)
    this.count = this.values.length
  }

  /** The whole line as text (headers, messages). */
  line(): string {
    return (this.buf as unknown as Slicing).utf8Slice(this.start, this.end)
  }

  /** The fields as strings (for a header check on a line that does not fit the schema). */
  tokens(): string[] {
    if (this.values !== null) return this.values
    const out: string[] = []
    for (let i = 0; i < this.count; i++) out.push(this.slice(this.starts[i]!, this.ends[i]!))
    return out
  }

  private slice(s: number, e: number): string {
    return (this.buf as unknown as Slicing).utf8Slice(s, e)
  }

  text(column: number): string | null {
    let raw: string
    if (this.values !== null) raw = this.values[column] ?? ''
    else {
      const s = this.starts[column]!
      const e = this.ends[column]!
      if (e === s) return null
      if (e === s + 1 && this.buf[s] === 45) return null
      raw = this.slice(s, e)
    }
    if (raw === '' || raw === '-') return null
    return mappedText(this.schema, column, raw)
  }

  /**
   * True when the column's text is `ascii` (upper-case ASCII bytes when `caseless`), compared in
   * place. Columns whose values are mapped (NHN DROP) go through text().
   */
  textEquals(column: number, ascii: Uint8Array, caseless: boolean, value: string): boolean {
    if (this.values !== null || this.schema.valueMaps[column] != null)
      return textEqualsByText(this, column, caseless, value)
    const s = this.starts[column]!
    const length = this.ends[column]! - s
    if (length !== ascii.length) return false
    const buf = this.buf
    for (let i = 0; i < length; i++) {
      let b = buf[s + i]!
      if (caseless && b >= 97 && b <= 122) b -= 32
      if (b !== ascii[i]) return false
    }
    return true
  }

  /**
   * Hands the column to `out` as it is written in the file: bytes straight from the line, or text
   * where the line was decoded or the value is mapped; nothing for not applicable.
   */
  copyField(column: number, out: FieldSink): void {
    if (this.values !== null || this.schema.valueMaps[column] != null) {
      const t = this.text(column)
      if (t !== null) out.text(t)
      return
    }
    const s = this.starts[column]!
    const e = this.ends[column]!
    if (e === s || (e === s + 1 && this.buf[s] === 45)) return
    out.bytes(this.buf, s, e)
  }

  /**
   * Hands the columns to `out` in one call, each as copyField would (`digits` ones as copyDigits
   * would), when the line's bytes are all that takes: the line split in place, no column's values
   * mapped, and every `digits` column empty or 1 to 15 plain digits. False, with nothing handed,
   * otherwise (the caller copies those lines field by field). A reader that copies every record
   * pays one call a record, not several a field.
   */
  copyColumns(columns: readonly number[], digits: readonly boolean[], out: LineFieldsSink): boolean {
    if (this.values !== null) return false
    const { buf, starts, ends } = this
    const maps = this.schema.valueMaps
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!
      if (maps[c] != null) return false
      if (!digits[i]) continue
      const s = starts[c]!
      const e = ends[c]!
      if (e - s > 15) return false
      for (let k = s; k < e; k++) if (buf[k]! < 48 || buf[k]! > 57) return false
    }
    out.lineFields(buf, starts, ends, columns)
    return true
  }

  /**
   * Hands the column to `out` as its bytes when they are 1 to 15 plain digits, and says so: the
   * number that number() reads from them is exact, and they are its decimal digits (leading zeros
   * aside), so a reader of numbers gets the same value from either. False, with nothing handed, for
   * anything else (not applicable, signs, points, longer numbers, decoded lines).
   */
  copyDigits(column: number, out: FieldSink): boolean {
    if (this.values !== null) return false
    const s = this.starts[column]!
    const e = this.ends[column]!
    if (e === s || e - s > 15) return false
    const buf = this.buf
    for (let i = s; i < e; i++) if (buf[i]! < 48 || buf[i]! > 57) return false
    out.bytes(buf, s, e)
    return true
  }

  number(column: number): number | null {
    if (this.values !== null) {
      const v = this.values[column] ?? ''
      return v === '' ? null : slowNumber(v)
    }
    const s = this.starts[column]!
    const e = this.ends[column]!
    if (e === s) return null
    const buf = this.buf
    let n = 0
    for (let i = s; i < e; i++) {
      const d = buf[i]! - 48
      if (d < 0 || d > 9) return slowNumber(this.slice(s, e))
      n = n * 10 + d
    }
    return n
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
    return mappedText(this.schema, column, s)
  }

  textEquals(column: number, _ascii: Uint8Array, caseless: boolean, value: string): boolean {
    return textEqualsByText(this, column, caseless, value)
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

/**
 * A record overlaps [since, until) when it ends at or after `since` and starts before `until`. A file
 * without start or end times cannot be checked by record, only by its key.
 */
export function inTimeRange(cursor: RecordCursor, since: number, until: number): boolean {
  const { start, end } = cursor.schema
  const s = start >= 0 ? cursor.number(start) : null
  const e = end >= 0 ? cursor.number(end) : null
  const last = e ?? s
  const first = s ?? e
  if (last !== null && last < since) return false
  if (first !== null && first >= until) return false
  return true
}
