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
  const validity = (duckdb.vector_get_validity(vector, Math.ceil(size / 64) * 8) as Uint8Array | null) ?? null
  let values: (string | number | null | undefined)[]
  if (typeId === DuckDBTypeId.VARCHAR)
    values = vectorStrings(duckdb, duckdb.vector_get_data(vector, size * 16), validity, size)
  else {
    // A copy: the chunk's memory is DuckDB's, and a typed array needs its own alignment.
    const width = typeId === DuckDBTypeId.DOUBLE ? 8 : 4
    const bytes = duckdb.vector_get_data(vector, size * width).slice().buffer
    values = Array.from(
      typeId === DuckDBTypeId.DOUBLE ? new Float64Array(bytes, 0, size) : new Int32Array(bytes, 0, size),
    )
  }
  if (validity !== null)
    for (let row = 0; row < size; row++)
      if (((validity[row >> 3]! >> (row & 7)) & 1) === 0) values[row] = null
  return values as (string | number | null)[]
}
