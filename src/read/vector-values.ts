import { type DuckDBDataChunk, type DuckDBType, DuckDBTypeId } from '@duckdb/node-api'
import type { DuckdbBindings } from './duckdb-connection.js'
import { vectorStrings } from './vector-strings.js'

/**
 * The values of column `c` of a chunk, as getColumnValues gives them (NULL as null), read in place
 * for the types a large result is made of: VARCHAR (vectorStrings), DOUBLE and INTEGER (the
 * vector's memory as a typed array). getColumnValues goes value by value through the native
 * module: a what-if's 589,000 changed flows took 1.2 s to read that way. Other types: null, for
 * the caller's getColumnValues.
 */
export function vectorValues(
  duckdb: DuckdbBindings,
  chunk: DuckDBDataChunk,
  c: number,
  type: DuckDBType | undefined,
): readonly (string | number | null)[] | null {
  const size = chunk.rowCount
  const typeId = type?.typeId
  if (typeId !== DuckDBTypeId.VARCHAR && typeId !== DuckDBTypeId.DOUBLE && typeId !== DuckDBTypeId.INTEGER)
    return null
  const vector = duckdb.data_chunk_get_vector(chunk.chunk, c)
  const validity = vectorValidity(duckdb, vector, size)
  let values: (string | number | null | undefined)[]
  if (typeId === DuckDBTypeId.VARCHAR)
    values = vectorStrings(duckdb, duckdb.vector_get_data(vector, size * 16), validity, size)
  else if (typeId === DuckDBTypeId.DOUBLE) values = Array.from(vectorDoubles(duckdb, vector, validity, size))
  // A copy: the chunk's memory is DuckDB's, and a typed array needs its own alignment.
  else values = Array.from(new Int32Array(duckdb.vector_get_data(vector, size * 4).slice().buffer, 0, size))
  if (validity !== null)
    for (let row = 0; row < size; row++)
      if (((validity[row >> 3]! >> (row & 7)) & 1) === 0) values[row] = null
  return values as (string | number | null)[]
}

type Vector = ReturnType<DuckdbBindings['data_chunk_get_vector']>

/** A vector's validity mask (a bit a row, 0: NULL), or null when every row is valid. */
export function vectorValidity(duckdb: DuckdbBindings, vector: Vector, size: number): Uint8Array | null {
  return (duckdb.vector_get_validity(vector, Math.ceil(size / 64) * 8) as Uint8Array | null) ?? null
}

/** A DOUBLE vector's values, NULL as NaN. */
export function vectorDoubles(
  duckdb: DuckdbBindings,
  vector: Vector,
  validity: Uint8Array | null,
  size: number,
): Float64Array {
  // A copy: the chunk's memory is DuckDB's, and a Float64Array needs 8-byte alignment.
  const values = new Float64Array(duckdb.vector_get_data(vector, size * 8).slice().buffer, 0, size)
  if (validity !== null)
    for (let row = 0; row < size; row++)
      if (((validity[row >> 3]! >> (row & 7)) & 1) === 0) values[row] = Number.NaN
  return values
}
