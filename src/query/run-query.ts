import { Writable } from 'node:stream'
import { protocolName } from '../analyze/detections/finding.js'
import { humanBytes, isBytesColumn } from '../analyze/output.js'
import { closestName } from '../config/closest-name.js'
import { InputError } from '../core/errors.js'
import { columnsOf, type FileSchema } from '../read/file-schema.js'
import type { FlowRow, FlowValue } from '../read/flow-row.js'
import { KNOWN_FIELDS } from '../read/flow-row.js'
import { listSources } from '../read/list-sources.js'
import { emptyStats, type ReadOptions, type ReadStats } from '../read/read-options.js'
import type { RecordCursor } from '../read/record-cursor.js'
import { scanFiles } from '../read/scan-files.js'
import { compileFilter } from './compile-filter.js'
import { fieldNamed } from './field-names.js'
import type { FilterNode } from './filter.js'
import { filterToSql, usesField } from './filter-sql.js'
import { parallelWorkers, readInParallel } from './parallel-query.js'
import type { WorkerSetup } from './query-worker.js'
import { RowSorter, type SortKey } from './row-sorter.js'
import { type Cell, type OutputFormat, RowWriter } from './row-writer.js'
import { TIME_FIELDS, TimeFormat } from './time-format.js'
import { filterFields, unseenFieldWarnings } from './unseen-fields.js'

/** What `flowlog query` shows by default in a table or CSV: AWS's default format without version and account. */
export const DEFAULT_QUERY_FIELDS: readonly string[] = [
  'start',
  'end',
  'interface-id',
  'srcaddr',
  'srcport',
  'dstaddr',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'action',
  'log-status',
]

export interface QueryOptions extends ReadOptions {
  filter: FilterNode
  format: OutputFormat
  /** Fields to show; null: the defaults (table, CSV) or each record's own fields (JSON Lines, JSON). */
  fields: readonly string[] | null
  /** Time zone for readable times; UTC unless --tz. */
  zone: string
  /** Keep start/end as unix numbers instead of readable times. */
  unixTimes: boolean
  /** Stop after this many matching records. */
  limit?: number
  /** Count matching records, print nothing else. */
  countOnly: boolean
  /** Write the matching records in this order (the first `limit` of them). */
  sort?: readonly SortKey[]
}

export interface QueryResult {
  stats: ReadStats
  matched: number
  /** Fields the query asked about that no source file has (unseen-fields.ts). */
  warnings: string[]
}

/**
 * Reads the sources, keeps the records the filter takes, and writes them to `out` as they come.
 * The filter runs on the raw records (RecordCursor); only matching records become rows.
 */
export async function runQuery(
  sources: readonly string[],
  options: QueryOptions,
  out: NodeJS.WritableStream,
): Promise<QueryResult> {
  const stats = emptyStats()
  const fields = options.fields === null ? null : resolveFields(options.fields)
  const seen = new Set<string>()
  const see = (names: Iterable<string>) => {
    for (const name of names) seen.add(name)
  }
  const compiled = compileFilter(options.filter)
  // Community IDs are not columns of any file: a filter on one runs on the finished row.
  const idNames = ['community-id', 'community-id-elastic']
  const filterOnId = idNames.some((f) => usesField(options.filter, f))
  const idFields = idNames.filter(
    (f) =>
      usesField(options.filter, f) ||
      fields?.includes(f) === true ||
      (f === 'community-id' && options.communityId === true),
  )
  // Community ID hashes with node:crypto: loaded only when asked for.
  const idOf =
    idFields.length === 0 ? null : (await import('../community-id/community-id.js')).COMMUNITY_ID_FIELDS
  const addIds =
    idOf === null
      ? null
      : (row: FlowRow) => {
          for (const f of idFields) row[f] = idOf.get(f)?.(row) ?? null
        }
  const shown =
    fields ?? (options.format === 'table' || options.format === 'csv' ? DEFAULT_QUERY_FIELDS : null)
  const table = options.format === 'table'
  const times = options.unixTimes ? null : new TimeFormat(options.zone, table)
  const headers = shown?.map((f) =>
    table && times !== null && TIME_FIELDS.has(f) ? `${f} (${options.zone})` : f,
  )
  // --count prints the number alone, whatever the format: no header row, no opening bracket.
  const writer = new RowWriter(options.countOnly ? discard() : out, options.format, shown ?? [], headers)
  const limit = options.limit ?? Number.POSITIVE_INFINITY
  // Sorted output holds the rows until the end; the limit then cuts the sorted list, not the read.
  const sorter =
    options.sort === undefined || options.sort.length === 0 || options.countOnly
      ? null
      : new RowSorter(options.sort, limit)
  const readLimit = sorter === null ? limit : Number.POSITIVE_INFINITY
  let matched = 0

  const cell = (field: string, value: FlowValue | undefined): Cell => {
    if (value === undefined || value === null) return null
    // Tables are for people: byte counts and protocols in words (CSV and JSON keep the numbers).
    if (table && typeof value === 'number') {
      if (field === 'protocol') return protocolName(value)
      if (isBytesColumn(field)) return humanBytes(value)
    }
    if (times !== null && typeof value === 'number') {
      const unit = TIME_FIELDS.get(field)
      if (unit === 'seconds') return times.format(value, false)
      if (unit === 'millis') return times.format(value / 1000, true)
    }
    return value
  }
  const write = (row: FlowRow) => {
    if (shown !== null) writer.row(shown.map((f) => cell(f, row[f])))
    else writer.record(Object.entries(row).map(([k, v]) => [k, cell(k, v)] as const))
  }
  const emit = (row: FlowRow) => (sorter === null ? write(row) : sorter.add(row))
  // Fixed columns without a Community ID come straight from the record, with no row object: the
  // columns the fields are read from are worked out once per schema.
  let schemaOfColumns: FileSchema | null = null
  let columns: number[] = []
  const emitRecord = (cursor: RecordCursor, fields: readonly string[]) => {
    const { schema } = cursor
    if (schema !== schemaOfColumns) {
      columns = columnsOf(schema, fields)
      schemaOfColumns = schema
    }
    const cells = new Array<Cell>(columns.length)
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!
      cells[i] = c < 0 ? null : cell(fields[i]!, schema.numeric[c] ? cursor.number(c) : cursor.text(c))
    }
    writer.row(cells)
  }

  const listing = await listSources(sources, options.since, options.until)
  stats.skippedFiles += listing.pruned
  let files = listing.files
  const workers = filterOnId ? 0 : parallelWorkers(files)
  if (workers > 0) {
    const setup: WorkerSetup = {
      filter: options.filter,
      options: {
        ...(options.since === undefined ? {} : { since: options.since }),
        ...(options.until === undefined ? {} : { until: options.until }),
        ...(options.logFormat === undefined ? {} : { logFormat: options.logFormat }),
      },
      idFields,
      countOnly: options.countOnly,
    }
    const more = () => matched < readLimit && !writer.closed
    const stopped = await readInParallel(
      files,
      workers,
      setup,
      options,
      stats,
      {
        take: (row) => {
          matched++
          emit(row)
          return more()
        },
        count: (n) => {
          matched += n
          return true
        },
        fields: see,
      },
      async () => {
        await writer.flush()
        return !writer.closed
      },
    )
    // The rest is read here: a file kept too many records to copy between threads.
    files = more() ? files.slice(stopped) : []
  }
  const scan = scanFiles({
    files,
    options,
    stats,
    sink: {
      bind: (schema) => {
        see(schema.index.keys())
        return filterOnId ? null : compiled.bind(schema)
      },
      take: (cursor) => {
        // Counting needs no row, unless the filter is on the Community ID it holds.
        if (options.countOnly && !filterOnId) return ++matched < readLimit && !writer.closed
        if (shown !== null && addIds === null && sorter === null) {
          emitRecord(cursor, shown)
          return ++matched < readLimit && !writer.closed
        }
        const row = cursor.toRow()
        addIds?.(row)
        if (filterOnId && !compiled.testRow(row)) return undefined
        matched++
        if (!options.countOnly) emit(row)
        return matched < readLimit && !writer.closed
      },
      ...(filterOnId ? {} : { sqlFor: (schema, columnOf) => filterToSql(options.filter, schema, columnOf) }),
    },
  })
  for await (const _ of scan) {
    await writer.flush()
    if (writer.closed) break
  }
  if (sorter !== null) {
    for (const row of sorter.rows()) {
      write(row)
      await writer.flush()
      if (writer.closed) break
    }
  }
  if (options.countOnly) {
    out.write(`${matched}\n`)
  } else await writer.end()
  const wanted = [
    ...filterFields(options.filter),
    ...(options.fields === null ? [] : options.fields).map((written, i) => ({
      option: '--fields' as const,
      written,
      fields: [fields?.[i] ?? written],
    })),
  ]
  return { stats, matched, warnings: unseenFieldWarnings(wanted, seen) }
}

function resolveFields(names: readonly string[]): string[] {
  return names.map((name) => {
    const field = fieldNamed(name)
    if (field === null) {
      const near = closestName(name, [...KNOWN_FIELDS.keys()])
      throw new InputError(
        `--fields: "${name}" is not a flow-log field${near === null ? ' (AWS names such as srcaddr, dstport, action; or community-id, community-id-elastic)' : ` (did you mean "${near}"?)`}`,
      )
    }
    return field
  })
}

/** A stream that takes everything and keeps nothing. */
function discard(): NodeJS.WritableStream {
  return new Writable({ write: (_chunk, _encoding, done) => done() })
}
