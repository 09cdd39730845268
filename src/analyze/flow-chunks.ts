import type { DuckDBConnection } from '@duckdb/node-api'
import { duckdbBindings, sqlIdentifier } from '../read/duckdb-connection.js'
import { vectorStrings } from '../read/vector-strings.js'
import { vectorDoubles, vectorValidity } from '../read/vector-values.js'
import type { Flow } from './flow.js'
import type { ReplayOptions } from './replay-order.js'
import { withMoreMemory, withQueryProgress } from './scratch-duckdb.js'

/**
 * Records of detect's table of normalised records (`flows`, detections/flow-table.ts) back from
 * DuckDB as Flows, and numbers back as typed arrays, a chunk at a time: each column read in place
 * from DuckDB's chunk, no row object made (a replay reads millions).
 */

/** The text columns of `flows` a replay reads, then its number columns (all DOUBLE), in this order. */
const TEXTS = [
  'interface_id',
  'srcaddr',
  'dstaddr',
  'if_srcaddr',
  'if_dstaddr',
  'action',
  'direction',
  'rule_id',
] as const
const NUMBERS = ['srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end', 'tcp_flags'] as const

/**
 * The SELECT list flowChunks reads: TEXTS and NUMBERS of the records of `alias` (a `flows`), the
 * read position, then `extra` (SQL of numbers), every number cast to DOUBLE.
 */
export function replayColumns(alias: string, extra: readonly string[]): string {
  const col = (c: string) => `${alias}.${sqlIdentifier(c)}`
  const numbers = [...NUMBERS.map(col), col('seq'), ...extra].map((c) => `CAST(${c} AS DOUBLE)`)
  return [...TEXTS.map(col), ...numbers].join(', ')
}

/**
 * The records of `sql` (replayColumns with `extras` extra columns) as Flows, with their read
 * position and the extra columns, a chunk at a time: each column read in place from DuckDB's
 * chunk (strings decoded a vector at a time), no row object made. The query runs to its first
 * chunk with more memory when DuckDB runs out (a sort reads everything first).
 */
export async function* flowChunks(
  db: DuckDBConnection,
  sql: string,
  extras: number,
  options: ReplayOptions,
): AsyncGenerator<{ flows: Flow[]; seqs: number[]; extra: Float64Array[] }> {
  const duckdb = duckdbBindings()
  const result = await withMoreMemory(
    db,
    () =>
      withQueryProgress(db, options.onSorting, async () => {
        const stream = await db.stream(sql)
        return { stream, first: await stream.fetchChunk() }
      }),
    (setting) => db.run(setting),
  )
  const texts: (string | undefined)[][] = []
  const numbers: Float64Array[] = []
  const width = TEXTS.length + NUMBERS.length + 1 + extras
  for (
    let chunk = result.first;
    chunk !== null && chunk.rowCount > 0;
    chunk = await result.stream.fetchChunk()
  ) {
    const size = chunk.rowCount
    for (let c = 0; c < width; c++) {
      const vector = duckdb.data_chunk_get_vector(chunk.chunk, c)
      const validity = vectorValidity(duckdb, vector, size)
      if (c < TEXTS.length) {
        texts[c] = vectorStrings(duckdb, duckdb.vector_get_data(vector, size * 16), validity, size)
        continue
      }
      numbers[c - TEXTS.length] = vectorDoubles(duckdb, vector, validity, size)
    }
    const text = (c: number, row: number): string | null => texts[c]?.[row] ?? null
    const number = (c: number, row: number): number | null => {
      const v = numbers[c]?.[row] ?? Number.NaN
      return Number.isNaN(v) ? null : v
    }
    const flows: Flow[] = []
    const seqs: number[] = []
    for (let row = 0; row < size; row++) {
      const action = text(5, row)
      const direction = text(6, row)
      flows.push({
        interfaceId: text(0, row),
        instanceId: null,
        subnetId: null,
        vpcId: null,
        srcaddr: text(1, row),
        dstaddr: text(2, row),
        ifSrcaddr: text(3, row),
        ifDstaddr: text(4, row),
        srcport: number(0, row),
        dstport: number(1, row),
        protocol: number(2, row),
        packets: number(3, row) ?? 0,
        bytes: number(4, row) ?? 0,
        start: number(5, row),
        end: number(6, row),
        action: action === 'ACCEPT' || action === 'REJECT' ? action : null,
        logStatus: null,
        direction:
          direction === 'ingress' || direction === 'egress' || direction === 'unknown' ? direction : null,
        tcpFlags: number(7, row),
        ruleId: text(7, row),
        rejectReason: null,
      })
      seqs.push(number(8, row) ?? 0)
    }
    yield { flows, seqs, extra: numbers.slice(NUMBERS.length + 1, NUMBERS.length + 1 + extras) }
  }
}

/**
 * The rows of a query of numbers, a Float64Array a column (NULL: NaN), a chunk at a time. Every
 * column is cast to DOUBLE in SQL, so a chunk's vectors are copied whole, never read a value at a
 * time (a million rows of a dozen columns took seconds that way).
 */
export async function* numberChunks(db: DuckDBConnection, sql: string): AsyncIterable<Float64Array[]> {
  const duckdb = duckdbBindings()
  const result = await db.stream(`SELECT CAST(COLUMNS(*) AS DOUBLE) FROM (${sql})`)
  const width = result.columnCount
  for (
    let chunk = await result.fetchChunk();
    chunk !== null && chunk.rowCount > 0;
    chunk = await result.fetchChunk()
  ) {
    const size = chunk.rowCount
    const columns: Float64Array[] = []
    for (let c = 0; c < width; c++) {
      const vector = duckdb.data_chunk_get_vector(chunk.chunk, c)
      columns.push(vectorDoubles(duckdb, vector, vectorValidity(duckdb, vector, size), size))
    }
    yield columns
  }
}

/** The first row of a query of numbers. */
export async function numbersOf(db: DuckDBConnection, sql: string): Promise<Float64Array[]> {
  for await (const chunk of numberChunks(db, sql))
    return [Float64Array.from(chunk.map((c) => c[0] ?? Number.NaN))]
  return []
}
