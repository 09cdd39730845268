import type { DataChunk } from '@duckdb/node-bindings'
import { type DuckdbBindings, sqlIdentifier } from './duckdb-connection.js'
import type { FileSchema } from './file-schema.js'
import type { FlowRow, FlowValue } from './flow-row.js'
import { mappedText, type RecordCursor, slowNumber, textEqualsByText } from './record-cursor.js'
import { vectorStrings } from './vector-strings.js'

/**
 * How a result column is read: integers that fit 32 bits, other integers that fit 64, floating
 * point and decimals as doubles, and everything else (text, 128-bit integers, timestamps, booleans,
 * nested types) as text.
 */
export type ColumnKind = 'integer' | 'bigint' | 'double' | 'text'

/** The SQL type and type id (duckdb.h's duckdb_type) of each kind. */
const SQL_TYPES: Record<ColumnKind, [name: string, id: number]> = {
  integer: ['INTEGER', 4],
  bigint: ['BIGINT', 5],
  double: ['DOUBLE', 11],
  text: ['VARCHAR', 17],
}

/** Bytes per row in a vector of each kind (text: a 16-byte duckdb_string_t). */
const WIDTH: Record<ColumnKind, number> = { integer: 4, bigint: 8, double: 8, text: 16 }

/** The kind a column of DuckDB type `type` (a duckdb_type id) is read as. */
export function kindOf(type: number): ColumnKind {
  switch (type) {
    case 2: // TINYINT
    case 3: // SMALLINT
    case 4: // INTEGER
    case 6: // UTINYINT
    case 7: // USMALLINT
      return 'integer'
    case 5: // BIGINT
    case 8: // UINTEGER
      return 'bigint'
    case 10: // FLOAT
    case 11: // DOUBLE
    case 19: // DECIMAL
      return 'double'
    default:
      return 'text'
  }
}

/** The column cast to its kind's SQL type (where it is not that type already), keeping its name. */
export function castSql(name: string, type: number): string {
  const [sqlType, id] = SQL_TYPES[kindOf(type)]
  const column = sqlIdentifier(name)
  return type === id ? column : `CAST(${column} AS ${sqlType}) AS ${column}`
}

/** One column of the chunk being read, in place in DuckDB's memory. */
interface ColumnVector {
  kind: ColumnKind
  /** The values (text: duckdb_string_t, 16 bytes each). */
  data: Uint8Array
  view: DataView
  /** Bit per row, set where the value is valid (not NULL); null when every row is. */
  validity: Uint8Array | null
  /** A text column's strings, decoded all at once when the chunk's first is asked for. */
  strings: (string | undefined)[] | null
}

const EMPTY = new Uint8Array(0)

/**
 * A row of a DuckDB result, read in place from the column vectors of its chunk (what the C API
 * hands over, up to 2048 rows at a time): no row object is made for a record a filter drops, and
 * only the cells a filter or toRow asks for are decoded. The query casts each column to its kind
 * (castSql). Column c of the schema is column c of the result for c below the result's width;
 * later schema columns (known fields the files lack) read as absent, as in ObjectCursor.
 */
export class ChunkCursor implements RecordCursor {
  readonly schema: FileSchema
  /** The row of the chunk being read. */
  row = 0
  /** The chunk being read: holding it keeps the memory the vectors point into alive. */
  chunk: DataChunk | null = null
  /** Its number of rows. */
  private size = 0
  private readonly vectors: ColumnVector[]

  constructor(
    private readonly duckdb: DuckdbBindings,
    schema: FileSchema,
    kinds: readonly ColumnKind[],
  ) {
    this.schema = schema
    this.vectors = kinds.map((kind) => ({
      kind,
      data: EMPTY,
      view: new DataView(EMPTY.buffer),
      validity: null,
      strings: null,
    }))
  }

  /** Points the cursor at a chunk; returns its number of rows. */
  load(chunk: DataChunk): number {
    const { duckdb } = this
    const size = duckdb.data_chunk_get_size(chunk)
    // The end of a result is a chunk without rows (and without columns).
    if (size === 0) return 0
    this.chunk = chunk
    this.size = size
    this.row = 0
    for (let c = 0; c < this.vectors.length; c++) {
      const v = this.vectors[c]!
      const vector = duckdb.data_chunk_get_vector(chunk, c)
      const data = duckdb.vector_get_data(vector, size * WIDTH[v.kind])
      v.data = data
      v.view = new DataView(data.buffer, data.byteOffset, data.byteLength)
      // Validity is a mask of 64-bit words, bit r of the mask for row r (little-endian bytes).
      v.validity = (duckdb.vector_get_validity(vector, Math.ceil(size / 64) * 8) as Uint8Array | null) ?? null
      v.strings = null
    }
    return size
  }

  /** The vector of schema column c when the row's value there is valid, else null. */
  private valid(column: number): ColumnVector | null {
    const v = this.vectors[column]
    if (v === undefined) return null
    const row = this.row
    if (v.validity !== null && ((v.validity[row >> 3]! >> (row & 7)) & 1) === 0) return null
    return v
  }

  /** The text of a (valid) row of a text column. */
  private string(v: ColumnVector): string {
    v.strings ??= vectorStrings(this.duckdb, v.data, v.validity, this.size)
    return v.strings[this.row]!
  }

  text(column: number): string | null {
    const v = this.valid(column)
    if (v === null) return null
    const at = this.row * 8
    let s: string
    switch (v.kind) {
      case 'text':
        s = this.string(v)
        if (s === '' || s === '-') return null
        break
      case 'integer':
        s = String(v.view.getInt32(this.row * 4, true))
        break
      case 'bigint': {
        const n = bigint(v.view, at)
        s = Number.isSafeInteger(n) ? String(n) : v.view.getBigInt64(at, true).toString()
        break
      }
      case 'double':
        s = String(v.view.getFloat64(at, true))
    }
    return mappedText(this.schema, column, s)
  }

  textEquals(column: number, _ascii: Uint8Array, caseless: boolean, value: string): boolean {
    return textEqualsByText(this, column, caseless, value)
  }

  number(column: number): number | null {
    const v = this.valid(column)
    if (v === null) return null
    switch (v.kind) {
      case 'integer':
        return v.view.getInt32(this.row * 4, true)
      case 'bigint':
        return bigint(v.view, this.row * 8)
      case 'double': {
        const n = v.view.getFloat64(this.row * 8, true)
        return Number.isFinite(n) ? n : null
      }
      case 'text':
        return slowNumber(this.string(v))
    }
  }

  toRow(): FlowRow {
    const { rowNames, numeric } = this.schema
    const row: FlowRow = {}
    const width = Math.min(rowNames.length, this.vectors.length)
    for (let c = 0; c < width; c++) {
      const value: FlowValue = numeric[c] ? this.number(c) : this.text(c)
      const names = rowNames[c]!
      for (let n = 0; n < names.length; n++) row[names[n]!] = value
    }
    return row
  }
}

/**
 * A 64-bit integer as a number, from its two 32-bit halves: exact up to 2^53, rounded beyond as
 * Number(BigInt) would be, without making a BigInt for every value.
 */
function bigint(view: DataView, at: number): number {
  return view.getInt32(at + 4, true) * 4294967296 + view.getUint32(at, true)
}
