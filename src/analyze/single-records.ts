import type { DuckDBConnection } from '@duckdb/node-api'
import { DIRECTION } from '../core/verdict.js'
import type { Flow } from './flow.js'
import { numbersOf } from './flow-chunks.js'

/**
 * The records a replay need not replay: each the only record of its connection. A connection's
 * verdict is decided by its records alone (the replay's tables remember every connection), so the
 * only record of one is judged as new traffic by the rules, whatever else the input holds: the
 * policy's answer for it, which DuckDB works out for millions of records at once (policy-sql.ts)
 * while the JavaScript replay takes only the records that share a connection with another
 * (replay-table.ts).
 *
 * Which records those are is decided in SQL, conservatively (a record left to the replay is judged
 * there as before, so a doubt costs time, never a different answer). Over the placed
 * records with `state` (3: a candidate, placed in SQL: a TCP or UDP record whose addresses are
 * IPv4 written as IPv4, `src4` and `dst4` their values; 4: a record left to JavaScript, which
 * places it), `"group"` (conversationGroup) and `k` (a candidate's connection key, PLACED_KEY_SQL):
 * - a candidate's connection key is coarser than the replay's (no interface, the two ends
 *   unordered, only a 64-bit hash of the group and the two addresses' values), so the records of
 *   one connection always share it; a key two candidates share (or a hash collision) sends them to
 *   the replay. Records that are not candidates need no key: those the replay skips (no time, an
 *   unknown interface) open no connection, and those left to JavaScript send their whole group
 *   there (below);
 * - a conversation group with any record left to JavaScript goes to the replay whole: such a
 *   record (an IPv4-mapped address written as IPv6, say) may be of the same connection as a
 *   candidate without its key.
 */

/** conversationGroup (rejudge.ts) as SQL over the columns of `flows` (detections/flow-table.ts). */
export const GROUP_SQL = `CASE WHEN coalesce(protocol, 0) IN (6, 17)
    THEN (protocol * 65536 + least(coalesce(srcport, 0), coalesce(dstport, 0))) * 65536
      + greatest(coalesce(srcport, 0), coalesce(dstport, 0))
    ELSE coalesce(protocol, 0) * 4294967296 END`

/**
 * A record's connection key over the columns of `flows` (a candidate's texts are canonical IPv4):
 * for estimating how many records are single before any is placed (replay-table.ts).
 */
export const KEY_SQL = `hash(${GROUP_SQL}, least(srcaddr, dstaddr), greatest(srcaddr, dstaddr))`

/** A candidate's connection key, over its group (`grp`) and the values of its addresses. */
export const PLACED_KEY_SQL = 'hash(grp, least(src4, dst4), greatest(src4, dst4))'

/**
 * Makes the view `classified` over table `placed`: its columns and `single`. With `split` false,
 * no record is single (the replay takes them all). The keys more than one candidate has, and the
 * groups with a record left to JavaScript, are found first; the view looks up only the kinds there
 * are (neither when every connection has one record and every record is a candidate).
 */
export async function classify(db: DuckDBConnection, placed: string, split: boolean): Promise<void> {
  if (!split) {
    await db.run(`CREATE OR REPLACE TEMP VIEW classified AS SELECT *, false AS single FROM ${placed}`)
    return
  }
  await db.run(
    `CREATE OR REPLACE TEMP TABLE shared_keys AS SELECT k FROM ${placed} WHERE state = 3 GROUP BY k HAVING count(*) > 1`,
  )
  await db.run(
    `CREATE OR REPLACE TEMP TABLE mixed_groups AS SELECT DISTINCT "group" AS g FROM ${placed} WHERE state = 4`,
  )
  const [found] = await numbersOf(
    db,
    'SELECT (SELECT count(*) > 0 FROM shared_keys), (SELECT count(*) > 0 FROM mixed_groups)',
  )
  const shared = found?.[0] === 1
  const mixed = found?.[1] === 1
  await db.run(`CREATE OR REPLACE TEMP VIEW classified AS SELECT p.*,
      (p.state = 3${mixed ? ' AND x.g IS NULL' : ''}${shared ? ' AND s.k IS NULL' : ''}) AS single
    FROM ${placed} p ${mixed ? 'LEFT JOIN mixed_groups x ON x.g = p."group"' : ''}
      ${shared ? 'LEFT JOIN shared_keys s ON s.k = p.k' : ''}`)
}

/**
 * The single records, for an analysis to judge and count in SQL. The relation has one row a
 * record, with these columns: iface, outbound (BOOLEAN: egress; ingress and unknown are judged by
 * inbound rules), direction (DIRECTION's number), action (1 ACCEPT, 2 REJECT, 0 none), protocol,
 * dstport (NULL when the record has none), peer (the remote address's value: the destination's of
 * an egress record, else the source's, the one address a rule tests), packets, bytes, start,
 * last (its end, else its start), cause (the policy's answer: the accepting rule's index, or -1),
 * rank, seq (its replay order: rejudge.ts).
 */
export interface SingleRecords {
  /** How many records the relation holds. */
  readonly count: number
  /** The relation, to use in FROM. */
  readonly relation: string
  /**
   * Runs a statement whose columns are all numbers (NULL is NaN), and gives its rows a chunk at a
   * time: a Float64Array a column.
   */
  numbers(sql: string): AsyncIterable<Float64Array[]>
  /**
   * The records of `relation` (SQL of rows with `seq`: single records, say, with columns of
   * their own) as Flows, with their read position and the `extra` columns of `relation` (numbers),
   * a chunk at a time.
   */
  records(
    relation: string,
    extra: readonly string[],
  ): AsyncIterable<{ flows: Flow[]; seqs: number[]; extra: Float64Array[] }>
}

/** SingleRecords.relation, with the caller's own columns (ReplayOptions.singleColumns) named. */
export function singlesRelation(own: readonly string[]): string {
  return `(SELECT iface, direction = ${DIRECTION.EGRESS} AS outbound, direction, action, protocol, dstport, peer, packets, bytes, start, last,
    cause, rank, seq${own.map((name) => `, ${name}`).join('')} FROM classified WHERE single)`
}
