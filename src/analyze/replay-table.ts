import { join } from 'node:path'
import type { DuckDBConnection } from '@duckdb/node-api'
import type { NetworkConfig } from '../core/network.js'
import { DIRECTION } from '../core/verdict.js'
import type { CompiledPolicy } from '../policy/compile-policy.js'
import { canonicalIpv4Sql, evaluateSql, ipv4ValueSql } from '../policy/policy-sql.js'
import { sqlIdentifier, sqlString } from '../read/duckdb-connection.js'
import { CidrSet } from './address-scope.js'
import { type FlowTable, IS_REPLY, openFlowTable, type Tallies } from './detections/flow-table.js'
import type { Flow } from './flow.js'
import { flowChunks, numberChunks, numbersOf, replayColumns } from './flow-chunks.js'
import type { FlowRows } from './flow-row.js'
import { indexInterfaces } from './flow-view.js'
import { FlowPlacer } from './rejudge.js'
import { placedInOrder, type ReplayOptions, type ReplaySource } from './replay-order.js'
import { withMoreMemory, withQueryProgress } from './scratch-duckdb.js'
import {
  classify,
  GROUP_SQL,
  KEY_SQL,
  PLACED_KEY_SQL,
  type SingleRecords,
  singlesRelation,
} from './single-records.js'
import { placementSql } from './sql-placement.js'

/**
 * A replay's records in DuckDB, for an analysis that judges the records alone in their connection
 * in SQL (single-records.ts) and replays only the others. The records are read into detect's table
 * of normalised records (detections/flow-table.ts: local Parquet files as a view over DuckDB's
 * scan of them, any other source read by flowlog's reader and copied into staged Parquet parts
 * without a Flow being made), then placed in SQL where SQL can tell (sql-placement.ts), each
 * candidate judged by the policy (policy-sql.ts) and ranked as rankOf ranks it. The rest come
 * back a conversation group at a time, in replay order, and are placed and ranked in JavaScript
 * as the Parquet path places them (placedInOrder).
 *
 * When every accepted record names its rule (rule-id: flowlog's own records), audit reads the
 * rules they name rather than replaying: no record is single then. When few records can be single
 * (Survey.worthSplitting), every record is replayed: from this table, or null for local Parquet files,
 * which the caller sorts in its own scan of them.
 */
export async function replayTable(
  rows: FlowRows,
  network: NetworkConfig,
  policy: CompiledPolicy,
  options: ReplayOptions,
): Promise<ReplaySource | null> {
  // Rows that cannot be read twice are read once, here, whatever they hold.
  const counted = 'stats' in rows ? { ...rows.stats } : null
  const table = await openFlowTable(rows, new CidrSet([]), SURVEY_TALLIES)
  const db = table.connection
  try {
    const survey = await surveyOf(table)
    // Records that name a rule need the tables to tell whether audit reads them (namesRules).
    if (survey.named === 0 && !survey.worthSplitting) {
      // Local Parquet files are sorted faster by DuckDB's own scan of them (replay-order.ts),
      // and read again at no cost: that path then.
      if ('parquetFiles' in rows && (await rows.parquetFiles()) !== null) {
        table.close()
        // The files are counted as that scan reads them: not twice in the reader's stats.
        if (counted !== null) Object.assign(rows.stats, counted)
        return null
      }
      return replayEvery(table, network, policy, options)
    }
    const index = indexInterfaces(network)
    const place = placementSql(index)
    const record = {
      iface: 'iface',
      outbound: `place_direction = ${DIRECTION.EGRESS}`,
      protocol: 'protocol',
      dstport: 'coalesce(dstport, 0)',
      peer: `CASE WHEN place_direction = ${DIRECTION.EGRESS} THEN dst4 ELSE src4 END`,
    }
    const port = (c: string) => `(${c} IS NULL OR (${c} = trunc(${c}) AND ${c} BETWEEN 0 AND 65535))`
    const flags = `(tcp_flags IS NULL OR (tcp_flags = trunc(tcp_flags) AND tcp_flags BETWEEN 0 AND 2147483647))`
    const flagBits = 'CAST(tcp_flags AS BIGINT)'
    // rankOf (rejudge.ts): a rule id of the record's own direction opens, of the other answers.
    const ruleDirection = new Map<string, 'inbound' | 'outbound'>()
    for (const g of network.securityGroups) {
      for (const r of g.inbound) ruleDirection.set(r.id, 'inbound')
      for (const r of g.outbound) ruleDirection.set(r.id, 'outbound')
    }
    const idsOf = (direction: 'inbound' | 'outbound') =>
      [...ruleDirection].flatMap(([id, d]) => (d === direction ? [sqlString(id)] : []))
    // No record names a rule (survey.named): nor has a column saying so, nor a rank by it.
    const naming = survey.named > 0
    const named = (direction: 'inbound' | 'outbound', egress: number, other: number) => {
      const ids = idsOf(direction)
      return ids.length === 0 || !naming
        ? ''
        : `WHEN rule_id IN (${ids.join(', ')}) THEN CASE WHEN place_direction = ${DIRECTION.EGRESS} THEN ${egress} ELSE ${other} END`
    }
    const rank = `CASE
        WHEN protocol = 6 AND tcp_flags IS NOT NULL AND (${flagBits} & 18) = 2 THEN 0
        WHEN protocol = 6 AND tcp_flags IS NOT NULL AND (${flagBits} & 19) = 18 THEN 3
        ${named('inbound', 3, 0)} ${named('outbound', 0, 3)}
        WHEN ${IS_REPLY} THEN 3
        WHEN cause < 0 THEN 2
        WHEN place_direction = ${DIRECTION.EGRESS} THEN 1.5 ELSE 1 END`
    // The interface-view addresses are the packet's when the format has no pkt-srcaddr/pkt-dstaddr
    // (most): then their owners come with the packet addresses' join.
    const same = survey.apart === 0
    // Each distinct address once: its IPv4 value when it is IPv4 written as IPv4 (else NULL) and
    // the interface that owns it. Records take both by joins, far cheaper than a parse each; by
    // the text's 64-bit hash (h) when no two texts of the table share one, cheaper still than by
    // the text, and as exact: every address the records have is in the table.
    const statements = [
      `CREATE OR REPLACE TEMP TABLE addresses AS SELECT t, hash(t) AS h, CASE WHEN ${canonicalIpv4Sql('t')} THEN ${ipv4ValueSql('t')} END AS v,
          ${place.owner('t')} AS owner
        FROM (SELECT srcaddr AS t FROM flows UNION SELECT dstaddr FROM flows
          ${same ? '' : 'UNION SELECT if_srcaddr FROM flows UNION SELECT if_dstaddr FROM flows'})`,
      `CREATE OR REPLACE TEMP TABLE interface_ids AS SELECT * FROM (${place.interfaceIds ?? "SELECT '', -1 WHERE false"}) t(id, iface)`,
    ]
    // state: 0 no time, 1 no protocol (noAddresses), 2 an interface the config does not know,
    // 3 placed in SQL and a candidate for a single record, 4 left to JavaScript. Every record is
    // written to uncompressed Parquet files of the scratch directory (one a thread, which need not
    // take turns at one file: 0.1-0.25 s less at 10 M records), `placed` the view of them: each
    // later statement reads only its own columns, where a temporary table of millions of
    // records spills beyond DuckDB's memory and its scans read back whole blocks (the single
    // records' one scan at 10 M records: 3.5 s from a table, 2.8 s from the file). The columns are
    // as narrow as a candidate's values allow (an IPv4 address in 32 bits, a checked port in 16, a
    // rank in a float), which only candidates need. Of a candidate's two addresses only the remote
    // one's value (peer) is kept: every rule tests only that one, and the key is worked out here.
    const placedDir = join(table.scratch, 'placed')
    const own = options.singleColumns ?? {}
    const address = (hashed: boolean, alias: string, column: string) =>
      `LEFT JOIN addresses ${alias} ON ${hashed ? `${alias}.h = hash(f.${column})` : `${alias}.t = f.${column}`}`
    const placing = (hashed: boolean) => `COPY (
      WITH owned AS (SELECT f.*, s.v AS src4, d.v AS dst4, ids.iface AS id_iface,
          ${same ? 'd.owner' : 'od.owner'} AS owner_dst, ${same ? 's.owner' : 'os.owner'} AS owner_src,
          s.v IS NOT NULL AND d.v IS NOT NULL AND ${place.decidable} AS sql_placed
        FROM flows f ${address(hashed, 's', 'srcaddr')} ${address(hashed, 'd', 'dstaddr')}
          ${same ? '' : `${address(hashed, 'os', 'if_srcaddr')} ${address(hashed, 'od', 'if_dstaddr')}`}
          LEFT JOIN interface_ids ids ON ids.id = f.interface_id),
      sided AS (SELECT *, ${place.iface} AS iface FROM owned),
      stated AS (SELECT *, ${place.direction} AS place_direction,
          CASE WHEN start IS NULL THEN 0 WHEN protocol IS NULL THEN 1 WHEN NOT sql_placed THEN 4 WHEN iface < 0 THEN 2
            WHEN protocol IN (6, 17) AND ${port('srcport')} AND ${port('dstport')} AND ${flags} THEN 3 ELSE 4 END AS state
        FROM sided),
      judged AS (SELECT *, CASE WHEN state = 3 THEN ${evaluateSql(policy, record)} END AS cause, ${GROUP_SQL} AS grp,
          place_direction = ${DIRECTION.EGRESS} AS outbound, ${record.peer} AS peer FROM stated)
      SELECT seq, grp AS "group", CAST(state AS UTINYINT) AS state, CASE WHEN state = 3 THEN ${PLACED_KEY_SQL} END AS k,
        CAST(CASE WHEN state = 3 THEN peer END AS UINTEGER) AS peer, iface,
        CAST(place_direction AS UTINYINT) AS direction,
        CAST(CASE action WHEN 'ACCEPT' THEN 1 WHEN 'REJECT' THEN 2 ELSE 0 END AS UTINYINT) AS action,
        ${naming ? 'rule_id IS NOT NULL AS named,' : ''}
        CAST(CASE WHEN state = 3 THEN protocol END AS UTINYINT) AS protocol,
        CAST(CASE WHEN state = 3 THEN dstport END AS USMALLINT) AS dstport, packets, bytes, start,
        coalesce("end", start) AS last, cause, CAST(CASE WHEN state = 3 THEN ${rank} END AS FLOAT) AS rank
        ${Object.entries(own)
          .map(([name, sql]) => `, CASE WHEN state = 3 THEN ${sql} END AS ${sqlIdentifier(name)}`)
          .join('')}
      FROM judged) TO ${sqlString(placedDir)} (FORMAT parquet, COMPRESSION uncompressed, PER_THREAD_OUTPUT true, OVERWRITE true)`
    let split = false
    let namesRules = false
    const counts = { noTime: 0, noAddresses: 0, unknownInterface: 0, singles: 0, replayed: 0 }
    // Before any record is replayed: with more memory when DuckDB runs out (each statement
    // replaces what a failed run made).
    const prepare = () =>
      withQueryProgress(db, options.onSorting, async () => {
        for (const statement of statements) await db.run(statement)
        const [tables] = await numbersOf(db, 'SELECT count(*) = count(DISTINCT h) FROM addresses')
        await db.run(placing(options.addressJoin !== 'text' && tables?.[0] === 1))
        await db.run(
          `CREATE OR REPLACE TEMP VIEW placed AS SELECT * FROM read_parquet(${sqlString(join(placedDir, '*.parquet'))})`,
        )
        const [c] = await numbersOf(
          db,
          `SELECT ${[0, 1, 2, 3].map((s) => `CAST(count(*) FILTER (WHERE state = ${s}) AS DOUBLE)`).join(', ')},
          CAST(count(*) FILTER (WHERE state >= 3 AND NOT (packets = trunc(packets) AND bytes = trunc(bytes)
            AND abs(packets) < 9007199254740992 AND abs(bytes) < 9007199254740992)) AS DOUBLE),
          CAST(count(*) FILTER (WHERE state = 3 AND action = 1) AS DOUBLE),
          CAST(count(*) FILTER (WHERE state = 3 AND action = 1${naming ? ' AND NOT named' : ''}) AS DOUBLE),
          CAST(count(*) FILTER (WHERE state = 4 AND action = 1) AS DOUBLE)
        FROM placed`,
        )
        counts.noTime = c?.[0] ?? 0
        counts.noAddresses = c?.[1] ?? 0
        counts.unknownInterface = c?.[2] ?? 0
        namesRules = await everyAcceptedNamed(db, network, policy, {
          accepted: c?.[5] ?? 0,
          unnamed: c?.[6] ?? 0,
          left: c?.[7] ?? 0,
        })
        // Sums of whole numbers are the same in any order; of others, only in the replay's. A
        // source that names its rules is audited by them, not replayed.
        split = (c?.[4] ?? 0) === 0 && !namesRules && options.singles === true
        await classify(db, 'placed', split)
        const [n] = await numbersOf(
          db,
          `SELECT CAST(count(*) FILTER (WHERE single) AS DOUBLE), CAST(count(*) FILTER (WHERE state >= 3 AND NOT single) AS DOUBLE)
          FROM classified`,
        )
        counts.singles = n?.[0] ?? 0
        counts.replayed = n?.[1] ?? 0
      })
    await withMoreMemory(db, prepare, (setting) => db.run(setting))
    const rest = placedInOrder(
      {
        total: counts.replayed,
        conversations: () =>
          conversations(
            db,
            `SELECT ${replayColumns('f', ['c."group"'])} FROM flows f
              JOIN (SELECT seq, "group" FROM classified WHERE state >= 3 AND NOT single) c ON c.seq = f.seq
            ORDER BY c."group", f.start, f.seq`,
            options,
          ),
        close: () => {},
      },
      network,
      policy,
    )
    const singles: SingleRecords | null = split
      ? {
          count: counts.singles,
          relation: singlesRelation(Object.keys(own).map(sqlIdentifier)),
          numbers: (sql) => numberChunks(db, sql),
          records: (relation, extra) =>
            flowChunks(
              db,
              `SELECT ${replayColumns(
                'f',
                extra.map((e) => `s.${e}`),
              )} FROM flows f JOIN ${relation} s ON s.seq = f.seq`,
              extra.length,
              options,
            ),
        }
      : null
    return {
      get records() {
        return table.records
      },
      get placed() {
        return counts.singles + rest.placed
      },
      get skipped() {
        return {
          unknownInterface: counts.unknownInterface + rest.skipped.unknownInterface,
          noTime: counts.noTime + rest.skipped.noTime,
          noAddresses: counts.noAddresses + rest.skipped.noAddresses,
        }
      },
      index: rest.index,
      expected: counts.replayed,
      namesRules,
      singles,
      batches: () => rest.batches(),
      close: () => table.close(),
    }
  } catch (error) {
    table.close()
    throw error
  }
}

/**
 * ReplaySource.namesRules: every accepted record that is placed names its rule, and there is one.
 * `accepted` and `unnamed` count those SQL placed; `left` the accepted records left to JavaScript,
 * which are placed here to know (few: IPv6 and the like).
 */
async function everyAcceptedNamed(
  db: DuckDBConnection,
  network: NetworkConfig,
  policy: CompiledPolicy,
  sql: { accepted: number; unnamed: number; left: number },
): Promise<boolean> {
  if (sql.unnamed > 0) return false
  let accepted = sql.accepted
  if (sql.left > 0) {
    const placer = new FlowPlacer(network, policy)
    const sql = `SELECT ${replayColumns('f', [])} FROM flows f
      JOIN (SELECT seq FROM placed WHERE state = 4 AND action = 1) p ON p.seq = f.seq`
    for await (const { flows } of flowChunks(db, sql, 0, {})) {
      for (const flow of flows) {
        if (placer.place(flow) === null) continue
        if (flow.ruleId === null) return false
        accepted++
      }
    }
  }
  return accepted > 0
}

/** What the count of the records and a scan of the first of them tell before any table is made. */
interface Survey {
  /** Records that name a rule. */
  named: number
  /** Records whose interface-view addresses are not their packet addresses. */
  apart: number
  /**
   * Whether enough records may be single for the split to pay for its tables (placing every
   * record in SQL costs about what replaying it does): an estimate of the records whose key
   * (single-records.ts) no other record has, from DuckDB's HyperLogLog count of the distinct keys
   * of the first SURVEYED records, d of n: if the others come in pairs, n - d of them are second
   * records of a pair, so about 2d - n are single. A quarter or more: split. The first records,
   * because a connection's records are near each other in a log, and a count of them all would
   * cost as much as finding the shared keys. (A guess either way changes the time, never the
   * answer.)
   */
  worthSplitting: boolean
}

/**
 * The survey's counts of every record, tallied in the flow table's count of them (openFlowTable).
 * Records without packet addresses have none apart from the interface's: no tally of them.
 */
const SURVEY_TALLIES: Tallies = ({ packetAddresses }) => ({
  named: 'rule_id IS NOT NULL',
  ...(packetAddresses
    ? { apart: 'if_srcaddr IS DISTINCT FROM srcaddr OR if_dstaddr IS DISTINCT FROM dstaddr' }
    : {}),
})

async function surveyOf(table: FlowTable): Promise<Survey> {
  const [k] = await numbersOf(
    table.connection,
    `SELECT CAST(count(*) AS DOUBLE), CAST(approx_count_distinct(${KEY_SQL}) AS DOUBLE)
      FROM (SELECT protocol, srcport, dstport, srcaddr, dstaddr FROM flows LIMIT ${SURVEYED})`,
  )
  const n = k?.[0] ?? 0
  const distinct = k?.[1] ?? 0
  const { named = 0, apart = 0 } = table.tallies
  return { named, apart, worthSplitting: n > 0 && 2 * distinct - n >= n / 4 }
}

/** How many records the survey's estimate of single records looks at. */
const SURVEYED = 1 << 20

/**
 * Every record replayed, straight from `flows` in conversation order, placed and ranked in
 * JavaScript as they come (placedInOrder): few of the records are single. No record names a rule
 * (the caller knows), so not every accepted one does (ReplaySource.namesRules).
 */
function replayEvery(
  table: FlowTable,
  network: NetworkConfig,
  policy: CompiledPolicy,
  options: ReplayOptions,
): ReplaySource {
  const db = table.connection
  const sql = `SELECT ${replayColumns('f', [GROUP_SQL])} FROM flows f ORDER BY ${GROUP_SQL}, f.start, f.seq`
  const rest = placedInOrder(
    { total: table.records, conversations: () => conversations(db, sql, options), close: () => {} },
    network,
    policy,
  )
  return {
    get records() {
      return table.records
    },
    get placed() {
      return rest.placed
    },
    get skipped() {
      return rest.skipped
    },
    index: rest.index,
    expected: table.records,
    namesRules: false,
    singles: null,
    batches: () => rest.batches(),
    close: () => table.close(),
  }
}

/** The records of `sql` (replayColumns with the group), as Flows with their group and read position. */
async function* conversations(
  db: DuckDBConnection,
  sql: string,
  options: ReplayOptions,
): AsyncGenerator<{ flows: Flow[]; groups: number[]; seqs: number[] }> {
  for await (const { flows, seqs, extra } of flowChunks(db, sql, 1, options)) {
    yield { flows, groups: Array.from(extra[0] ?? []), seqs }
  }
}
