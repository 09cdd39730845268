import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import { makeScratchDir, removeScratchDir } from '../ops/scratch-dirs.js'
import { sqlIdentifier, sqlString } from '../read/duckdb-connection.js'
import { familyOf, schemaOf } from '../read/file-schema.js'
import { columnName } from '../read/flow-row.js'
import { listSources } from '../read/list-sources.js'
import { emptyStats, type ReadOptions, type ReadStats } from '../read/read-options.js'
import { LineCursor, type RecordCursor } from '../read/record-cursor.js'
import { isParquet, scanFiles } from '../read/scan-files.js'
import type { SourceFile } from '../read/source-file.js'
import { defineAthenaFunctions } from './athena-functions.js'
import { registerCommunityId } from './community-id-function.js'
import { type FlowsColumn, STORED_COLUMNS } from './flows-columns.js'
import { StagingFile } from './staging-file.js'

/**
 * A DuckDB database showing flow-log records as `flows`, the table AWS's Athena DDL defines
 * (reference 8.1): columns named with underscores (`srcaddr`, `log_status`, `interface_id`, ...),
 * every field flowlog knows (NULL where the sources lack it), plus
 *
 * - `community_id` (packet addresses, as Zeek/Suricata) and `community_id_elastic` (srcaddr/dstaddr
 *   and ICMP as Elastic's AWS module): Community ID v1 of the record (computed when read);
 * - `date`: the UTC date of `start`, standing in for Athena's `date` partition column.
 *
 * Athena/Presto functions that DuckDB lacks (from_unixtime, to_iso8601, day_of_week, ...) are
 * defined as macros, and the session time zone is UTC, so Athena's sample queries run unchanged.
 *
 *   const db = await openFlowsDatabase(['logs/'], { since })
 *   const rows = (await db.connection.runAndReadAll('SELECT srcaddr, sum(bytes) FROM flows GROUP BY 1')).getRowObjectsJS()
 *   db.close()
 *
 * Text, CSV and JSONL records are read by the same reader as `flowlog query` (one parser, the same
 * bad lines, the same time range) and staged as tab-separated text, which DuckDB reads (see
 * TextRecords); Parquet files are read by DuckDB itself, columns matched by name. `stats` is complete
 * when the promise resolves.
 */
export interface FlowsDatabase {
  readonly connection: DuckDBConnection
  readonly stats: ReadStats
  /** Stored columns no record has a value in (fields none of the sources carry). */
  emptyColumns(): Promise<Set<string>>
  close(): void
}

/**
 * How DuckDB reads the text records once they are staged:
 *
 * - `converted`: the staging files are converted to Parquet once (by DuckDB, on every core), and
 *   queries read that: for several queries over the same records (report, the console). A query
 *   reads only the columns it names.
 * - `staged`: every query reads the staging files again (in parallel): for a single query (sql),
 *   which then costs one read of the records, not a conversion and a read.
 *
 * Either way the records are on disk, not in DuckDB's memory, and queries see the same rows. Their
 * order (where a query does not sort) is the files' order for files of one set of fields; of
 * several sets, staged records come set by set, converted ones so within each batch.
 */
export type TextRecords = 'converted' | 'staged'

/** How openFlowsDatabase holds the text records. */
export interface HoldOptions {
  /** How DuckDB reads them (default converted). */
  textRecords?: TextRecords
  /**
   * Staged bytes after which the next file starts a new batch of staging files, which DuckDB
   * converts while the reader goes on (converted only; tests make it small).
   */
  batchBytes?: number
  /**
   * The only columns (flows' names) the queries will read, when known (report's statements): the
   * text records' other fields are not staged (they read as NULL, but for one field kept of a
   * record that has none of these, so that it is still a row). Fewer fields copied, parsed and
   * converted; the columns of Parquet files are read by each query as it names them anyway.
   */
  columns?: ReadonlySet<string>
}

export async function openFlowsDatabase(
  sources: readonly string[],
  options: ReadOptions = {},
  hold: HoldOptions = {},
): Promise<FlowsDatabase> {
  const listing = await listSources(sources, options.since, options.until)
  const stats = emptyStats()
  stats.skippedFiles = listing.pruned
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  const staging = makeScratchDir('flowlog-sql-')
  // Where DuckDB spills its sorts, joins and aggregates beyond DUCKDB_MEMORY_LIMIT: a day of a busy
  // VPC is more than memory, and a bounded footprint matters more than never touching the disk.
  const spill = makeScratchDir('flowlog-sql-spill-')
  const closeAll = () => {
    connection.closeSync()
    instance.closeSync()
    removeScratchDir(spill)
    removeScratchDir(staging)
  }
  try {
    await connection.run(`SET TimeZone = 'UTC'`)
    await connection.run(`SET memory_limit = '${DUCKDB_MEMORY_LIMIT}'`)
    await connection.run(`SET temp_directory = ${sqlString(spill)}`)
    const parquet = listing.files.filter(isParquet)
    const other = listing.files.filter((f) => !isParquet(f))
    const conversion = hold.textRecords === 'staged' ? null : new ParquetConversion(connection)
    const batches =
      conversion === null
        ? null
        : { bytes: hold.batchBytes ?? BATCH_BYTES, take: (b: readonly StagingFile[]) => conversion.add(b) }
    let stages: StagingFile[]
    try {
      stages = await stageRecords(other, options, stats, staging, batches, hold.columns ?? null)
    } finally {
      // DuckDB must be done with the staging files before they go.
      await conversion?.done().catch(() => {})
    }
    const text = await holdTextRecords(connection, stages, (await conversion?.done()) ?? null)
    // Parquet files stay where they are (objects from a bucket are copied beside the spill, which
    // lives as long as the database): `flows` reads them in every query, so DuckDB scans only the
    // columns a query names, where copying them in would write every column of every record.
    const parquetFields =
      parquet.length > 0
        ? await parquetView(connection, parquet, options, stats, join(spill, 'objects'))
        : null
    await connection.run(
      parquetFields === null
        ? `CREATE VIEW flow_records AS ${text}`
        : `CREATE VIEW flow_records AS ${text} UNION ALL BY NAME SELECT * FROM parquet_records`,
    )
    await defineFlows(connection)
    // A column some staged record surely fills is not empty; one no source has is. Only the rest
    // (Parquet columns, and number columns whose staged values DuckDB may not read as numbers) are
    // counted, over the records.
    const valued = new Set(stages.flatMap((s) => s.fields.filter((_, i) => s.valued[i])))
    const unsure = STORED_COLUMNS.filter(
      (c) =>
        !valued.has(c.field) &&
        (parquetFields?.has(c.field) || stages.some((s) => s.fields.includes(c.field))),
    )
    return {
      connection,
      stats,
      emptyColumns: async () => {
        const counted = new Set<string>()
        if (unsure.length > 0) {
          const counts = unsure.map((c, i) => `count(${sqlIdentifier(c.column)}) AS c${i}`).join(', ')
          const [row] = (await connection.runAndReadAll(`SELECT ${counts} FROM flow_records`)).getRows()
          unsure.forEach((c, i) => {
            if (Number(row?.[i] ?? 0) > 0) counted.add(c.field)
          })
        }
        return new Set(
          STORED_COLUMNS.filter((c) => !valued.has(c.field) && !counted.has(c.field)).map((c) => c.column),
        )
      },
      close: closeAll,
    }
  } catch (error) {
    closeAll()
    throw error
  }
}

/**
 * The view `flows` over the relation `flow_records` (the stored columns): its computed columns, and
 * the functions Athena queries call.
 */
export async function defineFlows(connection: DuckDBConnection): Promise<void> {
  registerCommunityId(connection)
  await defineAthenaFunctions(connection)
  await connection.run(`CREATE VIEW flows AS SELECT *,
      community_id(CAST(protocol AS INTEGER), coalesce(pkt_srcaddr, srcaddr), coalesce(pkt_dstaddr, dstaddr), srcport, dstport) AS community_id,
      community_id_elastic(CAST(protocol AS INTEGER), srcaddr, dstaddr, srcport, dstport) AS community_id_elastic,
      CAST(to_timestamp(start) AS DATE) AS "date"
      FROM flow_records`)
}

/**
 * DuckDB's share of the 1.5 GB a command may use (issue 14): the rest is Node's, the reader's
 * buffers and the output. FLOWLOG_DUCKDB_MEMORY changes it (DuckDB's units: 500MB, 4GB).
 */
export const DUCKDB_MEMORY_LIMIT = duckdbMemory('1GB')

/**
 * DuckDB's share in detect, audit and what-if, which keep state of their own in JavaScript beside
 * it (connection tables, conversations, usage, findings): half of sql's. Their sorts spill beyond
 * it (256 MB was measured too small to sort 10 M staged records). FLOWLOG_DUCKDB_MEMORY sets both.
 */
export const ANALYSIS_DUCKDB_MEMORY_LIMIT = duckdbMemory('512MB')

function duckdbMemory(fallback: string): string {
  const set = process.env.FLOWLOG_DUCKDB_MEMORY ?? ''
  return /^\d+(\.\d+)?\s*[KMGT]i?B$/i.test(set) ? set : fallback
}

const TYPE_OF: ReadonlyMap<string, FlowsColumn['type']> = new Map(
  STORED_COLUMNS.map((c) => [c.field, c.type]),
)

/**
 * The digits a staged number may have to surely read as one of the type (through a DOUBLE: exact up
 * to 15 digits); null for text.
 */
const MOST_DIGITS: Readonly<Record<FlowsColumn['type'], number | null>> = {
  INTEGER: 9,
  BIGINT: 15,
  VARCHAR: null,
}

/**
 * Staged bytes after which the next file starts a new batch (see stageRecords): small enough that
 * DuckDB converts while the reader reads, large enough that each conversion's fixed costs do not
 * add up (batches of 16 MB took some 5 % more CPU time than one batch for all; 100 MB, none).
 */
const BATCH_BYTES = 64 << 20

/**
 * Every record of the text, CSV and JSONL files into staging files, one per distinct set of fields;
 * all of them, in the order of their records. The scanner does the reading (formats, headers, bad
 * lines, time range); each record's fields are copied as they stand in the file.
 *
 * With `batches`, a file that starts once `bytes` are staged starts new staging files, and the
 * finished ones go to `take`, closed: DuckDB converts them while the next files are read.
 */
async function stageRecords(
  files: readonly SourceFile[],
  options: ReadOptions,
  stats: ReadStats,
  dir: string,
  batches: { bytes: number; take(batch: readonly StagingFile[]): void } | null,
  only: ReadonlySet<string> | null,
): Promise<StagingFile[]> {
  const done: StagingFile[] = []
  let stages = new Map<string, StagingFile>()
  let made = 0
  let stage: StagingFile | null = null
  let lastFile: SourceFile | null = null
  /** Per staging column, the column of the current file's schema. */
  let columns: number[] = []
  const finish = () => {
    const batch = [...stages.values()]
    for (const s of batch) s.close()
    const staged = batch.filter((s) => s.rows > 0)
    done.push(...staged)
    if (batches !== null && staged.length > 0) batches.take(staged)
    stages = new Map()
  }
  const scan = scanFiles({
    files,
    options,
    stats,
    sink: {
      bind: (schema, file) => {
        if (batches !== null && file !== lastFile) {
          let bytes = 0
          for (const s of stages.values()) bytes += s.size
          if (bytes >= batches.bytes) finish()
        }
        lastFile = file
        const present: string[] = []
        const at: number[] = []
        schema.rowNames.forEach((names, column) => {
          // Absent object fields read as null; only fields flowlog stores have a column.
          if (column >= schema.width) return
          for (const field of names) {
            if (!TYPE_OF.has(field) || present.includes(field)) continue
            present.push(field)
            at.push(column)
          }
        })
        const asked = present.flatMap((f, i) => (only === null || only.has(columnName(f)) ? [i] : []))
        // A record with none of the columns asked for is still a row: it keeps its first field.
        const kept = asked.length > 0 || present.length === 0 ? asked : [0]
        const fields = kept.map((i) => present[i]!)
        columns = kept.map((i) => at[i]!)
        const key = fields.join(' ')
        let found = stages.get(key)
        if (found === undefined) {
          const digits = fields.map((f) => MOST_DIGITS[TYPE_OF.get(f) ?? 'VARCHAR'])
          found = new StagingFile(join(dir, `${made++}.tsv`), fields, digits)
          stages.set(key, found)
        }
        stage = found
        return null
      },
      take: (cursor) => {
        const out = stage!
        if (cursor instanceof LineCursor) {
          for (const column of columns) {
            out.next()
            cursor.copyField(column, out)
          }
        } else {
          for (const column of columns) {
            out.next()
            const value = valueText(cursor, column)
            if (value !== null) out.text(value)
          }
        }
        out.endRow()
        return undefined
      },
    },
  })
  try {
    for await (const _ of scan) {
      // Records are staged as they are read.
    }
  } finally {
    finish()
  }
  return done
}

function valueText(cursor: RecordCursor, column: number): string | null {
  if (cursor.schema.numeric[column]) {
    const n = cursor.number(column)
    return n === null ? null : String(n)
  }
  return cursor.text(column)
}

/**
 * Staging files converted to Parquet by DuckDB, one after the other, while the reader goes on (see
 * TextRecords); each staging file is removed once converted.
 */
class ParquetConversion {
  readonly paths: string[] = []
  private queue: Promise<void> = Promise.resolve()

  constructor(private readonly connection: DuckDBConnection) {}

  add(batch: readonly StagingFile[]): void {
    this.queue = this.queue.then(async () => {
      for (const stage of batch) {
        const path = stage.path.replace(/\.tsv$/, '.parquet')
        // Uncompressed: the files live only as long as the database, and are read faster so.
        await this.connection.run(
          `COPY (${stageSelect(stage)}) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION uncompressed)`,
        )
        rmSync(stage.path)
        this.paths.push(path)
      }
    })
    // A failure is the caller's when it waits for the conversion (done); never an unhandled rejection.
    this.queue.catch(() => {})
  }

  /** The Parquet files, in the order of their records, once every batch is converted. */
  async done(): Promise<readonly string[]> {
    await this.queue
    return this.paths
  }
}

/**
 * The staged records as the view `text_records` (see TextRecords); the SELECT that gives them every
 * stored column, in order (NULL where no source has the field).
 */
async function holdTextRecords(
  connection: DuckDBConnection,
  stages: readonly StagingFile[],
  converted: readonly string[] | null,
): Promise<string> {
  const present = new Set(stages.flatMap((s) => s.fields))
  const columns = STORED_COLUMNS.map((c) =>
    present.has(c.field) ? sqlIdentifier(c.column) : `CAST(NULL AS ${c.type}) AS ${sqlIdentifier(c.column)}`,
  ).join(', ')
  if (stages.length === 0) return `SELECT ${columns} WHERE false`
  await connection.run(
    converted === null
      ? // One stage's rows, then the next's: a UNION ALL keeps its inputs' order where the order shows.
        `CREATE VIEW text_records AS ${stages.map(stageSelect).join(' UNION ALL BY NAME ')}`
      : // Files in the order given, each in its own order; columns matched by name.
        `CREATE VIEW text_records AS SELECT * FROM read_parquet([${converted.map(sqlString).join(', ')}], union_by_name = true)`,
  )
  return `SELECT ${columns} FROM text_records`
}

/**
 * A staging file's records, typed; a value that is not a number where one belongs is NULL (as in
 * query). Number columns of plain digits that fit are read as numbers; others as text and cast.
 */
function stageSelect(stage: StagingFile): string {
  const read: string[] = []
  const select = stage.fields.map((field, i) => {
    const type = TYPE_OF.get(field) ?? 'VARCHAR'
    const plain = type !== 'VARCHAR' && stage.plain[i] === true
    read.push(`'c${i}': '${plain ? type : 'VARCHAR'}'`)
    // Through DOUBLE, so that "1e3" and "12.0" are numbers as in the reader.
    const value = type === 'VARCHAR' || plain ? `c${i}` : `TRY_CAST(TRY_CAST(c${i} AS DOUBLE) AS ${type})`
    return `${value} AS ${sqlIdentifier(columnName(field))}`
  })
  return (
    `SELECT ${select.join(', ')} FROM read_csv(${sqlString(stage.path)}, ` +
    `delim = '\\t', quote = '', escape = '', header = false, auto_detect = false, columns = {${read.join(', ')}})`
  )
}

/**
 * Parquet files as a view with the stored columns (read by DuckDB, columns matched by name, Athena's
 * names or AWS's; NHN Parquet mapped like NHN CSV), with the same time range as the reader, named
 * `parquet_records`; the fields it has. Its rows are counted in `stats` (from the files' footers
 * when no time range applies).
 */
async function parquetView(
  connection: DuckDBConnection,
  files: readonly SourceFile[],
  options: ReadOptions,
  stats: ReadStats,
  dir: string,
): Promise<ReadonlySet<string>> {
  // DuckDB reads local files here: objects from a bucket are copied beside the staging files.
  const paths: string[] = []
  for (const [i, f] of files.entries()) {
    if (f.localPath !== null) paths.push(f.localPath)
    else {
      mkdirSync(dir, { recursive: true })
      const path = join(dir, `${i}.parquet`)
      writeFileSync(path, await f.read())
      paths.push(path)
    }
    stats.files++
    stats.bytes += f.size
  }
  const list = `[${paths.map(sqlString).join(', ')}]`
  const described = await connection.runAndReadAll(
    `SELECT DISTINCT name FROM parquet_schema(${list}) WHERE num_children IS NULL`,
  )
  const names = described.getRowsJS().map((r) => String(r[0]))
  const schema = schemaOf(names, familyOf(names), null)
  const select: string[] = []
  const seen = new Set<string>()
  schema.rowNames.forEach((fields, column) => {
    const source = sqlIdentifier(names[column]!)
    for (const field of fields) {
      const type = TYPE_OF.get(field)
      if (type === undefined || seen.has(field)) continue
      seen.add(field)
      const value =
        schema.valueMaps[column] == null
          ? source
          : `CASE ${source} WHEN 'DROP' THEN 'REJECT' ELSE ${source} END`
      select.push(`TRY_CAST(${value} AS ${type}) AS ${sqlIdentifier(columnName(field))}`)
    }
  })
  const where: string[] = []
  const start = schema.start >= 0 ? sqlIdentifier(names[schema.start]!) : null
  const end = schema.end >= 0 ? sqlIdentifier(names[schema.end]!) : null
  const first = start ?? end
  const last = end ?? start
  if (options.since !== undefined && last !== null)
    where.push(`coalesce(coalesce(${last}, ${first}) >= ${options.since}, TRUE)`)
  if (options.until !== undefined && first !== null)
    where.push(`coalesce(coalesce(${first}, ${last}) < ${options.until}, TRUE)`)
  await connection.run(
    `CREATE VIEW parquet_records AS SELECT ${select.join(', ')} FROM read_parquet(${list}, union_by_name = true)` +
      (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''),
  )
  const [count] = (await connection.runAndReadAll('SELECT count(*) FROM parquet_records')).getRows()
  stats.rows += Number(count?.[0] ?? 0)
  return seen
}
