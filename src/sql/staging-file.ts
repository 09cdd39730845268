import { closeSync, openSync, writeSync } from 'node:fs'
import type { FieldSink, LineFieldsSink } from '../read/record-cursor.js'

/**
 * Records on their way into DuckDB, as a tab-separated file with no quoting: each field exactly as
 * the flow-log file wrote it, an empty field for "not applicable". Flow-log values hold no tabs or
 * line breaks (text files split at blanks); decoded text that does is cleaned first. Writing bytes
 * straight from the input lines keeps a record's trip into DuckDB to a few copies, where passing
 * values through the appender costs a native call per value.
 *
 * It also notes, per column, whether some value is one DuckDB will surely read as non-NULL
 * (`valued`: the columns no record fills are then known without a query over every record), and
 * for number columns whether every value is plain digits that fit the type (`plain`: DuckDB can
 * then read the column as numbers, without casting text).
 */
const CHUNK = 4 << 20
/** Text up to this long is tried as ASCII, a character at a time. */
const SHORT = 64

export class StagingFile implements FieldSink, LineFieldsSink {
  rows = 0
  /** Per column: some record has a value DuckDB surely reads as non-NULL (see `digits`). */
  readonly valued: boolean[]
  /** Per number column: every value so far is empty or 1 to `digits` digits (false for text). */
  readonly plain: boolean[]
  private readonly fd: number
  private buf = Buffer.allocUnsafe(CHUNK)
  private pos = 0
  private written = 0
  /** The column being written, -1 before a row's first. */
  private column = -1

  constructor(
    readonly path: string,
    /** The FlowRow field each column holds. */
    readonly fields: readonly string[],
    /**
     * Per column: null for text (any non-empty value is a value); for a number column, the most
     * digits a value may have to surely fit its type (others may still be numbers: DuckDB decides).
     * All text when not given.
     */
    private readonly digits: readonly (number | null)[] = [],
  ) {
    this.fd = openSync(path, 'w')
    this.valued = fields.map(() => false)
    this.plain = fields.map((_, i) => typeof digits[i] === 'number')
  }

  /** Starts the next field (the first of a row takes no separator). */
  next(): void {
    if (++this.column > 0) this.put(9)
  }

  endRow(): void {
    this.put(10)
    this.column = -1
    this.rows++
    if (this.pos > CHUNK - 65536) this.flush()
  }

  bytes(buf: Buffer, start: number, end: number): void {
    const length = end - start
    if (this.plain[this.column] || !this.valued[this.column]) this.note(buf, start, end)
    if (this.pos + length > this.buf.length) this.flush(length)
    const target = this.buf
    let p = this.pos
    if (length < 32) for (let i = start; i < end; i++) target[p++] = buf[i]!
    else p += buf.copy(target, p, start, end)
    this.pos = p
  }

  /**
   * Fields of a line, buf[starts[c], ends[c]) for each c of `columns`, each its own column as
   * bytes() takes it, and nothing for `-` (not applicable): LineCursor.copyColumns hands them over
   * when they need no decoding.
   */
  lineFields(buf: Buffer, starts: Int32Array, ends: Int32Array, columns: readonly number[]): void {
    let room = columns.length
    for (let i = 0; i < columns.length; i++) room += ends[columns[i]!]! - starts[columns[i]!]!
    if (this.pos + room > this.buf.length) this.flush(room)
    const target = this.buf
    let p = this.pos
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!
      const s = starts[c]!
      const e = ends[c]!
      if (++this.column > 0) target[p++] = 9
      if (e === s + 1 && buf[s] === 45) continue
      if (this.plain[this.column] || !this.valued[this.column]) this.note(buf, s, e)
      for (let k = s; k < e; k++) target[p++] = buf[k]!
    }
    this.pos = p
  }

  text(text: string): void {
    // Short ASCII text (addresses, actions, ids: nearly every value) is copied a character at a
    // time, without the native UTF-8 encoder's call or the clean-up's regular expression.
    const length = text.length
    if (length <= SHORT) {
      if (this.pos + length > this.buf.length) this.flush(length)
      const target = this.buf
      const start = this.pos
      let p = start
      for (let i = 0; i < length; i++) {
        const c = text.charCodeAt(i)
        if (c >= 128 || c === 9 || c === 10 || c === 13) {
          p = -1
          break
        }
        target[p++] = c
      }
      if (p >= 0) {
        this.pos = p
        if (this.plain[this.column] || !this.valued[this.column]) this.note(target, start, p)
        return
      }
    }
    const clean = /[\t\r\n]/.test(text) ? text.replace(/[\t\r\n]/g, ' ') : text
    const bound = 3 * clean.length
    if (this.pos + bound > this.buf.length) this.flush(bound)
    const start = this.pos
    this.pos += this.buf.write(clean, this.pos, 'utf8')
    if (this.plain[this.column] || !this.valued[this.column]) this.note(this.buf, start, this.pos)
  }

  /** Bytes staged so far. */
  get size(): number {
    return this.written + this.pos
  }

  /** A number as String(n) writes it: non-negative integers digit by digit, without a string. */
  number(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n >= 1e15) {
      this.text(String(n))
      return
    }
    let digits = 1
    for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++
    if (this.pos + digits > this.buf.length) this.flush(digits)
    const target = this.buf
    let v = n
    for (let p = this.pos + digits - 1; p >= this.pos; p--) {
      const next = Math.floor(v / 10)
      target[p] = 48 + v - next * 10
      v = next
    }
    this.pos += digits
  }

  close(): void {
    this.flush()
    closeSync(this.fd)
  }

  /** Notes whether a value is a sure value and (number columns) plain digits. */
  private note(buf: Buffer, start: number, end: number): void {
    if (end === start) return
    const column = this.column
    const digits = this.digits[column]
    if (typeof digits !== 'number') {
      this.valued[column] = true
      return
    }
    let plain = end - start <= digits
    for (let i = start; plain && i < end; i++) plain = buf[i]! >= 48 && buf[i]! <= 57
    if (plain) this.valued[column] = true
    else this.plain[column] = false
  }

  private put(byte: number): void {
    if (this.pos === this.buf.length) this.flush()
    this.buf[this.pos++] = byte
  }

  private flush(room = 0): void {
    if (this.pos > 0) this.written += writeSync(this.fd, this.buf, 0, this.pos)
    this.pos = 0
    if (room > this.buf.length) this.buf = Buffer.allocUnsafe(room)
  }
}
