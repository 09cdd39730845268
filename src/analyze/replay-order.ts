import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DuckDBConnection } from '@duckdb/node-api'
import type { NetworkConfig } from '../core/network.js'
import type { CompiledPolicy } from '../policy/compile-policy.js'
import type { FlowReader } from '../read/index.js'
import { StagingFile } from '../sql/staging-file.js'
import { ANALYSIS_FIELDS, type Flow, isTraffic, toFlow } from './flow.js'
import type { FlowRow } from './flow-row.js'
import { parseWords } from './flow-view.js'
import { type OwnScan, parquetInStartOrder } from './parquet-own-scan.js'
import { FlowPlacer, type PlacedFlow, type Placement } from './rejudge.js'
import { openScratchDuckDB, type ScratchDuckDB, stagedTable, withQueryProgress } from './scratch-duckdb.js'

/**
 * The records of an audit or a what-if in replay order, with memory bounded whatever their number.
 * A replay needs every record sorted by start time (then rank, then read order: rejudge.ts), and
 * files are not in that order. Holding them all in JavaScript costs hundreds of bytes a record, so
 * DuckDB sorts them (spilling beyond its memory limit) and the sorted records stream back in
 * chunks; the replay keeps only its connection table. Two ways:
 * - local Parquet files are sorted by start inside DuckDB's own scan of them
 *   (parquet-in-order.ts); each record is placed and ranked as it comes back, and the records of
 *   one start time (a second's worth, at most) are put in rank order before they go on;
 * - any other source is read by flowlog's reader, each placed record written as one tab-separated
 *   line (the fields the analyses read, its interface, direction, rank and read order), and DuckDB
 *   sorts that file.
 * Both give exactly the order of an in-memory sort: by start, rank, then read order.
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
  /** The placed records in replay order, a chunk at a time. */
  batches(): AsyncIterable<PlacedFlow[]>
  close(): void
}

export interface ReplayOptions {
  /** Told DuckDB's progress in its sort (rows processed of rows to process), when it takes a while. */
  onSorting?: (done: number, total: number) => void
}

/**
 * The records in replay order: sorted in DuckDB's scan when they are local Parquet files that
 * carry no rule-id (audit must know before the replay whether every accepted record names its
 * rule), else staged.
 */
export async function replaySource(
  rows: AsyncIterable<FlowRow> | Iterable<FlowRow> | FlowReader,
  network: NetworkConfig,
  policy: CompiledPolicy,
  options: ReplayOptions = {},
): Promise<ReplaySource> {
  if ('parquetFiles' in rows) {
    const parquet = await rows.parquetFiles()
    const ordered = parquet === null ? null : await parquetInStartOrder(parquet, ANALYSIS_FIELDS, ['rule-id'])
    if (ordered !== null) return placedInOrder(ordered, network, policy)
  }
  return stageForReplay(rows, network, policy, options)
}

/**
 * Records sorted by start (then read order) placed as they come: the placed records of one start
 * time wait until the next time comes, then go on in rank order (a stable sort keeps read order).
 */
function placedInOrder(ordered: OwnScan, network: NetworkConfig, policy: CompiledPolicy): ReplaySource {
  const placer = new FlowPlacer(network, policy)
  let records = 0
  let placed = 0
  async function* batches(): AsyncIterable<PlacedFlow[]> {
    let time = Number.NEGATIVE_INFINITY
    let ties: PlacedFlow[] = []
    let out: PlacedFlow[] = []
    const release = () => {
      if (ties.length > 1) ties.sort((a, b) => a.rank - b.rank)
      for (const p of ties) out.push(p)
      ties = []
    }
    for await (const rows of ordered.batches()) {
      for (const row of rows) {
        const flow = toFlow(row)
        if (!isTraffic(flow)) continue
        records++
        const p = placer.place(flow)
        if (p === null) continue
        placed++
        if (p.time !== time) {
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
    batches,
    close: () => ordered.close(),
  }
}

/** The staged columns: what audit, what-if and the replay read of a record, then its placement. */
const TEXT_COLUMNS = [
  'interface_id',
  'srcaddr',
  'dstaddr',
  'if_srcaddr',
  'if_dstaddr',
  'action',
  'direction',
  'rule_id',
] as const
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
const PLACE_COLUMNS = ['iface', 'place_direction', 'rank', 'seq'] as const

export async function stageForReplay(
  rows: AsyncIterable<FlowRow> | Iterable<FlowRow>,
  network: NetworkConfig,
  policy: CompiledPolicy,
  options: ReplayOptions = {},
): Promise<ReplaySource> {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-replay-'))
  let db: ScratchDuckDB | null = null
  let open: StagingFile | null = null
  const close = () => {
    open?.close()
    open = null
    db?.close()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const placer = new FlowPlacer(network, policy)
    const columns = [...TEXT_COLUMNS, ...NUMBER_COLUMNS, ...PLACE_COLUMNS]
    const stage = new StagingFile(join(dir, 'placed.tsv'), columns)
    open = stage
    let records = 0
    let accepted = 0
    let acceptedWithRuleId = 0
    const put = (value: string | number | null) => {
      stage.next()
      if (value !== null) stage.text(typeof value === 'number' ? String(value) : value)
    }
    for await (const row of rows) {
      const flow = toFlow(row)
      if (!isTraffic(flow)) continue
      records++
      const p = placer.place(flow)
      if (p === null) continue
      if (flow.action === 'ACCEPT') {
        accepted++
        if (flow.ruleId !== null) acceptedWithRuleId++
      }
      put(flow.interfaceId)
      put(flow.srcaddr)
      put(flow.dstaddr)
      put(flow.ifSrcaddr)
      put(flow.ifDstaddr)
      put(flow.action)
      put(flow.direction)
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
      stage.endRow()
    }
    stage.close()
    open = null
    db = await openScratchDuckDB(dir)
    const types = Object.fromEntries(
      columns.map((c) => [c, (TEXT_COLUMNS as readonly string[]).includes(c) ? 'VARCHAR' : 'DOUBLE']),
    )
    const sql = `SELECT ${columns.map((c) => `"${c}"`).join(', ')} FROM ${stagedTable(stage, types)} ORDER BY start, rank, seq`
    const connection = db.connection
    const placed = stage.rows
    return {
      records,
      placed,
      skipped: placer.skipped,
      index: placer.index,
      expected: placed,
      namesRules: accepted > 0 && acceptedWithRuleId === accepted,
      batches: () => sortedBatches(connection, sql, placed, options.onSorting),
      close,
    }
  } catch (error) {
    close()
    throw error
  }
}

async function* sortedBatches(
  connection: DuckDBConnection,
  sql: string,
  placed: number,
  onSorting: ReplayOptions['onSorting'],
): AsyncIterable<PlacedFlow[]> {
  if (placed === 0) return
  // The sort runs before its first chunk comes out.
  const { result, first } = await withQueryProgress(connection, onSorting, async () => {
    const result = await connection.stream(sql)
    return { result, first: await result.fetchChunk() }
  })
  for (let next = first; ; next = await result.fetchChunk()) {
    const chunk = next
    if (chunk === null || chunk.rowCount === 0) return
    const batch: PlacedFlow[] = []
    for (const row of chunk.getRows()) {
      const p = placedOf(row)
      if (p !== null) batch.push(p)
    }
    yield batch
  }
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null
}

function number(value: unknown): number | null {
  return typeof value === 'number' ? value : null
}

/** A staged line back as the placed record it was (the fields the analyses read; the rest null). */
function placedOf(row: readonly unknown[]): PlacedFlow | null {
  const action = text(row[5])
  const direction = text(row[6])
  const flow: Flow = {
    interfaceId: text(row[0]),
    instanceId: null,
    subnetId: null,
    vpcId: null,
    srcaddr: text(row[1]),
    dstaddr: text(row[2]),
    ifSrcaddr: text(row[3]),
    ifDstaddr: text(row[4]),
    srcport: number(row[8]),
    dstport: number(row[9]),
    protocol: number(row[10]),
    packets: number(row[11]) ?? 0,
    bytes: number(row[12]) ?? 0,
    start: number(row[13]),
    end: number(row[14]),
    action: action === 'ACCEPT' || action === 'REJECT' ? action : null,
    logStatus: null,
    direction:
      direction === 'ingress' || direction === 'egress' || direction === 'unknown' ? direction : null,
    tcpFlags: number(row[15]),
    ruleId: text(row[7]),
    rejectReason: null,
  }
  const words = parseWords(flow)
  if (words === null || flow.start === null) return null
  return {
    flow,
    iface: number(row[16]) ?? 0,
    direction: (number(row[17]) ?? 0) as PlacedFlow['direction'],
    time: flow.start,
    rank: number(row[18]) ?? 0,
    words,
  }
}
