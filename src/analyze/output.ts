import { TimeFormat } from '../query/time-format.js'
/**
 * Tables the analysis commands print: aligned text for people, CSV and JSON for scripts. Times are
 * unix seconds in the data and readable UTC in every format, so a report reads the same in each.
 */

export type OutputFormat = 'table' | 'csv' | 'json'
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'csv', 'json']

export type CellValue = string | number | null

export interface Column {
  name: string
  /** time: unix seconds shown as ISO 8601 UTC; number: right-aligned. */
  kind: 'text' | 'number' | 'time'
}

export interface Table {
  columns: readonly Column[]
  rows: readonly Record<string, CellValue>[]
}

/**
 * The zone every time an analysis prints is written in (`--tz`). A property of the run, not of a
 * report: the command sets it once from its flags before anything is rendered (useOutputZone), so
 * tables, texts and JSON of report, detect, audit and what-if agree with query's.
 */
let outputClock = { zone: 'UTC', seconds: new TimeFormat('UTC', false), millis: new TimeFormat('UTC', false) }

export function useOutputZone(zone: string): void {
  outputClock = { zone, seconds: new TimeFormat(zone, false), millis: new TimeFormat(zone, false) }
}

/**
 * Unix seconds → ISO 8601 in the output zone: `2024-06-01T12:00:05Z` in UTC,
 * `2024-06-01T21:00:05+09:00` with --tz Asia/Seoul (milliseconds only when the value has them).
 */
export function isoTime(seconds: number): string {
  return Number.isInteger(seconds)
    ? outputClock.seconds.format(seconds, false)
    : outputClock.millis.format(seconds, true)
}

/** JSON keys that hold unix seconds in flowlog's documents (evidence, usage, changes, spans). */
const TIME_KEYS = new Set(['first', 'last', 'start', 'end'])

/**
 * A document for JSON output with its times as ISO 8601 strings in the output zone, the one time
 * representation of every command's JSON (query and report write times so too).
 */
export function withIsoTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withIsoTimes)
  if (value === null || typeof value !== 'object') return value
  // No prototype: a key such as "__proto__" (a rule id from a record, say) stays a key.
  const out: Record<string, unknown> = Object.create(null)
  for (const [key, v] of Object.entries(value)) {
    out[key] =
      TIME_KEYS.has(key) && typeof v === 'number' && Number.isFinite(v) ? isoTime(v) : withIsoTimes(v)
  }
  return out
}

/**
 * Bytes for people: `104 B`, `9.9 KiB`, `1.2 GiB` (powers of 1024, as `ls -h`). Tables and texts
 * only; CSV and JSON keep the number.
 */
export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let value = bytes
  let unit = 0
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} B` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`
}

/** Columns of byte counts, shown as humanBytes in tables. */
export function isBytesColumn(name: string): boolean {
  return name === 'bytes' || name.endsWith('_bytes') || name.endsWith('-bytes')
}

function cellText(column: Column, value: CellValue | undefined): string {
  if (value === null || value === undefined) return '-'
  if (column.kind === 'time' && typeof value === 'number') return isoTime(value)
  if (typeof value === 'number' && !Number.isInteger(value)) return String(Number(value.toFixed(3)))
  return String(value)
}

/** Aligned columns under a header; numbers right-aligned. An empty table says so. */
export function renderTable(table: Table): string {
  if (table.rows.length === 0) return '(no rows)\n'
  const widths = tableWidths(table)
  return `${tableHeader(table.columns, widths)}${tableLines(table, widths)}`
}

// A table too large to hold (a what-if's changes) is written in parts: its widths measured over
// every part first (tableWidths, growing `widths`), then the header and each part's lines.

/** Each column's width: its name's, or its widest cell's in `table` or in `widths` so far. */
export function tableWidths(table: Table, widths: readonly number[] = []): number[] {
  return table.columns.map((c, i) => {
    let width = Math.max(c.name.length, widths[i] ?? 0)
    for (const row of table.rows) width = Math.max(width, tableCell(c, row[c.name]).length)
    return width
  })
}

export function tableHeader(columns: readonly Column[], widths: readonly number[]): string {
  return alignedLine(
    columns,
    columns.map((c) => c.name),
    widths,
  )
}

/** The rows' lines, each ending in a line break. */
export function tableLines(table: Table, widths: readonly number[]): string {
  let out = ''
  for (const row of table.rows)
    out += alignedLine(
      table.columns,
      table.columns.map((c) => tableCell(c, row[c.name])),
      widths,
    )
  return out
}

/** A cell as a table shows it: byte counts in words for people (CSV and JSON keep the numbers). */
function tableCell(c: Column, v: CellValue | undefined): string {
  return c.kind === 'number' && typeof v === 'number' && isBytesColumn(c.name)
    ? humanBytes(v)
    : cellText(c, v)
}

function alignedLine(
  columns: readonly Column[],
  values: readonly string[],
  widths: readonly number[],
): string {
  const line = values
    .map((v, i) => {
      const width = widths[i] ?? 0
      return columns[i]?.kind === 'number' ? v.padStart(width) : v.padEnd(width)
    })
    .join('  ')
    .trimEnd()
  return `${line}\n`
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** RFC 4180 CSV with a header row; absent values are empty fields. */
export function renderCsv(table: Table): string {
  return `${csvHeader(table.columns)}${csvLines(table)}`
}

export function csvHeader(columns: readonly Column[]): string {
  return `${columns.map((c) => csvField(c.name)).join(',')}\n`
}

/** The rows' CSV lines, each ending in a line break (a large table is written in parts). */
export function csvLines(table: Table): string {
  let out = ''
  for (const row of table.rows) {
    const fields = table.columns.map((c) => {
      const v = row[c.name]
      return v === null || v === undefined ? '' : csvField(cellText(c, v))
    })
    out += `${fields.join(',')}\n`
  }
  return out
}

/** The rows as JSON objects, times as ISO strings. */
export function jsonRows(table: Table): Record<string, CellValue>[] {
  return table.rows.map((row) => {
    const out: Record<string, CellValue> = {}
    for (const c of table.columns) {
      const v = row[c.name] ?? null
      out[c.name] = c.kind === 'time' && typeof v === 'number' ? isoTime(v) : v
    }
    return out
  })
}

export function render(table: Table, format: OutputFormat): string {
  if (format === 'csv') return renderCsv(table)
  if (format === 'json') return `${JSON.stringify(jsonRows(table), null, 2)}\n`
  return renderTable(table)
}

/**
 * `JSON.stringify(withIsoTimes(value), null, 2)` in pieces, the same text byte for byte: a
 * what-if's changes or an audit's peers can be hundreds of megabytes as one string, and the
 * document with its times rewritten another copy. Objects are written member by member and arrays
 * element by element; an element that is an object (a change, a rule) is one piece, written by
 * JSON.stringify itself and indented to its depth, so what is held at once is one element.
 */
export function* jsonChunks(value: unknown, indent = ''): Generator<string> {
  if (value === null || typeof value !== 'object' || hasToJson(value)) {
    yield JSON.stringify(withIsoTimes(value)) ?? 'null'
    return
  }
  const inner = `${indent}  `
  if (Array.isArray(value)) {
    if (value.length === 0) {
      yield '[]'
      return
    }
    yield '['
    for (let i = 0; i < value.length; i++) yield elementText(value[i], i, inner)
    yield `\n${indent}]`
    return
  }
  let first = true
  for (const [key, v] of Object.entries(value)) {
    // As JSON.stringify: members with no JSON form are left out of an object.
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue
    yield memberHeadAt(key, first, inner.length >> 1)
    first = false
    if (TIME_KEYS.has(key) && typeof v === 'number' && Number.isFinite(v)) yield JSON.stringify(isoTime(v))
    else yield* jsonChunks(v, inner)
  }
  yield first ? '{}' : `\n${indent}}`
}

/**
 * jsonChunks of an object some of whose members are arrays that come in batches, an
 * AsyncIterable of arrays (a what-if's changes read from DuckDB a chunk at a time): the same text
 * as jsonChunks of the object with those arrays whole.
 */
export async function* jsonChunksStreamed(value: object): AsyncGenerator<string> {
  const inner = '  '
  let first = true
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue
    yield memberHeadAt(key, first, inner.length >> 1)
    first = false
    if (TIME_KEYS.has(key) && typeof v === 'number' && Number.isFinite(v)) {
      yield JSON.stringify(isoTime(v))
      continue
    }
    if (!isAsyncIterable(v)) {
      yield* jsonChunks(v, inner)
      continue
    }
    let i = 0
    for await (const batch of v) {
      if (!Array.isArray(batch))
        throw new Error(`jsonChunksStreamed: "${key}" gave a batch that is not an array`)
      for (const item of batch) yield `${i === 0 ? '[' : ''}${elementText(item, i++, inner + inner)}`
    }
    yield i === 0 ? '[]' : `\n${inner}]`
  }
  yield first ? '{}' : '\n}'
}

/** An array's element after its separator, indented to its depth (see jsonChunks). */
function elementText(item: unknown, i: number, inner: string): string {
  return `${i === 0 ? '' : ','}\n${inner}${indentedJson(item, inner)}`
}

/**
 * `JSON.stringify(withIsoTimes(value), null, 2)` with every line after the first indented by
 * `indent`, the same text byte for byte, written in one pass: a what-if writes hundreds of
 * thousands of changes, and copying each with its times rewritten, then stringifying it, then
 * re-indenting the text cost more than its replay. As JSON.stringify, what has no JSON form is
 * null in an array and left out of an object; as withIsoTimes, any object is its own entries.
 */
function indentedJson(value: unknown, indent: string): string {
  return jsonAt(value, indent.length >> 1)
}

/** indentedJson at a depth (of two spaces each): its indents and member heads are made once. */
function jsonAt(value: unknown, depth: number): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null'
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return 'null'
    return JSON.stringify(value)
  }
  const inner = depth + 1
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]'
    // No objects (an audit's 130,000 peers of a rule): JSON.stringify's text, indented, is the same
    // text (JSON escapes line breaks within strings) and five times faster.
    if (value.every((item) => item === null || typeof item !== 'object'))
      return JSON.stringify(value, null, 2).replaceAll('\n', `\n${indentOf(depth)}`)
    let text = '['
    for (let i = 0; i < value.length; i++)
      text += `${i === 0 ? '' : ','}\n${indentOf(inner)}${jsonAt(value[i], inner)}`
    return `${text}\n${indentOf(depth)}]`
  }
  let text = ''
  const object = value as Record<string, unknown>
  for (const key of Object.keys(object)) {
    const v = object[key]
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue
    const member =
      TIME_KEYS.has(key) && typeof v === 'number' && Number.isFinite(v) ? `"${isoTime(v)}"` : jsonAt(v, inner)
    text += memberHeadAt(key, text === '', inner) + member
  }
  return text === '' ? '{}' : `${text}\n${indentOf(depth)}}`
}

const INDENTS = Array.from({ length: 32 }, (_, depth) => '  '.repeat(depth))

function indentOf(depth: number): string {
  return INDENTS[depth] ?? '  '.repeat(depth)
}

/**
 * A member's head (`,\n    "key": `), per depth and key, remembered: a document repeats a few
 * keys hundreds of thousands of times. Keys that are data (peers, rule ids) are many: only the
 * first few thousand of a depth are kept.
 */
const memberHeads = INDENTS.map(() => new Map<string, [string, string]>())

function memberHeadAt(key: string, first: boolean, depth: number): string {
  const heads = memberHeads[depth]
  let head = heads?.get(key)
  if (head === undefined) {
    const quoted = JSON.stringify(key)
    head = [`{\n${indentOf(depth)}${quoted}: `, `,\n${indentOf(depth)}${quoted}: `]
    if (heads !== undefined && heads.size < 4096) heads.set(key, head)
  }
  return first ? head[0] : head[1]
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value
}

function hasToJson(value: object): boolean {
  return typeof (value as { toJSON?: unknown }).toJSON === 'function'
}
