import { join } from 'node:path'
import type { Connection, DataChunk, Result } from '@duckdb/node-bindings'
import type { NetworkConfig } from '../core/network.js'
import { makeScratchDir, removeScratchDir } from '../ops/scratch-dirs.js'
import type { CompiledPolicy } from '../policy/compile-policy.js'
import { type DuckdbBindings, duckdbBindings } from '../read/duckdb-connection.js'
import { execute } from '../read/parquet-scan.js'
import { LineCursor, type RecordCursor } from '../read/record-cursor.js'
import { vectorStrings } from '../read/vector-strings.js'
import { StagingFile } from '../sql/staging-file.js'
import { ANALYSIS_FIELDS, cursorFlowMaker, type Flow, isTraffic, toFlow } from './flow.js'
import type { FlowRows } from './flow-row.js'
import { parseWords } from './flow-view.js'
import { type OwnScan, parquetInConversationOrder } from './parquet-own-scan.js'
import { conversationGroup, FlowPlacer, type PlacedFlow, type Placement } from './rejudge.js'
import { replayTable } from './replay-table.js'
import { scratchSettings, stagedTable, withMoreMemory, withSortProgress } from './scratch-duckdb.js'
import type { SingleRecords } from './single-records.js'

/**
 * The records of an audit or a what-if in replay order, a conversation group at a time, with
 * memory bounded whatever their number. A replay needs the records of each connection sorted by
 * start time (then rank, then read order: rejudge.ts), and files are not in that order. Holding
 * them all in JavaScript costs hundreds of bytes a record, so DuckDB sorts them by conversation
 * group (conversationGroup), then in replay order (spilling beyond its memory limit), and the
 * sorted records stream back in chunks; the replay keeps only the connections of one group. Two
 * ways:
 * - local Parquet files are sorted inside DuckDB's own scan of them (parquet-own-scan.ts), the
 *   group worked out in SQL; each record is placed and ranked as it comes back, and the records of
 *   one group and start time are put in rank order before they go on;
 * - any other source is read by flowlog's reader, each placed record written as one tab-separated
 *   line (the fields the analyses read, its interface, direction, rank, group and read order), and
 *   DuckDB sorts that file.
 * Within a group, both give exactly the order of an in-memory sort: by start, rank, then read
 * order. A consumer whose output depends on the order of records across groups orders by
 * (time, rank, seq) itself (replayOrderOf).
 *
 *   const source = await replaySource(reader, network, policy)
 *   try { for await (const batch of source.batches()) for (const p of batch) ... } finally { source.close() }
 */
export interface ReplaySource {
  /** Traffic records read (placed or not); complete once `batches` has run to its end. */
  readonly records: number
  /** Records placed on an interface of the config (what `batches` yields); complete at its end. */
  readonly placed: number
  readonly skipped: Placement['skipped']
  readonly index: Placement['index']
  /** At most how many records `batches` yields, known before it starts (a table's size, progress). */
  readonly expected: number
  /** Every accepted placed record names its rule (rule-id), and there is one: known before the replay. */
  readonly namesRules: boolean
  /**
   * The records left out of `batches` because each is the only record of its connection
   * (single-records.ts), when the caller asked for them (ReplayOptions.singles); else null.
   */
  readonly singles: SingleRecords | null
  /** The placed records in replay order, a chunk at a time (but the singles). */
  batches(): AsyncIterable<PlacedFlow[]>
  close(): void
}

export interface ReplayOptions {
  /** Told DuckDB's progress in its sort (rows processed of rows to process), when it takes a while. */
  onSorting?: (done: number, total: number) => void
  /**
   * The caller judges single records in SQL (ReplaySource.singles, replay-table.ts): leave them
   * out of the replay when the records allow it.
   */
  singles?: boolean
  /**
   * Columns of the caller's own in the single records' relation (SingleRecords.relation): name →
   * SQL over a candidate's columns there (iface, outbound, protocol, dstport, peer, cause),
   * worked out once as the records are placed rather than in each of the caller's statements.
   */
  singleColumns?: Readonly<Record<string, string>>
  /**
   * How records take their addresses' values and owners from the table of distinct addresses: by
   * the text's 64-bit hash when no two texts share one (`hash`, the default), else by the text
   * (`text`). Tests ask for `text` to see that the fallback answers the same.
   */
  addressJoin?: 'hash' | 'text'
}

/**
 * The records in replay order: sorted in DuckDB's scan when they are local Parquet files that
 * carry no rule-id (audit must know before the replay whether every accepted record names its
 * rule), else staged.
 */
export async function replaySource(
  rows: FlowRows,
  network: NetworkConfig,
  policy: CompiledPolicy,
  options: ReplayOptions = {},
): Promise<ReplaySource> {
  if (options.singles === true && (await firstRecordsMaySplit(rows))) {
    const table = await replayTable(rows, network, policy, options)
    if (table !== null) return table
  }
  if ('parquetFiles' in rows) {
    const parquet = await rows.parquetFiles()
    const ordered =
      parquet === null ? null : await parquetInConversationOrder(parquet, ANALYSIS_FIELDS, ['rule-id'])
    if (ordered !== null) return placedInOrder(ordered, network, policy)
  }
  return stageForReplay(rows, network, policy, options)
}

/** Records a sample reads at most (firstRecordsMaySplit). */
const SAMPLE = 1 << 16

/**
 * Whether the first records say that enough of them may be alone in their connection for a
 * replay table (replay-table.ts) to pay: its tables are made before it knows, so files of records
 * that mostly share their connection (each request answered) are better read as before. The first
 * SAMPLE records, read again by a reader of their own that reports nothing: a quarter or more
 * whose coarse key (single-records.ts) no other of them has. True when the records cannot be
 * sampled (standard input, rows handed over) and for local Parquet files, which the table decides
 * on cheaply itself; a guess either way changes the time, never the answer.
 */
async function firstRecordsMaySplit(rows: FlowRows): Promise<boolean> {
  if (!('sample' in rows) || (await rows.parquetFiles()) !== null) return true
  const reader = rows.sample()
  if (reader === null) return true
  const keys = new Map<string, number>()
  let n = 0
  for await (const batch of reader.batches()) {
    for (const row of batch) {
      const flow = toFlow(row)
      if (!isTraffic(flow)) continue
      if (flow.ruleId !== null) return true
      const [a, b] = [flow.srcaddr ?? '', flow.dstaddr ?? '']
      const key = `${conversationGroup(flow)} ${a < b ? a : b} ${a < b ? b : a}`
      keys.set(key, (keys.get(key) ?? 0) + 1)
      n++
    }
    if (n >= SAMPLE) break
  }
  let single = 0
  for (const count of keys.values()) if (count === 1) single++
  return n > 0 && single >= n / 4
}

/**
 * Records sorted by group, start, then read order, placed as they come: the placed records of one
 * group and start time wait until the next comes, then go on in rank order (a stable sort keeps
 * read order).
 */
export function placedInOrder(
  ordered: Pick<OwnScan, 'total' | 'conversations' | 'close'>,
  network: NetworkConfig,
  policy: CompiledPolicy,
): ReplaySource {
  const placer = new FlowPlacer(network, policy)
  let records = 0
  let placed = 0
  async function* batches(): AsyncIterable<PlacedFlow[]> {
    let time = Number.NEGATIVE_INFINITY
    let group = Number.NaN
    let ties: PlacedFlow[] = []
    let out: PlacedFlow[] = []
    const release = () => {
      if (ties.length > 1) ties.sort((a, b) => a.rank - b.rank)
      for (const p of ties) out.push(p)
      ties = []
    }
    for await (const { flows, groups, seqs } of ordered.conversations()) {
      for (let i = 0; i < flows.length; i++) {
        const flow = flows[i] as Flow
        if (!isTraffic(flow)) continue
        records++
        const p = placer.place(flow)
        if (p === null) continue
        placed++
        p.group = groups[i] ?? 0
        p.seq = seqs[i] ?? 0
        if (p.group !== group) {
          release()
          group = p.group
          time = p.time
        } else if (p.time !== time) {
          if (p.time < time) throw new Error(`replay order: a record of ${p.time} came after ${time}`)
          release()
          time = p.time
        }
        ties.push(p)
      }
      if (out.length > 0) {
        yield out
        out = []
      }
    }
    release()
    if (out.length > 0) yield out
  }
  return {
    get records() {
      return records
    },
    get placed() {
      return placed
    },
    skipped: placer.skipped,
    index: placer.index,
    expected: ordered.total,
    namesRules: false,
    singles: null,
    batches,
    close: () => ordered.close(),
  }
}

/**
 * The staged columns: what audit, what-if and the replay read of a record once it is placed (its
 * interface id, interface-view addresses and direction field only served to place it), then its
 * placement.
 */
const TEXT_COLUMNS = ['srcaddr', 'dstaddr', 'action', 'rule_id'] as const
const NUMBER_COLUMNS = [
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'tcp_flags',
] as const
const PLACE_COLUMNS = ['iface', 'place_direction', 'rank', 'seq', 'group'] as const
const COLUMNS = [...TEXT_COLUMNS, ...NUMBER_COLUMNS, ...PLACE_COLUMNS]
/** Each staged column's number in the sorted result. */
const C = Object.fromEntries(COLUMNS.map((c, i) => [c, i])) as Record<(typeof COLUMNS)[number], number>

export async function stageForReplay(
  rows: FlowRows,
  network: NetworkConfig,
  policy: CompiledPolicy,
  options: ReplayOptions = {},
): Promise<ReplaySource> {
  const dir = makeScratchDir('flowlog-replay-')
  let db: SortingDuckDB | null = null
  let open: StagingFile | null = null
  const close = () => {
    open?.close()
    open = null
    db?.close()
    removeScratchDir(dir)
  }
  try {
    const placer = new FlowPlacer(network, policy)
    const stage = new StagingFile(join(dir, 'placed.tsv'), COLUMNS)
    open = stage
    let records = 0
    let accepted = 0
    let acceptedWithRuleId = 0
    const put = (value: string | number | null) => {
      stage.next()
      if (typeof value === 'number') stage.number(value)
      else if (value !== null) stage.text(value)
    }
    const stageFlow = (flow: Flow) => {
      if (!isTraffic(flow)) return
      records++
      const p = placer.place(flow)
      if (p === null) return
      if (flow.action === 'ACCEPT') {
        accepted++
        if (flow.ruleId !== null) acceptedWithRuleId++
      }
      put(flow.srcaddr)
      put(flow.dstaddr)
      put(flow.action)
      put(flow.ruleId)
      put(flow.srcport)
      put(flow.dstport)
      put(flow.protocol)
      put(flow.packets)
      put(flow.bytes)
      put(flow.start)
      put(flow.end)
      put(flow.tcpFlags)
      put(p.iface)
      put(p.direction)
      put(p.rank)
      put(stage.rows)
      put(p.group)
      stage.endRow()
    }
    if ('scan' in rows) {
      // The reader's records straight from its cursor: no row object between the line and the Flow.
      let makeFlow: ((cursor: RecordCursor) => Flow) | null = null
      const scan = rows.scan({
        bind: (schema) => {
          makeFlow = cursorFlowMaker(schema)
          return null
        },
        take: (cursor) => {
          stageFlow(
            makeFlow !== null && cursor instanceof LineCursor ? makeFlow(cursor) : toFlow(cursor.toRow()),
          )
          return undefined
        },
      })
      for await (const _ of scan) {
        // Records are staged as they are read.
      }
    } else for await (const row of rows) stageFlow(toFlow(row))
    stage.close()
    open = null
    db = await openSortingDuckDB(dir)
    const types = Object.fromEntries(
      COLUMNS.map((c) => [c, (TEXT_COLUMNS as readonly string[]).includes(c) ? 'VARCHAR' : 'DOUBLE']),
    )
    const sql = `SELECT ${COLUMNS.map((c) => `"${c}"`).join(', ')} FROM ${stagedTable(stage, types)} ORDER BY "group", start, rank, seq`
    const sorting = db
    const placed = stage.rows
    return {
      records,
      placed,
      skipped: placer.skipped,
      index: placer.index,
      expected: placed,
      namesRules: accepted > 0 && acceptedWithRuleId === accepted,
      singles: null,
      batches: () => sortedBatches(sorting, sql, placed, options.onSorting),
      close,
    }
  } catch (error) {
    close()
    throw error
  }
}

/** A DuckDB of the low-level bindings for the sort: its chunks are read in place, a column at a time. */
interface SortingDuckDB {
  readonly duckdb: DuckdbBindings
  readonly connection: Connection
  close(): void
}

async function openSortingDuckDB(dir: string): Promise<SortingDuckDB> {
  const duckdb = duckdbBindings()
  const database = await duckdb.open(':memory:')
  let connection: Connection | null = null
  const close = () => {
    if (connection !== null) duckdb.disconnect_sync(connection)
    duckdb.close_sync(database)
  }
  try {
    connection = await duckdb.connect(database)
    for (const setting of scratchSettings(dir)) await duckdb.query(connection, setting)
    return { duckdb, connection, close }
  } catch (error) {
    close()
    throw error
  }
}

const TEXT_COUNT = TEXT_COLUMNS.length
const COLUMN_COUNT = TEXT_COUNT + NUMBER_COLUMNS.length + PLACE_COLUMNS.length

/**
 * Runs the sort up to its first chunk (a sort reads everything before its first row comes out),
 * with more memory when it runs out (withMoreMemory): nothing has been replayed yet.
 */
async function sortedResult(
  db: SortingDuckDB,
  sql: string,
  onSorting: ReplayOptions['onSorting'],
): Promise<{ result: Result; first: DataChunk | null }> {
  const { duckdb, connection } = db
  return withMoreMemory(
    connection,
    () =>
      withSortProgress(duckdb, connection, onSorting, async () => {
        const result = await execute(duckdb, connection, sql, true)
        return { result, first: await duckdb.fetch_chunk(result) }
      }),
    (setting) => duckdb.query(connection, setting),
  )
}

async function* sortedBatches(
  db: SortingDuckDB,
  sql: string,
  placed: number,
  onSorting: ReplayOptions['onSorting'],
): AsyncIterable<PlacedFlow[]> {
  if (placed === 0) return
  const { duckdb } = db
  const { result, first } = await sortedResult(db, sql, onSorting)
  // Each column of a chunk, read in place: strings decoded a vector at a time (vectorStrings),
  // numbers straight from the doubles.
  const texts: (string | undefined)[][] = []
  const numbers: (Float64Array | null)[] = []
  const valid: (Uint8Array | null)[] = []
  let next: Promise<DataChunk | null> = Promise.resolve(first)
  try {
    for (;;) {
      const chunk = await next
      if (chunk === null || duckdb.data_chunk_get_size(chunk) === 0) return
      // The next chunk is copied out of the result while this one is read.
      next = duckdb.fetch_chunk(result)
      const size = duckdb.data_chunk_get_size(chunk)
      for (let c = 0; c < COLUMN_COUNT; c++) {
        const vector = duckdb.data_chunk_get_vector(chunk, c)
        const validity =
          (duckdb.vector_get_validity(vector, Math.ceil(size / 64) * 8) as Uint8Array | null) ?? null
        valid[c] = validity
        if (c < TEXT_COUNT) {
          texts[c] = vectorStrings(duckdb, duckdb.vector_get_data(vector, size * 16), validity, size)
        } else {
          const data = duckdb.vector_get_data(vector, size * 8)
          // A copy: the chunk's memory is DuckDB's, and a Float64Array needs 8-byte alignment.
          numbers[c] = new Float64Array(data.slice().buffer, 0, size)
        }
      }
      const text = (c: number, row: number): string | null => texts[c]?.[row] ?? null
      const number = (c: number, row: number): number | null => {
        const v = valid[c]
        if (v != null && ((v[row >> 3]! >> (row & 7)) & 1) === 0) return null
        return numbers[c]?.[row] ?? null
      }
      const batch: PlacedFlow[] = []
      for (let row = 0; row < size; row++) {
        const p = placedOf(text, number, row)
        if (p !== null) batch.push(p)
      }
      yield batch
    }
  } finally {
    // A caller that stops early leaves a fetch running; its outcome no longer matters.
    next.catch(() => {})
  }
}

/**
 * A staged line back as the placed record it was: the fields the analyses read once it is placed;
 * the rest null.
 */
function placedOf(
  text: (column: number, row: number) => string | null,
  number: (column: number, row: number) => number | null,
  row: number,
): PlacedFlow | null {
  const action = text(C.action, row)
  const flow: Flow = {
    interfaceId: null,
    instanceId: null,
    subnetId: null,
    vpcId: null,
    srcaddr: text(C.srcaddr, row),
    dstaddr: text(C.dstaddr, row),
    ifSrcaddr: null,
    ifDstaddr: null,
    srcport: number(C.srcport, row),
    dstport: number(C.dstport, row),
    protocol: number(C.protocol, row),
    packets: number(C.packets, row) ?? 0,
    bytes: number(C.bytes, row) ?? 0,
    start: number(C.start, row),
    end: number(C.end, row),
    action: action === 'ACCEPT' || action === 'REJECT' ? action : null,
    logStatus: null,
    direction: null,
    tcpFlags: number(C.tcp_flags, row),
    ruleId: text(C.rule_id, row),
    rejectReason: null,
  }
  const words = parseWords(flow)
  if (words === null || flow.start === null) return null
  return {
    flow,
    iface: number(C.iface, row) ?? 0,
    direction: (number(C.place_direction, row) ?? 0) as PlacedFlow['direction'],
    time: flow.start,
    rank: number(C.rank, row) ?? 0,
    words,
    seq: number(C.seq, row) ?? 0,
    group: number(C.group, row) ?? 0,
  }
}
