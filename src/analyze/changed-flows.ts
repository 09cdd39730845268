import { join } from 'node:path'
import type { DuckDBConnection } from '@duckdb/node-api'
import { DIRECTION_NAMES } from '../core/verdict.js'
import { makeScratchDir, removeScratchDir } from '../ops/scratch-dirs.js'
import { StagingFile } from '../sql/staging-file.js'
import { protocolName } from './detections/finding.js'
import { resultColumns } from './detections/flow-table.js'
import type { PlacedFlow } from './rejudge.js'
import { openScratchDuckDB, stagedTable } from './scratch-duckdb.js'
import type { FlowChange, Verdict } from './what-if.js'

/**
 * The flows a what-if changes, kept out of JavaScript's memory: a 10 M-record replay changes
 * hundreds of thousands of flows (hundreds of megabytes as objects). Each changed record is staged
 * as one tab-separated line (its flow, the pair of verdicts, its replay position and sums); at the
 * end DuckDB groups the lines into flows (spilling beyond the analyses' share) and the flows come
 * back ordered, a chunk at a time, for the output to write as they come.
 *
 * A flow is what the in-memory map keyed: interface, direction, protocol, addresses, ports and the
 * (rule, reason) of both verdicts. Its first time and recorded action are its first record's (the
 * earliest in replay order: time, rank, read order), its last the latest end, and flows are ordered
 * by first time, ties by the replay position of their first record (the order a stable sort of the
 * map's values gave), whatever order the records were added in.
 *
 *   const changed = new ChangedFlows(responsibleFor)
 *   for (...) changed.add(iface, p, current, proposed)
 *   const list = await changed.finish()
 *   try { for await (const batch of list.batches()) ... } finally { list.close() }
 */
export interface ChangeList {
  /** How many changed flows `batches` yields. */
  readonly count: number
  /** The changed flows in order, a chunk at a time (may be read more than once). */
  batches(): AsyncIterable<FlowChange[]>
  /** Removes the staged records and DuckDB's tables. */
  close(): void
}

const COLUMNS = [
  'iface',
  'direction',
  'protocol',
  'srcaddr',
  'srcport',
  'dstaddr',
  'dstport',
  'pair',
  'rank',
  'seq',
  'time',
  'last',
  'packets',
  'bytes',
  'recorded',
] as const
const TYPES: Readonly<Record<string, string>> = {
  iface: 'INTEGER',
  direction: 'INTEGER',
  srcaddr: 'VARCHAR',
  dstaddr: 'VARCHAR',
  pair: 'INTEGER',
  seq: 'BIGINT',
  recorded: 'INTEGER',
}
/** A record's place in replay order, as a value DuckDB compares field by field. */
const ORDER = "{'time': time, 'rank': rank, 'seq': seq}"
const KEY = ['iface', 'direction', 'protocol', 'srcaddr', 'srcport', 'dstaddr', 'dstport', 'pair']
const RECORDED = [null, 'ACCEPT', 'REJECT'] as const

/** A pair of verdicts as a flow's key sees it, and the text of why it changes. */
interface VerdictPair {
  current: Verdict
  proposed: Verdict
  responsible: string
}

export class ChangedFlows {
  private dir: string | null = null
  private stage: StagingFile | null = null
  /** Interface ids (the key holds the id, not the config's index), numbered as first seen. */
  private readonly ifaceIds = new Map<string, number>()
  private readonly ifaces: string[] = []
  /** Verdict pairs numbered by their (rule, reason)s, as the key joined them; the first seen kept. */
  private readonly pairIds = new Map<string, number>()
  private readonly pairs: VerdictPair[] = []
  /** The same, by the (shared) verdict objects: a lookup a record without building a string. */
  private readonly byVerdicts = new Map<Verdict, Map<Verdict, number>>()

  constructor(private readonly responsible: (current: Verdict, proposed: Verdict) => string) {}

  /** Stages one changed record (its place in replay order is its time, rank and seq). */
  add(iface: string, p: PlacedFlow, current: Verdict, proposed: Verdict): void {
    const stage = this.stage ?? this.open()
    const f = p.flow
    let ifaceId = this.ifaceIds.get(iface)
    if (ifaceId === undefined) {
      ifaceId = this.ifaces.push(iface) - 1
      this.ifaceIds.set(iface, ifaceId)
    }
    const number = (n: number | null) => {
      stage.next()
      if (n !== null) stage.number(n)
    }
    const text = (t: string | null) => {
      stage.next()
      if (t !== null) stage.text(t)
    }
    number(ifaceId)
    number(p.direction)
    number(f.protocol)
    text(f.srcaddr)
    number(f.srcport)
    text(f.dstaddr)
    number(f.dstport)
    number(this.pairOf(current, proposed))
    number(p.rank)
    number(p.seq)
    number(p.time)
    number(f.end ?? p.time)
    number(f.packets)
    number(f.bytes)
    number(f.action === null ? 0 : f.action === 'ACCEPT' ? 1 : 2)
    stage.endRow()
  }

  /** Groups the staged records into flows (DuckDB): the list to read, to be closed. */
  async finish(): Promise<ChangeList> {
    const stage = this.stage
    const dir = this.dir
    if (stage === null || dir === null) return { count: 0, batches: async function* () {}, close: () => {} }
    // The list owns the directory from here: it removes it when closed.
    this.stage = null
    this.dir = null
    let close = () => removeScratchDir(dir)
    try {
      stage.close()
      const scratch = await openScratchDuckDB(dir)
      const db = scratch.connection
      close = scratch.close
      const types = Object.fromEntries(COLUMNS.map((c) => [c, TYPES[c] ?? 'DOUBLE']))
      await db.run(
        `CREATE TABLE changes AS SELECT ${KEY.join(', ')}, count(*) AS records, sum(packets) AS packets, sum(bytes) AS bytes, min(time) AS first, max(last) AS last, arg_min(recorded, ${ORDER}) AS recorded, min(${ORDER}) AS seen FROM ${stagedTable(stage, types)} GROUP BY ${KEY.join(', ')}`,
      )
      const count = await db.runAndReadAll('SELECT count(*) FROM changes')
      return {
        count: Number(count.getRows()[0]?.[0] ?? 0),
        batches: () => this.ordered(db),
        close,
      }
    } catch (error) {
      close()
      throw error
    }
  }

  /** Removes what was staged (when the replay failed before `finish`). */
  close(): void {
    this.stage?.close()
    this.stage = null
    if (this.dir !== null) removeScratchDir(this.dir)
    this.dir = null
  }

  private open(): StagingFile {
    this.dir = makeScratchDir('flowlog-what-if-')
    this.stage = new StagingFile(join(this.dir, 'changed.tsv'), COLUMNS)
    return this.stage
  }

  private pairOf(current: Verdict, proposed: Verdict): number {
    let byProposed = this.byVerdicts.get(current)
    if (byProposed === undefined) {
      byProposed = new Map()
      this.byVerdicts.set(current, byProposed)
    }
    let id = byProposed.get(proposed)
    if (id === undefined) {
      const key = [current.rule, current.reason, proposed.rule, proposed.reason].join(' ')
      id = this.pairIds.get(key)
      if (id === undefined) {
        id = this.pairs.push({ current, proposed, responsible: this.responsible(current, proposed) }) - 1
        this.pairIds.set(key, id)
      }
      byProposed.set(proposed, id)
    }
    return id
  }

  private async *ordered(db: DuckDBConnection): AsyncIterable<FlowChange[]> {
    const sql = `SELECT ${KEY.join(', ')}, records, packets, bytes, first, last, recorded FROM changes ORDER BY first, seen`
    for await (const chunk of resultColumns(db, sql)) {
      const column = (c: number) => chunk.columnAt(c)
      const [iface, direction, protocol, srcaddr, srcport, dstaddr, dstport, pair] = KEY.map((_, c) =>
        column(c),
      )
      const [records, packets, bytes, first, last, recorded] = [8, 9, 10, 11, 12, 13].map(column)
      const batch: FlowChange[] = []
      for (let r = 0; r < chunk.size; r++) {
        const verdicts = this.pairs[Number(pair?.[r])]
        const proto = numberOrNull(protocol?.[r])
        const time = Number(first?.[r])
        batch.push({
          interfaceId: this.ifaces[Number(iface?.[r])] ?? '?',
          direction: DIRECTION_NAMES[Number(direction?.[r])] ?? 'unknown',
          protocol: protocolName(proto),
          srcaddr: textOr(srcaddr?.[r], '-'),
          srcport: numberOrNull(srcport?.[r]),
          dstaddr: textOr(dstaddr?.[r], '-'),
          dstport: numberOrNull(dstport?.[r]),
          records: Number(records?.[r]),
          packets: Number(packets?.[r]),
          bytes: Number(bytes?.[r]),
          first: time,
          last: Number(last?.[r] ?? time),
          recorded: RECORDED[Number(recorded?.[r])] ?? null,
          current: verdicts?.current ?? UNKNOWN,
          proposed: verdicts?.proposed ?? UNKNOWN,
          responsible: verdicts?.responsible ?? '',
        })
      }
      yield batch
    }
  }
}

/** Never given: every staged pair number is one of `pairs`. */
const UNKNOWN: Verdict = { action: 'REJECT', rule: null, reason: null }

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value)
}

function textOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback
}
