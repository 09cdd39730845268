import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
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
import { STORED_COLUMNS } from './flows-columns.js'
import { StagingFile } from './staging-file.js'

/**
 * An in-memory DuckDB holding flow-log records as `flows`, the table AWS's Athena DDL defines
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
 * bad lines, the same time range) and staged into DuckDB as tab-separated text; Parquet files are
 * read by DuckDB itself, columns matched by name. `stats` is complete when the promise resolves.
 */
export interface FlowsDatabase {
  readonly connection: DuckDBConnection
  readonly stats: ReadStats
  /** Stored columns no record has a value in (fields none of the sources carry). */
  emptyColumns(): Promise<Set<string>>
  close(): void
}

export async function openFlowsDatabase(
  sources: readonly string[],
  options: ReadOptions = {},
): Promise<FlowsDatabase> {
  const listing = await listSources(sources, options.since, options.until)
  const stats = emptyStats()
  stats.skippedFiles = listing.pruned
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  const staging = mkdtempSync(join(tmpdir(), 'flowlog-sql-'))
  // Where DuckDB spills the records and its sorts and joins beyond DUCKDB_MEMORY_LIMIT: a day of a busy
  // VPC is more than memory, and a bounded footprint matters more than never touching the disk.
  const spill = mkdtempSync(join(tmpdir(), 'flowlog-sql-spill-'))
  const closeAll = () => {
    connection.closeSync()
    instance.closeSync()
    rmSync(spill, { recursive: true, force: true })
  }
  try {
    await connection.run(`SET TimeZone = 'UTC'`)
    await connection.run(`SET memory_limit = '${DUCKDB_MEMORY_LIMIT}'`)
    await connection.run(`SET temp_directory = ${sqlString(spill)}`)
    const columns = STORED_COLUMNS.map((c) => `${sqlIdentifier(c.column)} ${c.type}`).join(', ')
    await connection.run(`CREATE TABLE text_records (${columns})`)
    const parquet = listing.files.filter(isParquet)
    const other = listing.files.filter((f) => !isParquet(f))
    for (const stage of await stageRecords(other, options, stats, staging)) await ingest(connection, stage)
    // Parquet files stay where they are (objects from a bucket are copied beside the spill, which
    // lives as long as the database): `flows` reads them in every query, so DuckDB scans only the
    // columns a query names, where copying them in would write every column of every record.
    const parquetRecords =
      parquet.length > 0
        ? await parquetView(connection, parquet, options, stats, join(spill, 'objects'))
        : null
    await connection.run(
      parquetRecords === null
        ? 'CREATE VIEW flow_records AS SELECT * FROM text_records'
        : `CREATE VIEW flow_records AS SELECT * FROM text_records UNION ALL BY NAME SELECT * FROM ${parquetRecords}`,
    )
    registerCommunityId(connection)
    await defineAthenaFunctions(connection)
    await connection.run(`CREATE VIEW flows AS SELECT *,
      community_id(CAST(protocol AS INTEGER), coalesce(pkt_srcaddr, srcaddr), coalesce(pkt_dstaddr, dstaddr), srcport, dstport) AS community_id,
      community_id_elastic(CAST(protocol AS INTEGER), srcaddr, dstaddr, srcport, dstport) AS community_id_elastic,
      CAST(to_timestamp(start) AS DATE) AS "date"
      FROM flow_records`)
    return {
      connection,
      stats,
      emptyColumns: async () => {
        const counts = STORED_COLUMNS.map((c, i) => `count(${sqlIdentifier(c.column)}) AS c${i}`).join(', ')
        const [row] = (await connection.runAndReadAll(`SELECT ${counts} FROM flow_records`)).getRows()
        return new Set(STORED_COLUMNS.filter((_, i) => Number(row?.[i] ?? 0) === 0).map((c) => c.column))
      },
      close: closeAll,
    }
  } catch (error) {
    closeAll()
    throw error
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
}

/**
 * DuckDB's share of the 1.5 GB a command may use (issue 14): the rest is Node's, the reader's
 * buffers and the output. FLOWLOG_DUCKDB_MEMORY changes it (DuckDB's units: 500MB, 4GB).
 */
export const DUCKDB_MEMORY_LIMIT = duckdbMemory('1GB')

/**
 * DuckDB's share in detect, audit and what-if, which keep state of their own in JavaScript beside
 * it (connection tables, conversations, usage, findings): a quarter of sql's, their sorts and groups
 * spill sooner (measured at 10 M records: no slower, 1.7 -> 1.4 GB for audit). FLOWLOG_DUCKDB_MEMORY
 * sets both.
 */
export const ANALYSIS_DUCKDB_MEMORY_LIMIT = duckdbMemory('256MB')

/**
 * detect's share: its groups spill, but the samples of the candidate contacts (an aggregate of text
 * a contact, a few scanners' worth) are held, which 256 MB does not fit at 10 M records (400,000
 * candidate contacts); at 512 MB detect peaks at 0.9 GB there. FLOWLOG_DUCKDB_MEMORY sets it too.
 */
export const DETECT_DUCKDB_MEMORY_LIMIT = duckdbMemory('512MB')

function duckdbMemory(fallback: string): string {
  const set = process.env.FLOWLOG_DUCKDB_MEMORY ?? ''
  return /^\d+(\.\d+)?\s*[KMGT]i?B$/i.test(set) ? set : fallback
}

const TYPE_OF: ReadonlyMap<string, string> = new Map(STORED_COLUMNS.map((c) => [c.field, c.type]))

/**
 * Every record of the text, CSV and JSONL files into staging files, one per distinct set of fields.
 * The scanner does the reading (formats, headers, bad lines, time range); each record's fields are
 * copied as they stand in the file.
 */
async function stageRecords(
  files: readonly SourceFile[],
  options: ReadOptions,
  stats: ReadStats,
  dir: string,
): Promise<StagingFile[]> {
  const stages = new Map<string, StagingFile>()
  let stage: StagingFile | null = null
  /** Per staging column, the column of the current file's schema. */
  let columns: number[] = []
  const scan = scanFiles({
    files,
    options,
    stats,
    sink: {
      bind: (schema) => {
        const fields: string[] = []
        columns = []
        schema.rowNames.forEach((names, column) => {
          // Absent object fields read as null; only fields flowlog stores have a column.
          if (column >= schema.width) return
          for (const field of names) {
            if (!TYPE_OF.has(field) || fields.includes(field)) continue
            fields.push(field)
            columns.push(column)
          }
        })
        const key = fields.join(' ')
        let found = stages.get(key)
        if (found === undefined) {
          found = new StagingFile(join(dir, `${stages.size}.tsv`), fields)
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
  for await (const _ of scan) {
    // Records are staged as they are read.
  }
  for (const s of stages.values()) s.close()
  return [...stages.values()].filter((s) => s.rows > 0)
}

function valueText(cursor: RecordCursor, column: number): string | null {
  if (cursor.schema.numeric[column]) {
    const n = cursor.number(column)
    return n === null ? null : String(n)
  }
  return cursor.text(column)
}

/** A staging file into text_records; a value that is not a number where one belongs is NULL (as in query). */
async function ingest(connection: DuckDBConnection, stage: StagingFile): Promise<void> {
  const names = stage.fields.map((_, i) => `c${i}`)
  const types = `{${names.map((n) => `'${n}': 'VARCHAR'`).join(', ')}}`
  const select = stage.fields
    .map((field, i) => {
      const type = TYPE_OF.get(field) ?? 'VARCHAR'
      const value = type === 'VARCHAR' ? `c${i}` : `TRY_CAST(TRY_CAST(c${i} AS DOUBLE) AS ${type})`
      return `${value} AS ${sqlIdentifier(columnName(field))}`
    })
    .join(', ')
  await connection.run(
    `INSERT INTO text_records BY NAME SELECT ${select} FROM read_csv(${sqlString(stage.path)}, ` +
      `delim = '\\t', quote = '', escape = '', header = false, auto_detect = false, columns = ${types})`,
  )
}

/**
 * Parquet files as a view with the stored columns (read by DuckDB, columns matched by name, Athena's
 * names or AWS's; NHN Parquet mapped like NHN CSV), with the same time range as the reader; its
 * name. Its rows are counted in `stats` (from the files' footers when no time range applies).
 */
async function parquetView(
  connection: DuckDBConnection,
  files: readonly SourceFile[],
  options: ReadOptions,
  stats: ReadStats,
  dir: string,
): Promise<string> {
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
  return 'parquet_records'
}
