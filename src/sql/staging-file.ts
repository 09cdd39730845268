import { closeSync, openSync, writeSync } from 'node:fs'
import type { FieldSink } from '../read/record-cursor.js'

/**
 * Records on their way into DuckDB, as a tab-separated file with no quoting: each field exactly as
 * the flow-log file wrote it, an empty field for "not applicable". Flow-log values hold no tabs or
 * line breaks (text files split at blanks); decoded text that does is cleaned first. Writing bytes
 * straight from the input lines keeps a record's trip into DuckDB to a few copies, where passing
 * values through the appender costs a native call per value.
 */
const CHUNK = 4 << 20

export class StagingFile implements FieldSink {
  rows = 0
  private readonly fd: number
  private buf = Buffer.allocUnsafe(CHUNK)
  private pos = 0
  private first = true

  constructor(
    readonly path: string,
    /** The FlowRow field each column holds. */
    readonly fields: readonly string[],
  ) {
    this.fd = openSync(path, 'w')
  }

  /** Starts the next field (the first of a row takes no separator). */
  next(): void {
    if (this.first) this.first = false
    else this.put(9)
  }

  endRow(): void {
    this.put(10)
    this.first = true
    this.rows++
    if (this.pos > CHUNK - 65536) this.flush()
  }

  bytes(buf: Buffer, start: number, end: number): void {
    const length = end - start
    if (this.pos + length > this.buf.length) this.flush(length)
    const target = this.buf
    let p = this.pos
    if (length < 32) for (let i = start; i < end; i++) target[p++] = buf[i]!
    else p += buf.copy(target, p, start, end)
    this.pos = p
  }

  text(text: string): void {
    const clean = /[\t\r\n]/.test(text) ? text.replace(/[\t\r\n]/g, ' ') : text
    const bound = 3 * clean.length
    if (this.pos + bound > this.buf.length) this.flush(bound)
    this.pos += this.buf.write(clean, this.pos, 'utf8')
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

  private put(byte: number): void {
    if (this.pos === this.buf.length) this.flush()
    this.buf[this.pos++] = byte
  }

  private flush(room = 0): void {
    if (this.pos > 0) writeSync(this.fd, this.buf, 0, this.pos)
    this.pos = 0
    if (room > this.buf.length) this.buf = Buffer.allocUnsafe(room)
  }
}
