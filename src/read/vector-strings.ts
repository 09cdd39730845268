import type { DuckdbBindings } from './duckdb-connection.js'

/** Node's Buffer has slice decoders without toString's argument checks; they are not in @types/node. */
interface Slicing {
  utf8Slice(start: number, end: number): string
}

/**
 * The strings of a DuckDB VARCHAR vector's `size` rows, from its data (duckdb_string_t, 16 bytes
 * each: a 32-bit length, then up to 12 bytes inline, or a 4-byte prefix and a pointer to the rest).
 * NULL rows (clear in `validity`) are left undefined: their bytes mean nothing.
 *
 * Inline strings are decoded in place. A longer one (an interface ID, most addresses) takes a call
 * into the native module to reach, which costs about a microsecond and a Buffer for the garbage
 * collector; but DuckDB writes the strings of a vector one after another, so a run of strings that
 * follow each other in memory comes in one call, for exactly the bytes of those strings. (A run is
 * checked from the pointers themselves: nothing outside the strings is ever read.)
 */
export function vectorStrings(
  duckdb: DuckdbBindings,
  data: Uint8Array,
  validity: Uint8Array | null,
  size: number,
): (string | undefined)[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const inline = data as unknown as Slicing
  const strings = new Array<string | undefined>(size)
  // The long strings of the run being gathered: their rows, and where the run starts and ends.
  const run: number[] = []
  let runStart = 0
  let runEnd = 0
  const fetchRun = () => {
    const bytes = duckdb.get_data_from_pointer(
      data.buffer as ArrayBuffer,
      data.byteOffset + run[0]! * 16 + 8,
      runEnd - runStart,
    ) as unknown as Slicing
    let offset = 0
    for (const row of run) {
      const length = view.getUint32(row * 16, true)
      strings[row] = bytes.utf8Slice(offset, offset + length)
      offset += length
    }
    run.length = 0
  }
  for (let row = 0; row < size; row++) {
    if (validity !== null && ((validity[row >> 3]! >> (row & 7)) & 1) === 0) continue
    const at = row * 16
    const length = view.getUint32(at, true)
    if (length <= 12) {
      strings[row] = inline.utf8Slice(at + 4, at + 4 + length)
      continue
    }
    // x86-64 and arm64 addresses fit 48 bits: exact as a number.
    const address = view.getUint32(at + 12, true) * 4294967296 + view.getUint32(at + 8, true)
    if (run.length > 0 && address !== runEnd) fetchRun()
    if (run.length === 0) runStart = address
    run.push(row)
    runEnd = address + length
  }
  if (run.length > 0) fetchRun()
  return strings
}
