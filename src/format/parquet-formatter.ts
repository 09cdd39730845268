import { readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api'
import { findField } from '../config/fields.js'
import type { FlowRecord } from '../core/flow-record.js'
import type { FormatContext, Formatter } from '../core/stages.js'
import { planFields } from './field-plan.js'
import { AWS_FIELD_VALUES, type FieldValue } from './field-values.js'

/** DuckDB's vector size: one data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048

/**
 * Apache Parquet with AWS's columns (reference 2.2): the configured fields in their order, named
 * as AWS's Parquet files and Athena tables name them (`-` becomes `_`: `account_id`, `log_status`),
 * typed INT_32 (version, ports, protocol, tcp_flags, traffic_path), INT_64 (packets, bytes, start,
 * end and the extras' counts and milliseconds) or STRING, and null where text shows `-`. The
 * values come from the same functions as the text format, so both hold the same records.
 *
 * Written by an in-memory DuckDB (`COPY ... TO ... (FORMAT parquet)`), the engine DESIGN already
 * embeds for queries. Compression is inside the file, per column: `compression: gzip` is Parquet's
 * GZIP codec, as AWS writes its Parquet flow logs, and `none` is uncompressed. No gzip is wrapped
 * around the file: Parquet readers would not see it as Parquet.
 */
export class ParquetFormatter implements Formatter {
  readonly extension = 'log.parquet'

  encode(records: readonly FlowRecord[], context: FormatContext): Promise<Uint8Array> {
    const { names, values, scope } = planFields(context, AWS_FIELD_VALUES, 'parquet')
    const columns = names.map((name) => ({ name: parquetColumnName(name), type: typeOf(name) }))
    const codec = context.flowLog.compression === 'gzip' ? 'gzip' : 'uncompressed'
    const rows = (start: number, end: number): FieldValue[][] =>
      columns.map((_, f) => {
        const value = values[f]!
        const out: FieldValue[] = new Array(end - start)
        for (let r = start; r < end; r++) out[r - start] = value(records[r]!, scope)
        return out
      })
    return serialised(() => writeParquet(columns, records.length, rows, codec))
  }
}

/** AWS's Parquet and Athena column name of a field: `log-status` → `log_status`. */
export function parquetColumnName(field: string): string {
  return field.replaceAll('-', '_')
}

type ColumnType = 'int32' | 'int64' | 'string'

function typeOf(field: string): ColumnType {
  return (findField(field, 'aws') ?? findField(field, 'flowlog'))?.type ?? 'string'
}

interface Column {
  name: string
  type: ColumnType
}

// One DuckDB per thread, opened on first use, so flow logs without Parquet never load it.
let connection: Promise<DuckDBConnection> | null = null
let queue: Promise<unknown> = Promise.resolve()
let fileNumber = 0

/** One file at a time through the thread's one connection. */
function serialised<T>(task: () => Promise<T>): Promise<T> {
  const run = queue.then(task, task)
  queue = run.catch(() => {})
  return run
}

async function open(): Promise<DuckDBConnection> {
  const { DuckDBInstance } = await import('@duckdb/node-api')
  // One thread: the packet path has the other core (DESIGN 8).
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' })
  return instance.connect()
}

async function writeParquet(
  columns: readonly Column[],
  count: number,
  rows: (start: number, end: number) => FieldValue[][],
  codec: 'gzip' | 'uncompressed',
): Promise<Uint8Array> {
  const duckdb = await import('@duckdb/node-api')
  connection ??= open()
  const db = await connection
  const n = ++fileNumber
  const table = `flowlog_parquet_${n}`
  const path = join(tmpdir(), `.flowlog-${process.pid}-${threadId}-${n}.parquet`)
  const sqlTypes: Record<ColumnType, string> = { int32: 'INTEGER', int64: 'BIGINT', string: 'VARCHAR' }
  const chunkTypes: Record<ColumnType, DuckDBType> = {
    int32: duckdb.INTEGER,
    int64: duckdb.BIGINT,
    string: duckdb.VARCHAR,
  }
  await db.run(
    `CREATE TABLE ${table} (${columns.map((c) => `${quoteIdentifier(c.name)} ${sqlTypes[c.type]}`).join(', ')})`,
  )
  try {
    if (columns.length > 0 && count > 0) {
      const appender = await db.createAppender(table)
      try {
        for (let start = 0; start < count; start += CHUNK_ROWS) {
          const end = Math.min(count, start + CHUNK_ROWS)
          const chunk = duckdb.DuckDBDataChunk.create(
            columns.map((c) => chunkTypes[c.type]),
            end - start,
          )
          chunk.setColumns(rows(start, end).map((column, f) => toDuckDB(column, columns[f]!.type)))
          appender.appendDataChunk(chunk)
        }
        appender.flushSync()
      } finally {
        appender.closeSync()
      }
    }
    await db.run(`COPY ${table} TO ${quoteString(path)} (FORMAT parquet, COMPRESSION ${codec})`)
    return await readFile(path)
  } finally {
    await db.run(`DROP TABLE IF EXISTS ${table}`).catch(() => {})
    await rm(path, { force: true })
  }
}

function toDuckDB(column: FieldValue[], type: ColumnType): DuckDBValue[] {
  if (type === 'string') return column.map((v) => (v === null ? null : String(v)))
  if (type === 'int32') return column.map((v) => (v === null ? null : Number(v)))
  return column.map((v) => (v === null ? null : BigInt(Math.trunc(Number(v)))))
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

function quoteString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`
}
