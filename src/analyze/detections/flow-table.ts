import { rmSync } from 'node:fs'
import { join } from 'node:path'
import type { DuckDBConnection } from '@duckdb/node-api'
import { makeScratchDir } from '../../ops/scratch-dirs.js'
import { type ColumnKind, kindOf } from '../../read/chunk-cursor.js'
import { duckdbBindings, sqlIdentifier, sqlString } from '../../read/duckdb-connection.js'
import { columnsOf, type FileSchema, objectSchema } from '../../read/file-schema.js'
import type { FlowReader, FlowRow, ParquetFiles } from '../../read/index.js'
import { LineCursor } from '../../read/record-cursor.js'
import { vectorValues } from '../../read/vector-values.js'
import { StagingFile } from '../../sql/staging-file.js'
import type { CidrSet } from '../address-scope.js'
import { ANALYSIS_FIELDS, type Flow, toFlow } from '../flow.js'
import type { FlowRows } from '../flow-row.js'
import { parquetInReadOrder } from '../parquet-own-scan.js'
import { openScratchDuckDB, stagedTable, withMoreMemory } from '../scratch-duckdb.js'

/**
 * The records detect looks at, in DuckDB: `flows`, one row per traffic record whose source is not
 * ignored, with the fields of a Flow (toFlow's normalisation: packet addresses, numbers or NULL,
 * ACCEPT/REJECT, ingress/egress/unknown) and `seq`, the record's place in read order. The
 * detections group and count there, where it spills beyond DuckDB's memory limit, and take back
 * into JavaScript only their candidates and the records of those (flowOf makes them Flows again).
 *
 * - Local Parquet files whose columns have the types flowlog writes are a view over DuckDB's own
 *   scan of them: toFlow's rules and the reader's --since/--until as SQL, no record in JavaScript.
 * - Other sources of the reader (text, CSV, JSONL, objects, standard input) are read by it, each
 *   record's fields copied as they stand (no row made) into staging parts that DuckDB writes as
 *   Parquet files, toFlow's rules applied, while the reader goes on (scannedRecords).
 * - Rows handed over as such (arrays, iterables: the tests), and Parquet files whose columns have
 *   other types, are made Flows by toFlow and staged as they are (stagedFlows).
 * Traffic or not (isTraffic) and ignoreSources are decided in SQL over all of them (trafficOf).
 */
const COLUMNS = {
  seq: 'BIGINT',
  interface_id: 'VARCHAR',
  srcaddr: 'VARCHAR',
  dstaddr: 'VARCHAR',
  if_srcaddr: 'VARCHAR',
  if_dstaddr: 'VARCHAR',
  srcport: 'DOUBLE',
  dstport: 'DOUBLE',
  protocol: 'DOUBLE',
  packets: 'DOUBLE',
  bytes: 'DOUBLE',
  start: 'DOUBLE',
  end: 'DOUBLE',
  action: 'VARCHAR',
  direction: 'VARCHAR',
  tcp_flags: 'DOUBLE',
  rule_id: 'VARCHAR',
} as const

/** Every column of `flows`, for a SELECT that makes Flows of its rows (flowOf). */
export const FLOW_COLUMNS = Object.keys(COLUMNS)
  .map((c) => sqlIdentifier(c))
  .join(', ')

/**
 * A request record (traffic-roles.ts isReply, as SQL): TCP flags first (SYN-ACK without FIN is an
 * answer, SYN without ACK an opener), then a rejected record is a request, then the lower port is
 * the service's. Flags are JavaScript's 32-bit integer of the value, as `&` takes it.
 */
const FLAGS = 'TRY_CAST(trunc(tcp_flags) AS BIGINT)'
export const IS_REPLY = `(CASE
  WHEN protocol = 6 AND tcp_flags IS NOT NULL AND (${FLAGS} & 19) = 18 THEN true
  WHEN protocol = 6 AND tcp_flags IS NOT NULL AND (${FLAGS} & 18) = 2 THEN false
  WHEN action = 'REJECT' THEN false
  ELSE coalesce(srcport, 0) > 0 AND coalesce(dstport, 0) > 0 AND coalesce(srcport, 0) < coalesce(dstport, 0)
END)`

/**
 * The port of a contact, as portLabel tells ports apart (with the protocol): the destination port
 * of the protocols that have ports (0 when missing), -1 for the others (the protocol alone says it;
 * a value, not NULL, so that it compares equal in joins).
 */
export const PORT_OF = 'CASE WHEN protocol IN (6, 17, 132) THEN coalesce(dstport, 0) ELSE -1 END'

/**
 * What decides which rule let a record in (RuleNamer.ruleOf): records alike in these columns are
 * named the same rule, so the rule is worked out once per group of them.
 */
export const RULE_INPUTS =
  'rule_id, interface_id, if_srcaddr, if_dstaddr, direction, srcaddr, dstaddr, protocol, dstport'

export interface FlowTable {
  readonly connection: DuckDBConnection
  /** Traffic records read, and those of them left out because their source is in ignoreSources. */
  readonly records: number
  readonly ignored: number
  /** The earliest and latest start of `flows` (null when none has one). */
  readonly starts: { first: number; last: number } | null
  /**
   * For each condition openFlowTable was given to tally (SQL over the columns of `flows`), how many
   * traffic records meet it, counted in the scan that counts the records (ignored sources too).
   */
  readonly tallies: Readonly<Record<string, number>>
  /**
   * Whether a record's srcaddr and dstaddr may differ from its if_srcaddr and if_dstaddr: the
   * records have packet addresses (pkt-srcaddr, pkt-dstaddr), or came as rows. When false they
   * are the same columns.
   */
  readonly packetAddresses: boolean
  /** A directory for the analysis's own files, removed when the table is closed. */
  readonly scratch: string
  /**
   * The same records over another connection, for detections that run beside those of this one
   * (DuckDB works on one's queries while JavaScript reads the other's results). Closed with this.
   */
  beside(): Promise<FlowTable>
  close(): void
}

/**
 * Conditions to tally in the count of the records (FlowTable.tallies): name → SQL over the columns
 * of `flows`, or made knowing whether the records have packet addresses (a tally of them is no
 * question when they do not).
 */
export type Tallies =
  | Readonly<Record<string, string>>
  | ((records: Pick<FlowTable, 'packetAddresses'>) => Readonly<Record<string, string>>)

export async function openFlowTable(
  rows: FlowRows,
  ignore: CidrSet,
  tally: Tallies = {},
): Promise<FlowTable> {
  // An analysis's scratch settings (scratch-duckdb.ts): its share of the memory, beyond which
  // groups spill to the directory. (256 MB did not hold the samples of detect's candidate contacts
  // at 10 M records: they are aggregates of text, held, a few scanners' worth.)
  const dir = makeScratchDir('flowlog-detect-')
  const { connection: db, connect, close } = await openScratchDuckDB(dir)
  try {
    let parquet: ParquetFiles | null = null
    // Rows staged one by one keep both pairs of addresses, whatever they hold.
    let shape: RecordsShape = { packetAddresses: true, present: [] }
    if (!('parquetFiles' in rows)) await stagedFlows(db, blocksOf(rows), dir)
    else {
      const files = await rows.parquetFiles()
      const view = files === null ? null : await parquetRecords(db, files)
      if (files === null) shape = await scannedRecords(db, rows, dir)
      else if (view !== null) {
        parquet = files
        shape = view
      } else {
        // Columns of other types than flowlog writes: the reader's conversions, row by row.
        const scan = await parquetInReadOrder(files, ANALYSIS_FIELDS)
        await stagedFlows(
          db,
          scan === null ? rows.batches() : closing(scan.batches(), () => scan.close()),
          dir,
        )
      }
    }
    const tallied = typeof tally === 'function' ? tally(shape) : tally
    const counts = await trafficOf(db, ignore, parquet, tallied, await presentAddresses(db, shape))
    const over = (connection: DuckDBConnection): FlowTable => ({
      connection,
      ...counts,
      packetAddresses: shape.packetAddresses,
      scratch: dir,
      beside: async () => over(await connect()),
      close,
    })
    return over(db)
  } catch (error) {
    close()
    throw error
  }
}

async function* closing<T>(items: AsyncGenerator<T>, close: () => void): AsyncGenerator<T> {
  try {
    yield* items
  } finally {
    close()
  }
}

async function* blocksOf(
  rows: AsyncIterable<FlowRow> | Iterable<FlowRow>,
): AsyncGenerator<readonly FlowRow[]> {
  if (Array.isArray(rows)) {
    yield rows
    return
  }
  for await (const row of rows) yield [row]
}

/**
 * What the records' columns tell before any record is counted: whether they have packet addresses
 * apart from the interface's (FlowTable.packetAddresses), and the Parquet columns that srcaddr and
 * dstaddr each read alone (`normalized`: written by flowlog's staging, '' and '-' already NULL),
 * whose statistics may show that every record has one (presentAddresses).
 */
interface RecordsShape {
  packetAddresses: boolean
  present: {
    address: 'srcaddr' | 'dstaddr'
    paths: readonly string[]
    column: string
    normalized: boolean
  }[]
}

/**
 * The addresses every record of `read_records` has, as the files' own statistics show it (no
 * record is read): each of its columns, in every row group of every file, without NULLs and, when
 * not normalized, with a least value above '-' (so neither '' nor '-', which read as NULL). An
 * address some of whose files say nothing of it (no statistics, no column) is not shown.
 */
async function presentAddresses(
  connection: DuckDBConnection,
  shape: RecordsShape,
): Promise<Set<'srcaddr' | 'dstaddr'>> {
  const shown = new Set<'srcaddr' | 'dstaddr'>()
  for (const address of ['srcaddr', 'dstaddr'] as const) {
    // The files that read it from a column of one name, alike, asked at once (text's parts).
    const reads = new Map<string, { paths: string[]; column: string; normalized: boolean }>()
    for (const p of shape.present) {
      if (p.address !== address) continue
      const key = `${p.column}\n${p.normalized}`
      const same = reads.get(key)
      if (same === undefined) reads.set(key, { ...p, paths: [...p.paths] })
      else same.paths.push(...p.paths)
    }
    if (reads.size === 0) continue
    let all = true
    for (const { paths, column, normalized } of reads.values()) {
      if (!all) break
      const shows = await connection
        .runAndReadAll(
          `SELECT count(DISTINCT (file_name, row_group_id)) > 0 AND count(DISTINCT (file_name, row_group_id))
              = count(DISTINCT (file_name, row_group_id)) FILTER (WHERE lower(path_in_schema) = lower(${sqlString(column)})
                AND stats_null_count = 0${normalized ? '' : " AND stats_min_value > '-'"})
            FROM parquet_metadata([${paths.map(sqlString).join(', ')}])`,
        )
        .then((r) => r.getRows()[0]?.[0] === true)
        .catch(() => false)
      all = shows
    }
    if (all) shown.add(address)
  }
  return shown
}

/** The columns of `read_records`: a Flow's, and the log status (traffic or not is decided in SQL). */
const RECORD_COLUMNS = { ...COLUMNS, log_status: 'VARCHAR' } as const

/**
 * From `read_records` (every record read), `flows`: the traffic records whose source is not
 * ignored; their counts. Parquet's rows are counted in the read's stats here (the reader counts
 * the others as it reads them).
 */
async function trafficOf(
  connection: DuckDBConnection,
  ignore: CidrSet,
  parquet: ParquetFiles | null,
  tally: Readonly<Record<string, string>>,
  present: ReadonlySet<'srcaddr' | 'dstaddr'>,
): Promise<Pick<FlowTable, 'records' | 'ignored' | 'starts' | 'tallies'>> {
  // isTraffic: not a NODATA/SKIPDATA line, and both addresses. An address the files show every
  // record to have (presentAddresses) is not tested: reading two columns of text to test them was
  // most of this count (0.35 s of 0.45 s at 10 M records).
  const traffic = [
    "(log_status IS NULL OR log_status = 'OK')",
    ...(['srcaddr', 'dstaddr'] as const).flatMap((a) => (present.has(a) ? [] : [`${a} IS NOT NULL`])),
  ].join(' AND ')
  const names = Object.keys(tally)
  const tallied = names.map(
    (name, i) => `, CAST(count(*) FILTER (WHERE ${traffic} AND (${tally[name]})) AS DOUBLE) AS tally_${i}`,
  )
  const [counted] = (
    await connection.runAndReadAll(
      `SELECT CAST(count(*) AS DOUBLE) AS rows, CAST(count(*) FILTER (WHERE ${traffic}) AS DOUBLE) AS records,
        min(start) FILTER (WHERE ${traffic}) AS first, max(start) FILTER (WHERE ${traffic}) AS last${tallied.join('')}
      FROM read_records`,
    )
  ).getRowObjects()
  const tallies = Object.fromEntries(names.map((name, i) => [name, Number(counted?.[`tally_${i}`] ?? 0)]))
  // When every record is traffic (the common case), the test is left out of `traffic`: each
  // detection's read of the records would otherwise work out the status and both addresses of
  // every record again, which costs as much as reading the columns it needs (DuckDB does not
  // remember that the test kept them all).
  const everyRecord = Number(counted?.rows ?? 0) === Number(counted?.records ?? 0)
  await connection.run(
    `CREATE VIEW traffic AS SELECT * EXCLUDE (log_status) FROM read_records${everyRecord ? '' : ` WHERE ${traffic}`}`,
  )
  if (parquet !== null) {
    const stats = parquet.begin()
    stats.rows += Number(counted?.rows ?? 0)
    parquet.options.onProgress?.({
      files: parquet.files.length,
      filesDone: parquet.files.length,
      bytes: stats.bytes,
      bytesDone: stats.bytes,
      rows: stats.rows,
    })
  }
  const records = Number(counted?.records ?? 0)
  const startsOf = (row: Record<string, unknown> | undefined) => {
    const first = numberOf(row?.first)
    const last = numberOf(row?.last)
    return first === null || last === null ? null : { first, last }
  }
  if (ignore.size === 0) {
    await connection.run('CREATE VIEW flows AS SELECT * FROM traffic')
    return { records, ignored: 0, starts: startsOf(counted), tallies }
  }
  // The distinct sources are tested in JavaScript (ignoreSources are CIDRs), once each. Not a
  // temporary table: `flows` names it, and other connections read `flows` too (beside).
  await connection.run('CREATE TABLE ignored_sources (addr VARCHAR)')
  const appender = await connection.createAppender('ignored_sources')
  for await (const chunk of rowsOf(connection, 'SELECT DISTINCT srcaddr FROM traffic'))
    for (const r of chunk) {
      const source = String(r.srcaddr)
      if (!ignore.has(source)) continue
      appender.appendVarchar(source)
      appender.endRow()
    }
  appender.closeSync()
  const [n] = (
    await connection.runAndReadAll(
      'SELECT CAST(count(*) AS DOUBLE) AS n FROM traffic WHERE srcaddr IN (SELECT addr FROM ignored_sources)',
    )
  ).getRowObjects()
  await connection.run(
    'CREATE VIEW flows AS SELECT * FROM traffic WHERE srcaddr NOT IN (SELECT addr FROM ignored_sources)',
  )
  const [starts] = (
    await connection.runAndReadAll('SELECT min(start) AS first, max(start) AS last FROM flows')
  ).getRowObjects()
  return { records, ignored: Number(n?.n ?? 0), starts: startsOf(starts), tallies }
}

/** Rows already read (arrays, iterables, the reader's rows), each made a Flow, as `read_records`. */
async function stagedFlows(
  connection: DuckDBConnection,
  batches: AsyncIterable<readonly FlowRow[]>,
  dir: string,
): Promise<void> {
  const stage = new StagingFile(join(dir, 'flows.tsv'), Object.keys(RECORD_COLUMNS))
  try {
    for await (const batch of batches) for (const row of batch) stageFlow(stage, toFlow(row))
  } finally {
    stage.close()
  }
  await withMoreMemory(
    connection,
    () =>
      connection.run(
        `CREATE OR REPLACE TABLE read_records AS SELECT * FROM ${stagedTable(stage, RECORD_COLUMNS)}`,
      ),
    (setting) => connection.run(setting),
  )
  rmSync(stage.path, { force: true })
}

function stageFlow(stage: StagingFile, flow: Flow): void {
  const text = (value: string | null) => {
    stage.next()
    if (value !== null) stage.text(value)
  }
  const number = (value: number | null) => {
    stage.next()
    if (value !== null) stage.number(value)
  }
  number(stage.rows)
  text(flow.interfaceId)
  text(flow.srcaddr)
  text(flow.dstaddr)
  text(flow.ifSrcaddr)
  text(flow.ifDstaddr)
  number(flow.srcport)
  number(flow.dstport)
  number(flow.protocol)
  number(flow.packets)
  number(flow.bytes)
  number(flow.start)
  number(flow.end)
  text(flow.action)
  text(flow.direction)
  number(flow.tcpFlags)
  text(flow.ruleId)
  text(flow.logStatus)
  stage.endRow()
}

/** Every name toFlow reads a field by (its fallbacks too). */
const FLOW_FIELDS = new Set([
  ...ANALYSIS_FIELDS,
  'interface_id',
  'src_addr',
  'dst_addr',
  'src_port',
  'dst_port',
  'timestamp_start',
  'timestamp_end',
  'filter',
  'direction',
  'status',
  'tcp_flag',
])

/** A column of records as read: its SQL, how it reads (numbers or text), its value map. */
interface ReadColumn {
  sql: string
  kind: ColumnKind
  map: ReadonlyMap<string, string> | null
}

/** A column of `read_records` as SQL over the columns as read. */
interface NormalizedColumn {
  name: string
  sql: string
}

/**
 * toFlow's rules as SQL: the columns of `read_records` over the columns of the records as read
 * (`column` gives the one a row takes a field from, as toRow: the last that fills it). Values are
 * what the reader's cursors give: a text column's `-` and empty are NULL (then mapped, NHN DROP), a
 * number column's NaN and infinities are NULL. A field the records do not have is left out of the
 * fallbacks that name it (a `coalesce` of only one is that one): so a column that reads the same
 * fields as another has the same SQL (the packet addresses of records without them are the
 * interface's), and one that reads none reads no column.
 */
function normalized(column: (field: string) => ReadColumn | null): NormalizedColumn[] {
  const textOf = (c: ReadColumn) => {
    const raw = c.kind === 'text' ? c.sql : `CAST(${c.sql} AS VARCHAR)`
    const mapped =
      c.map === null
        ? raw
        : `CASE ${raw} ${[...c.map].map(([k, v]) => `WHEN ${sqlString(k)} THEN ${sqlString(v)}`).join(' ')} ELSE ${raw} END`
    return `CASE WHEN ${raw} IN ('', '-') THEN NULL ELSE ${mapped} END`
  }
  const numberOf = (c: ReadColumn) => {
    const raw = `TRY_CAST(${c.sql} AS DOUBLE)`
    return c.kind === 'integer' || c.kind === 'bigint' ? raw : `CASE WHEN isfinite(${raw}) THEN ${raw} END`
  }
  // toFlow's text(row, ...names) and number(row, ...names): the first name with a value; null when
  // the records have none of the names.
  const first = (fields: string[], of: (c: ReadColumn) => string) => {
    const seen = new Set<string>()
    const columns: ReadColumn[] = []
    for (const f of fields) {
      const c = column(f)
      if (c === null || seen.has(c.sql)) continue
      seen.add(c.sql)
      columns.push(c)
    }
    return coalesced(columns.map(of))
  }
  const coalesced = (values: (string | null)[]): string | null => {
    const present = values.filter((v) => v !== null)
    if (present.length === 0) return null
    return present.length === 1 ? present[0]! : `coalesce(${present.join(', ')})`
  }
  const text = (...fields: string[]) => first(fields, textOf)
  const number = (...fields: string[]) => first(fields, numberOf)
  const orNull = (sql: string | null, type: 'VARCHAR' | 'DOUBLE') => sql ?? `CAST(NULL AS ${type})`
  const ifSrcaddr = text(...ADDRESS_FIELDS.srcaddr.iface)
  const ifDstaddr = text(...ADDRESS_FIELDS.dstaddr.iface)
  const action = `upper(${orNull(text('action', 'filter'), 'VARCHAR')})`
  const direction = `lower(${orNull(text('flow-direction', 'direction'), 'VARCHAR')})`
  const startMs = number('start-ms')
  const endMs = number('end-ms')
  const columns: [string, string][] = [
    ['interface_id', orNull(text('interface-id', 'interface_id'), 'VARCHAR')],
    ['srcaddr', orNull(coalesced([text(ADDRESS_FIELDS.srcaddr.packet), ifSrcaddr]), 'VARCHAR')],
    ['dstaddr', orNull(coalesced([text(ADDRESS_FIELDS.dstaddr.packet), ifDstaddr]), 'VARCHAR')],
    ['if_srcaddr', orNull(ifSrcaddr, 'VARCHAR')],
    ['if_dstaddr', orNull(ifDstaddr, 'VARCHAR')],
    ['srcport', orNull(number('srcport', 'src_port'), 'DOUBLE')],
    ['dstport', orNull(number('dstport', 'dst_port'), 'DOUBLE')],
    ['protocol', orNull(number('protocol'), 'DOUBLE')],
    ['packets', `coalesce(${orNull(number('packets'), 'DOUBLE')}, 0)`],
    ['bytes', `coalesce(${orNull(number('bytes'), 'DOUBLE')}, 0)`],
    [
      'start',
      orNull(
        coalesced([startMs === null ? null : `${startMs} / 1000`, number('start', 'timestamp_start')]),
        'DOUBLE',
      ),
    ],
    [
      'end',
      orNull(
        coalesced([endMs === null ? null : `${endMs} / 1000`, number('end', 'timestamp_end')]),
        'DOUBLE',
      ),
    ],
    [
      'action',
      `CASE ${action} WHEN 'ACCEPT' THEN 'ACCEPT' WHEN 'REJECT' THEN 'REJECT' WHEN 'DROP' THEN 'REJECT' END`,
    ],
    ['direction', `CASE WHEN ${direction} IN ('ingress', 'egress', 'unknown') THEN ${direction} END`],
    ['tcp_flags', orNull(number('tcp-flags', 'tcp_flag'), 'DOUBLE')],
    ['rule_id', orNull(text('rule-id'), 'VARCHAR')],
    ['log_status', orNull(text('log-status', 'status'), 'VARCHAR')],
  ]
  return columns.map(([name, sql]) => ({ name, sql }))
}

/**
 * The fields a record's addresses are read from (toFlow's): the packet's address when the records
 * have one, else the first of the interface's fields they have.
 */
const ADDRESS_FIELDS = {
  srcaddr: { packet: 'pkt-srcaddr', iface: ['srcaddr', 'src_addr'] },
  dstaddr: { packet: 'pkt-dstaddr', iface: ['dstaddr', 'dst_addr'] },
} as const

/** SELECT items of normalized columns. */
function selectOf(columns: readonly NormalizedColumn[]): string {
  return columns.map((c) => `${c.sql} AS ${sqlIdentifier(c.name)}`).join(',\n')
}

/**
 * Records per staging part: DuckDB takes in one part while the reader fills the next. At 10 M
 * gzip text records, parts of 524,288 took `audit` 34 to 38 s and `detect` 28 to 31 s, against 36
 * to 41 s and 29 to 40 s with parts of 131,072, alternating (and less memory): fewer statements,
 * each writing larger row groups.
 */
const PART_ROWS = 1 << 19

/**
 * The reader's records, as it reads them (formats, bad lines, time range), with the columns toFlow
 * reads copied into staging parts (text as written, numbers as the cursor reads them): no row and
 * no Flow is made in JavaScript. Each full part is written by DuckDB as a Parquet file of
 * `read_records`' columns (toFlow's rules applied) while the reader goes on, so reading and
 * loading overlap; `read_records` is then a view over those files, read as the Parquet path reads
 * its files (a table of them would live in memory, or be paged out and in for every query).
 */
async function scannedRecords(
  connection: DuckDBConnection,
  reader: FlowReader,
  dir: string,
): Promise<RecordsShape> {
  /** The Parquet files written, each with the SELECT list that reads `read_records`' columns from it. */
  const written: { path: string; select: string }[] = []
  const found: RecordsShape = { packetAddresses: false, present: [] }
  /** Addresses a part has no column of (its records have none): no part's statistics show them. */
  const absent = new Set<'srcaddr' | 'dstaddr'>()
  let loading: Promise<void> = Promise.resolve()
  let parts = 0
  let seq = 0
  let schema: FileSchema | null = null
  let shape = ''
  /** The copied columns of the file that opened the current shape (names the staged columns). */
  let staged: number[] = []
  let stage: StagingFile | null = null
  let columns: number[] = []
  let numeric: boolean[] = []
  /** The part being filled goes to DuckDB (after the ones before it). */
  const load = () => {
    const part = stage
    const of = schema
    stage = null
    if (part === null || of === null) return
    part.close()
    if (part.rows === 0) {
      rmSync(part.path, { force: true })
      return
    }
    const kept = staged
    const types: Record<string, string> = { seq: 'BIGINT' }
    kept.forEach((c, i) => {
      types[`v${i}`] = of.numeric[c] ? 'DOUBLE' : 'VARCHAR'
    })
    const column = (field: string): ReadColumn | null => {
      const [c = -1] = columnsOf(of, [field])
      const i = kept.indexOf(c)
      if (i < 0) return null
      // Values were mapped (NHN DROP) as they were copied.
      return { sql: `v${i}`, kind: of.numeric[c] ? 'double' : 'text', map: null }
    }
    const target = part.path.replace(/\.tsv$/, '.parquet')
    // Only columns that read a staged column are written, each SQL once: the others are the same
    // for every record (fields these records do not have: no rule ID, no TCP flags) or repeat a
    // written one (records without packet addresses: srcaddr is if_srcaddr), and the view over the
    // file gives them (writing Parquet is most of what loading a part costs).
    const stored = new Map<string, string>()
    /** SQL → the name of the part's column written of it. */
    const storedAs = new Map<string, string>()
    const select = ['seq']
    for (const c of normalized(column)) {
      const name = sqlIdentifier(c.name)
      const same = stored.get(c.sql)
      if (same !== undefined) select.push(`${same} AS ${name}`)
      else if (!/\bv\d+\b/.test(c.sql)) select.push(`${c.sql} AS ${name}`)
      else {
        stored.set(c.sql, name)
        storedAs.set(c.sql, c.name)
        select.push(name)
      }
      if (c.name === 'srcaddr' || c.name === 'dstaddr') {
        const written = storedAs.get(c.sql)
        if (written === undefined) absent.add(c.name)
        else found.present.push({ address: c.name, paths: [target], column: written, normalized: true })
      }
    }
    if (column(ADDRESS_FIELDS.srcaddr.packet) !== null || column(ADDRESS_FIELDS.dstaddr.packet) !== null)
      found.packetAddresses = true
    written.push({ path: target, select: select.join(', ') })
    // Uncompressed (dictionaries still shrink the repeated texts): the parts live only as long as
    // the analysis, and at 10 M records DuckDB's writing them took 15.8 s against 21.9 s with the
    // default codec (19.2 s with LZ4), and reading them back is cheaper too (as flows-database's).
    const sql = `COPY (SELECT seq, ${[...stored].map(([sql, name]) => `${sql} AS ${name}`).join(',\n')}
      FROM ${stagedTable(part, types)}) TO ${sqlString(target)} (FORMAT parquet, COMPRESSION uncompressed)`
    loading = loading.then(async () => {
      await withMoreMemory(
        connection,
        () => connection.run(sql),
        (setting) => connection.run(setting),
      )
      rmSync(part.path, { force: true })
    })
    // Awaited at the end; until then a failure must not count as unhandled.
    loading.catch(() => {})
  }
  const open = () => {
    stage = new StagingFile(join(dir, `${parts++}.tsv`), ['seq', ...columns.map((_, i) => `v${i}`)])
    return stage
  }
  const scan = reader.scan({
    bind: (bound) => {
      const kept: number[] = []
      bound.rowNames.forEach((names, c) => {
        if (c < bound.width && names.some((n) => FLOW_FIELDS.has(n))) kept.push(c)
      })
      const key = JSON.stringify(kept.map((c) => [bound.rowNames[c], bound.numeric[c] === true]))
      // A file of the same columns as the last one (wherever they stand in it) goes on in the same
      // part: staged columns are named by their place among the copied ones.
      if (key !== shape) {
        load()
        shape = key
        schema = bound
        staged = kept
      }
      columns = kept
      numeric = columns.map((c) => bound.numeric[c] === true)
      return null
    },
    take: (cursor) => {
      const out = stage ?? open()
      out.next()
      out.number(seq++)
      const line = cursor instanceof LineCursor ? cursor : null
      // Most lines go in one call (text as written, plain digits as written); others field by field.
      if (line?.copyColumns(columns, numeric, out)) {
        out.endRow()
        if (out.rows >= PART_ROWS) load()
        return undefined
      }
      for (let i = 0; i < columns.length; i++) {
        const c = columns[i]!
        out.next()
        if (numeric[i]) {
          // Plain digits go as written (DuckDB reads the same number from them).
          if (line?.copyDigits(c, out)) continue
          const n = cursor.number(c)
          if (n !== null) out.number(n)
        } else if (line !== null) line.copyField(c, out)
        else {
          const t = cursor.text(c)
          if (t !== null) out.text(t)
        }
      }
      out.endRow()
      if (out.rows >= PART_ROWS) load()
      return undefined
    },
  })
  try {
    for await (const _ of scan) {
      // Records are staged as they are read.
    }
    load()
  } finally {
    ;(stage as StagingFile | null)?.close()
    await loading
  }
  // Files written alike are read by one SELECT (usually all of them).
  const reads: { select: string; paths: string[] }[] = []
  for (const { path, select } of written) {
    const last = reads[reads.length - 1]
    if (last !== undefined && last.select === select) last.paths.push(path)
    else reads.push({ select, paths: [path] })
  }
  await connection.run(
    reads.length === 0
      ? `CREATE TABLE read_records (${Object.entries(RECORD_COLUMNS)
          .map(([name, type]) => `${sqlIdentifier(name)} ${type}`)
          .join(', ')})`
      : `CREATE VIEW read_records AS ${reads
          .map((r) => `SELECT ${r.select} FROM read_parquet([${r.paths.map(sqlString).join(', ')}])`)
          .join(' UNION ALL ')}`,
  )
  found.present = found.present.filter((p) => !absent.has(p.address))
  return found
}

/**
 * Local Parquet files as the view `read_records`, toFlow's rules written as SQL over the columns
 * as the reader's own scan reads them (ChunkCursor), within the reader's time range (inTimeRange);
 * false, with nothing read or counted, when a column toFlow reads as a number is text in the files,
 * or one it reads as text is not (the reader's conversions of those are JavaScript's), or DuckDB
 * cannot open or read the files.
 */
async function parquetRecords(
  connection: DuckDBConnection,
  parquet: ParquetFiles,
): Promise<RecordsShape | null> {
  const list = `[${parquet.paths.map(sqlString).join(', ')}]`
  const source = `read_parquet(${list}, union_by_name = true)`
  const described = await connection.runAndReadAll(`SELECT * FROM ${source} LIMIT 0`).catch(() => null)
  if (described === null) return null
  const names = described.columnNames()
  const kinds = described.columnTypes().map((t) => kindOf(t.typeId))
  const { schema } = objectSchema(names)
  let refused = false
  const readColumn = (c: number): ReadColumn => ({
    sql: sqlIdentifier(names[c]!),
    kind: kinds[c] ?? 'text',
    map: schema.valueMaps[c] ?? null,
  })
  const column = (field: string): ReadColumn | null => {
    const [c = -1] = columnsOf(schema, [field])
    if (c < 0 || c >= names.length) return null
    if ((kinds[c] === 'text') !== (schema.numeric[c] !== true)) refused = true
    return readColumn(c)
  }
  const select = selectOf(normalized(column))
  if (refused) return null
  // The reader's time range (inTimeRange), on its start and end columns.
  const since = parquet.options.since ?? Number.NEGATIVE_INFINITY
  const until = parquet.options.until ?? Number.POSITIVE_INFINITY
  const at = (c: number) => {
    if (c < 0 || c >= names.length) return 'CAST(NULL AS DOUBLE)'
    const raw = `TRY_CAST(${sqlIdentifier(names[c]!)} AS DOUBLE)`
    return `CASE WHEN isfinite(${raw}) THEN ${raw} END`
  }
  const last = `coalesce(${at(schema.end)}, ${at(schema.start)})`
  const firstTime = `coalesce(${at(schema.start)}, ${at(schema.end)})`
  const kept = ['TRUE']
  if (Number.isFinite(since)) kept.push(`(${last} IS NULL OR ${last} >= ${since})`)
  if (Number.isFinite(until)) kept.push(`(${firstTime} IS NULL OR ${firstTime} < ${until})`)
  await connection.run(`CREATE VIEW read_records AS
    SELECT (CAST(file_index AS BIGINT) << 40) + file_row_number AS seq, ${select}
    FROM ${source} WHERE ${kept.join(' AND ')}`)
  // A file DuckDB cannot read after all (its footer was readable): the reader reads and reports it.
  const readable = await connection.runAndReadAll('SELECT count(*) FROM read_records').then(
    () => true,
    () => false,
  )
  if (!readable) {
    await connection.run('DROP VIEW read_records')
    return null
  }
  // The columns each address reads (normalized: the first of its fields the files have).
  const columnOf = (...fields: string[]) => {
    const read = new Set<number>()
    for (const field of fields) {
      const [c = -1] = columnsOf(schema, [field])
      if (c >= 0 && c < names.length) read.add(c)
    }
    return [...read]
  }
  const present: RecordsShape['present'] = []
  for (const address of ['srcaddr', 'dstaddr'] as const) {
    const { packet, iface } = ADDRESS_FIELDS[address]
    const [c, more] = columnOf(packet, ...iface)
    if (c !== undefined && more === undefined && kinds[c] === 'text' && !schema.valueMaps[c])
      present.push({ address, paths: parquet.paths, column: names[c]!, normalized: false })
  }
  const packetAddresses = columnOf(ADDRESS_FIELDS.srcaddr.packet, ADDRESS_FIELDS.dstaddr.packet).length > 0
  return { packetAddresses, present }
}

/** A chunk of a result, column by column. */
export interface ResultColumns {
  readonly size: number
  /** The result's column names, in order. */
  readonly names: readonly string[]
  /** The values of column c, one per row. */
  columnAt(c: number): readonly unknown[]
  /** The values of the column of that name, one per row (empty when there is no such column). */
  column(name: string): readonly unknown[]
}

/** The result of a query a chunk at a time, as columns: no object per row, for large results. */
export async function* resultColumns(
  connection: DuckDBConnection,
  sql: string,
): AsyncGenerator<ResultColumns> {
  const result = await connection.stream(sql)
  const names = result.columnNames()
  const types = result.columnTypes()
  const duckdb = duckdbBindings()
  for (
    let chunk = await result.fetchChunk();
    chunk !== null && chunk.rowCount > 0;
    chunk = await result.fetchChunk()
  ) {
    // A column's values are made JavaScript values when first asked for: a reader that needs
    // only some columns, or some only now and then, does not pay for the others.
    const columns: (readonly unknown[] | undefined)[] = []
    const columnAt = (c: number): readonly unknown[] => {
      if (c < 0 || c >= names.length) return []
      let values = columns[c]
      if (values === undefined) {
        values = vectorValues(duckdb, chunk, c, types[c]) ?? chunk.getColumnValues(c)
        columns[c] = values
      }
      return values
    }
    yield { size: chunk.rowCount, names, column: (name) => columnAt(names.indexOf(name)), columnAt }
  }
}

/** The rows of a query, one object each (column name → value), a chunk of them at a time. */
export async function* rowsOf(
  connection: DuckDBConnection,
  sql: string,
): AsyncGenerator<Record<string, unknown>[]> {
  for await (const chunk of resultColumns(connection, sql)) {
    // Column by column: converting a chunk's values a column at a time is the cheaper way out.
    const columns = chunk.names.map((_, c) => chunk.columnAt(c))
    const rows: Record<string, unknown>[] = []
    for (let r = 0; r < chunk.size; r++) {
      const row: Record<string, unknown> = {}
      for (let c = 0; c < columns.length; c++) row[chunk.names[c]!] = columns[c]?.[r]
      rows.push(row)
    }
    yield rows
  }
}

/** A name's per-bucket sums, and the read position of its first record. */
export interface BucketSums {
  seen: number
  buckets: Map<number, number>
}

/**
 * The rows of a query of (name, bucket, total, seen), one per name and bucket, gathered per name:
 * its buckets' totals and the earliest `seen` (names in the order the query gives them).
 */
export async function bucketSums(
  connection: DuckDBConnection,
  sql: string,
): Promise<Map<string, BucketSums>> {
  const out = new Map<string, BucketSums>()
  for await (const chunk of rowsOf(connection, sql))
    for (const row of chunk) {
      const name = textOf(row.name) ?? ''
      const seen = numberOf(row.seen) ?? 0
      let entry = out.get(name)
      if (entry === undefined) {
        entry = { seen, buckets: new Map() }
        out.set(name, entry)
      }
      entry.seen = Math.min(entry.seen, seen)
      entry.buckets.set(numberOf(row.bucket) ?? 0, numberOf(row.total) ?? 0)
    }
  return out
}

export const textOf = (v: unknown): string | null => (typeof v === 'string' ? v : null)
export const numberOf = (v: unknown): number | null =>
  typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null

/** A row of `flows` (all of FLOW_COLUMNS) as the Flow it was made from. */
export function flowOf(row: Record<string, unknown>): Flow {
  const action = textOf(row.action)
  const direction = textOf(row.direction)
  return {
    interfaceId: textOf(row.interface_id),
    instanceId: null,
    subnetId: null,
    vpcId: null,
    srcaddr: textOf(row.srcaddr),
    dstaddr: textOf(row.dstaddr),
    ifSrcaddr: textOf(row.if_srcaddr),
    ifDstaddr: textOf(row.if_dstaddr),
    srcport: numberOf(row.srcport),
    dstport: numberOf(row.dstport),
    protocol: numberOf(row.protocol),
    packets: numberOf(row.packets) ?? 0,
    bytes: numberOf(row.bytes) ?? 0,
    start: numberOf(row.start),
    end: numberOf(row.end),
    action: action === 'ACCEPT' || action === 'REJECT' ? action : null,
    logStatus: null,
    direction:
      direction === 'ingress' || direction === 'egress' || direction === 'unknown' ? direction : null,
    tcpFlags: numberOf(row.tcp_flags),
    ruleId: textOf(row.rule_id),
    rejectReason: null,
  }
}
