import type { DuckDBConnection } from '@duckdb/node-api'

/**
 * The top rows of a ranking whose keys may have nearly as many values as there are records
 * (address pairs: 9.7 M of them in 10 M records), without grouping every record by its text keys.
 *
 * Grouping by two or more text columns is the costly part of such a ranking (the hash table holds
 * every distinct key, its text and all its totals). So the records are first grouped by one 64-bit
 * hash of the keys, with only an upper bound of the two measures that rank (`sum(abs(bytes))` for
 * `sum(bytes)`, `count(*)` for itself): about half the work. The hash groups whose bounds reach the
 * `limit`-th largest are the candidates; the ranking's own statement then runs on their records
 * only, and its rows are the ranking's rows when its last one ranks at least as high as that bound
 * (see rankByHashedKeys). Otherwise (hashes that collide, ties beyond the fetched groups, values
 * that are NULL where it decides) the statement runs on every record, as it would without this.
 */
export interface HashedRanking {
  /** The ranking's keys as SQL expressions, each determined by the record (no aggregate). */
  keys: readonly string[]
  /** The records ranked: a FROM clause with its WHERE, without the word FROM. */
  records: string
  /**
   * The two measures that decide the order (first, then second; both descending, NULLs last),
   * by their output column, with a SQL aggregate that is at least that measure over any subset
   * of the records it is over (sum(abs(x)) for sum(x), count(*) for count(*)).
   */
  measures: readonly [Measure, Measure]
}

export interface Measure {
  column: string
  bound: string
}

/**
 * Hash groups fetched beyond the limit: ties of the limit-th bound are candidates too, and those
 * after the fetched ones are unknown (then the statement runs on every record).
 */
const SLACK = 256
/** Above this limit the candidates would be too many to name in a statement: every record is ranked. */
export const MOST_HASHED_ROWS = 1024

/**
 * The rows of `statement` (the ranking, ORDER BY its measures then keys, LIMIT `limit`): given
 * `only`, a condition on the records, it must rank just those.
 *
 * Why the rows are the same: every key falls in one hash group, and the bound of a group is at
 * least the measures of each key in it, both at once. Let F be the bounds of the limit-th hash
 * group, and the candidates every group whose bounds are F or more (all of them fetched: the last
 * fetched is below F). A key outside them measures no more than its group's bounds, which are
 * below F; if the statement on the candidates' records gives `limit` rows, the last of them
 * measuring F or more, every key outside ranks after that last row, whatever the tie-breaks. And
 * each candidate key's totals are exact, since all its records are there.
 */
export async function rankByHashedKeys(
  connection: Pick<DuckDBConnection, 'runAndReadAll'>,
  ranking: HashedRanking,
  limit: number,
  statement: (only: string | null) => string,
): Promise<Record<string, unknown>[]> {
  const everything = async () => (await connection.runAndReadAll(statement(null))).getRowObjectsJS()
  if (limit > MOST_HASHED_ROWS) return everything()
  const hash = `hash(${ranking.keys.join(', ')})`
  const [first, second] = ranking.measures
  const fetch = limit + SLACK
  const groups = (
    await connection.runAndReadAll(
      `SELECT ${hash} AS h, ${first.bound} AS b1, ${second.bound} AS b2 FROM ${ranking.records}
      GROUP BY h ORDER BY b1 DESC NULLS LAST, b2 DESC NULLS LAST LIMIT ${fetch}`,
    )
  ).getRows()
  // Fewer groups than that: no record is left out, so the statement alone ranks them all.
  if (groups.length < fetch) return everything()
  // Bounds are sums of absolute values or counts: a NULL one ranks last, as -1 does.
  const bound = (g: readonly unknown[]): Bounds => [whole(g[1]) ?? -1n, whole(g[2]) ?? -1n]
  const floor = bound(groups[limit - 1] ?? [])
  if (floor[0] < 0n || floor[1] < 0n || compare(bound(groups[fetch - 1] ?? []), floor) >= 0) {
    return everything()
  }
  const candidates = groups.filter((g) => compare(bound(g), floor) >= 0)
  const only = `${hash} IN (${candidates.map((g) => `${String(g[0])}::UBIGINT`).join(', ')})`
  const rows = (await connection.runAndReadAll(statement(only))).getRowObjectsJS()
  const lowest = rows.length === limit ? rows[limit - 1] : undefined
  const measured = measures(lowest?.[first.column], lowest?.[second.column])
  if (measured === null || compare(measured, floor) < 0) return everything()
  return rows
}

type Bounds = readonly [bigint, bigint]

/** A row's two measures as integers; null when one is NULL (or not a whole number). */
function measures(a: unknown, b: unknown): Bounds | null {
  const x = whole(a)
  const y = whole(b)
  return x === null || y === null ? null : [x, y]
}

function whole(value: unknown): bigint | null {
  if (typeof value === 'bigint') return value
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value)
  return null
}

/** Which ranks first by the two measures, descending: > 0 when `a` does. */
function compare(a: Bounds, b: Bounds): number {
  if (a[0] !== b[0]) return a[0] > b[0] ? 1 : -1
  if (a[1] !== b[1]) return a[1] > b[1] ? 1 : -1
  return 0
}
