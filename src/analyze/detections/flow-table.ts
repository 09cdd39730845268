import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import { type ColumnKind, kindOf } from '../../read/chunk-cursor.js'
import { sqlIdentifier, sqlString } from '../../read/duckdb-connection.js'
import { columnsOf, objectSchema } from '../../read/file-schema.js'
import type { FlowReader, FlowRow, ParquetFiles } from '../../read/index.js'
import { DUCKDB_MEMORY_LIMIT } from '../../sql/flows-database.js'
import { StagingFile } from '../../sql/staging-file.js'
import type { CidrSet } from '../address-scope.js'
import { ANALYSIS_FIELDS, type Flow, isTraffic, toFlow } from '../flow.js'
import { parquetInReadOrder } from '../parquet-own-scan.js'
import { stagedTable } from '../scratch-duckdb.js'

/**
 * The records detect looks at, in DuckDB: `flows`, one row per traffic record whose source is not
 * ignored, with the fields of a Flow (toFlow's normalisation: packet addresses, numbers or NULL,
 * ACCEPT/REJECT, ingress/egress/unknown) and `seq`, the record's place in read order. The
 * detections group and count there, where it spills beyond DuckDB's memory limit, and take back
 * into JavaScript only their candidates and the records of those (flowOf makes them Flows again).
 *
 * - Local Parquet files whose columns have the types flowlog writes are a view over DuckDB's own
 *   scan of them: toFlow's rules and the reader's --since/--until as SQL, no record in JavaScript.
 * - Anything else is read by the reader, made a Flow by toFlow, and staged as one tab-separated
 *   line per record into a table of a database file in a temporary directory (so the table, like
 *   the groups, lives under the memory limit).
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
  close(): void
}

export async function openFlowTable(
  rows: AsyncIterable<FlowRow> | Iterable<FlowRow> | FlowReader,
  ignore: CidrSet,
): Promise<FlowTable> {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-detect-'))
  let instance: DuckDBInstance | null = null
  let connection: DuckDBConnection | null = null
  const close = () => {
    connection?.closeSync()
    instance?.closeSync()
    connection = null
    instance = null
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    // A database file, not memory: the staged table is paged out under the memory limit.
    instance = await DuckDBInstance.create(join(dir, 'detect.duckdb'))
    const db = await instance.connect()
    connection = db
    await db.run(`SET memory_limit = '${DUCKDB_MEMORY_LIMIT}'`)
    await db.run(`SET temp_directory = ${sqlString(join(dir, 'spill'))}`)
    // Every query says its own order (seq where it matters).
    await db.run('SET preserve_insertion_order = false')
    // Progress is asked for (withQueryProgress) while a group runs, never printed.
    await db.run('SET enable_progress_bar = true')
    await db.run('SET enable_progress_bar_print = false')
    let counts: { records: number; ignored: number } | null = null
    let batches: AsyncIterable<readonly FlowRow[]>
    if ('parquetFiles' in rows) {
      const parquet = await rows.parquetFiles()
      counts = parquet === null ? null : await parquetFlows(db, parquet, ignore)
      const scan =
        parquet === null || counts !== null ? null : await parquetInReadOrder(parquet, ANALYSIS_FIELDS)
      batches = scan === null ? rows.batches() : closing(scan.batches(), () => scan.close())
    } else batches = blocksOf(rows)
    counts ??= await stagedFlows(db, batches, ignore, dir)
    return { connection: db, ...counts, close }
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

/** The reader's records, each a Flow, into the table `flows`. */
async function stagedFlows(
  connection: DuckDBConnection,
  batches: AsyncIterable<readonly FlowRow[]>,
  ignore: CidrSet,
  dir: string,
): Promise<{ records: number; ignored: number }> {
  const stage = new StagingFile(join(dir, 'flows.tsv'), Object.keys(COLUMNS))
  let records = 0
  let ignored = 0
  try {
    for await (const batch of batches) {
      for (const row of batch) {
        const flow = toFlow(row)
        if (!isTraffic(flow)) continue
        records++
        if (ignore.has(flow.srcaddr ?? '')) {
          ignored++
          continue
        }
        stageFlow(stage, flow)
      }
    }
  } finally {
    stage.close()
  }
  await connection.run(`CREATE TABLE flows AS SELECT * FROM ${stagedTable(stage, COLUMNS)}`)
  rmSync(stage.path, { force: true })
  return { records, ignored }
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
  stage.endRow()
}

/**
 * Local Parquet files as the view `flows`, toFlow's rules written as SQL over the columns as the
 * reader's own scan reads them (ChunkCursor): null, with nothing read or counted, when a column
 * toFlow reads as a number is text in the files, or one it reads as text is not (the reader's
 * conversions of those are JavaScript's), or DuckDB cannot open the files.
 */
async function parquetFlows(
  connection: DuckDBConnection,
  parquet: ParquetFiles,
  ignore: CidrSet,
): Promise<{ records: number; ignored: number } | null> {
  const list = `[${parquet.paths.map(sqlString).join(', ')}]`
  const source = `read_parquet(${list}, union_by_name = true)`
  const described = await connection.runAndReadAll(`SELECT * FROM ${source} LIMIT 0`).catch(() => null)
  if (described === null) return null
  const names = described.columnNames()
  const kinds = described.columnTypes().map((t) => kindOf(t.typeId))
  const { schema } = objectSchema(names)
  // The column whose value a row gets for a field (the last that fills it, as toRow), or -1.
  const columnOf = (field: string) => {
    const [c = -1] = columnsOf(schema, [field])
    return c < names.length ? c : -1
  }
  let refused = false
  const kind = (c: number, want: 'text' | 'number'): ColumnKind | null => {
    const k = kinds[c] ?? 'text'
    if ((k === 'text') !== (want === 'text')) refused = true
    return k
  }
  const textOf = (c: number) => {
    kind(c, 'text')
    const raw = sqlIdentifier(names[c]!)
    const map = schema.valueMaps[c]
    const mapped =
      map == null
        ? raw
        : `CASE ${raw} ${[...map].map(([k, v]) => `WHEN ${sqlString(k)} THEN ${sqlString(v)}`).join(' ')} ELSE ${raw} END`
    return `CASE WHEN ${raw} IN ('', '-') THEN NULL ELSE ${mapped} END`
  }
  const numberOf = (c: number) => {
    const k = kind(c, 'number')
    const raw = `CAST(${sqlIdentifier(names[c]!)} AS DOUBLE)`
    return k === 'double' ? `CASE WHEN isfinite(${raw}) THEN ${raw} END` : raw
  }
  // toFlow's text(row, ...names) and number(row, ...names): the first name with a value.
  const first = (fields: string[], of: (c: number) => string, type: string) => {
    const columns = [...new Set(fields.map(columnOf).filter((c) => c >= 0))]
    if (columns.length === 0) return `CAST(NULL AS ${type})`
    return columns.length === 1 ? of(columns[0]!) : `coalesce(${columns.map(of).join(', ')})`
  }
  const text = (...fields: string[]) => first(fields, textOf, 'VARCHAR')
  const number = (...fields: string[]) => first(fields, numberOf, 'DOUBLE')
  const ifSrcaddr = text('srcaddr', 'src_addr')
  const ifDstaddr = text('dstaddr', 'dst_addr')
  const startMs = number('start-ms')
  const endMs = number('end-ms')
  const action = `upper(${text('action', 'filter')})`
  const direction = `lower(${text('flow-direction', 'direction')})`
  const select = [
    `(CAST(file_index AS BIGINT) << 40) + file_row_number AS seq`,
    `${text('interface-id', 'interface_id')} AS interface_id`,
    `coalesce(${text('pkt-srcaddr')}, ${ifSrcaddr}) AS srcaddr`,
    `coalesce(${text('pkt-dstaddr')}, ${ifDstaddr}) AS dstaddr`,
    `${ifSrcaddr} AS if_srcaddr`,
    `${ifDstaddr} AS if_dstaddr`,
    `${number('srcport', 'src_port')} AS srcport`,
    `${number('dstport', 'dst_port')} AS dstport`,
    `${number('protocol')} AS protocol`,
    `coalesce(${number('packets')}, 0) AS packets`,
    `coalesce(${number('bytes')}, 0) AS bytes`,
    `coalesce(${startMs} / 1000, ${number('start', 'timestamp_start')}) AS start`,
    `coalesce(${endMs} / 1000, ${number('end', 'timestamp_end')}) AS "end"`,
    `CASE ${action} WHEN 'ACCEPT' THEN 'ACCEPT' WHEN 'REJECT' THEN 'REJECT' WHEN 'DROP' THEN 'REJECT' END AS action`,
    `CASE WHEN ${direction} IN ('ingress', 'egress', 'unknown') THEN ${direction} END AS direction`,
    `${number('tcp-flags', 'tcp_flag')} AS tcp_flags`,
    `${text('rule-id')} AS rule_id`,
    `${text('log-status', 'status')} AS log_status`,
  ]
  // The reader's time range (inTimeRange), on its start and end columns.
  const since = parquet.options.since ?? Number.NEGATIVE_INFINITY
  const until = parquet.options.until ?? Number.POSITIVE_INFINITY
  const at = (c: number) => (c >= 0 && c < names.length ? numberOf(c) : 'CAST(NULL AS DOUBLE)')
  const last = `coalesce(${at(schema.end)}, ${at(schema.start)})`
  const firstTime = `coalesce(${at(schema.start)}, ${at(schema.end)})`
  const kept = ['TRUE']
  if (Number.isFinite(since)) kept.push(`(${last} IS NULL OR ${last} >= ${since})`)
  if (Number.isFinite(until)) kept.push(`(${firstTime} IS NULL OR ${firstTime} < ${until})`)
  if (refused) return null
  await connection.run(
    `CREATE VIEW read_records AS SELECT ${select.join(',\n')} FROM ${source} WHERE ${kept.join(' AND ')}`,
  )
  await connection.run(`CREATE VIEW traffic AS SELECT * EXCLUDE (log_status) FROM read_records
    WHERE (log_status IS NULL OR log_status = 'OK') AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL`)
  const counted = await connection
    .runAndReadAll(
      `SELECT CAST(count(*) AS DOUBLE) AS rows, CAST(count(*) FILTER (WHERE (log_status IS NULL OR log_status = 'OK') AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL) AS DOUBLE) AS records FROM read_records`,
    )
    .catch(() => null)
  if (counted === null) {
    // A file DuckDB cannot read after all: the reader reads them and reports it.
    await connection.run('DROP VIEW traffic')
    await connection.run('DROP VIEW read_records')
    return null
  }
  const [row] = counted.getRowObjects()
  const stats = parquet.begin()
  stats.rows += Number(row?.rows ?? 0)
  const records = Number(row?.records ?? 0)
  let ignored = 0
  if (ignore.size > 0) {
    // The distinct sources are tested in JavaScript (ignoreSources are CIDRs), once each.
    await connection.run('CREATE TEMP TABLE ignored_sources (addr VARCHAR)')
    const appender = await connection.createAppender('ignored_sources')
    for await (const r of rowsOf(connection, 'SELECT DISTINCT srcaddr FROM traffic')) {
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
    ignored = Number(n?.n ?? 0)
    await connection.run(
      'CREATE VIEW flows AS SELECT * FROM traffic WHERE srcaddr NOT IN (SELECT addr FROM ignored_sources)',
    )
  } else await connection.run('CREATE VIEW flows AS SELECT * FROM traffic')
  parquet.options.onProgress?.({
    files: parquet.files.length,
    filesDone: parquet.files.length,
    bytes: stats.bytes,
    bytesDone: stats.bytes,
    rows: stats.rows,
  })
  return { records, ignored }
}

/** The rows of a query, one object each (column name → value), streamed a chunk at a time. */
export async function* rowsOf(
  connection: DuckDBConnection,
  sql: string,
): AsyncGenerator<Record<string, unknown>> {
  const result = await connection.stream(sql)
  const names = result.columnNames()
  for (
    let chunk = await result.fetchChunk();
    chunk !== null && chunk.rowCount > 0;
    chunk = await result.fetchChunk()
  ) {
    yield* chunk.getRowObjects(names)
  }
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
