import { join } from 'node:path'
import { makeScratchDir, removeScratchDir } from '../../ops/scratch-dirs.js'
import { StagingFile } from '../../sql/staging-file.js'
import type { Flow } from '../flow.js'
import { openScratchDuckDB, stagedTable, withQueryProgress } from '../scratch-duckdb.js'
import { ContactTable } from './contact-table.js'
import type { DetectContext } from './context.js'
import { Contact, portLabel } from './finding.js'
import { isReply } from './traffic-roles.js'

/**
 * The requests of every source, kept out of JavaScript: port scans and sweeps need each source's
 * contacts (host and port) only when the source reached enough ports, or one port on enough hosts,
 * which a busy network's clients never do. Each request record is staged as one tab-separated
 * line; DuckDB groups them into contacts (spilling beyond its memory limit) and hands back only the
 * contacts of candidate sources, as the ContactTable the detections read. A contact comes back as
 * ContactTable would have built it record by record: its sample the earliest record (the first read
 * on a tie), its rule the first accepted record's that names one, contacts in the order first seen.
 */
const COLUMNS = {
  source: 'VARCHAR',
  host: 'VARCHAR',
  port: 'VARCHAR',
  seq: 'BIGINT',
  start: 'DOUBLE',
  last: 'DOUBLE',
  packets: 'DOUBLE',
  bytes: 'DOUBLE',
  action: 'VARCHAR',
  interface_id: 'VARCHAR',
  srcport: 'DOUBLE',
  protocol: 'DOUBLE',
  dstport: 'DOUBLE',
  rule: 'VARCHAR',
} as const

export class ContactStore {
  readonly #dir = makeScratchDir('flowlog-contacts-')
  readonly #stage = new StagingFile(join(this.#dir, 'requests.tsv'), Object.keys(COLUMNS))
  #staging = true

  constructor(private readonly context: DetectContext) {}

  /** Stages a record when it is a request (what ContactTable counts). */
  observe(flow: Flow): void {
    if (flow.start === null || flow.protocol === null || isReply(flow)) return
    const stage = this.#stage
    const put = (value: string | number | null) => {
      stage.next()
      if (value !== null) stage.text(typeof value === 'number' ? String(value) : value)
    }
    put(flow.srcaddr ?? '')
    put(flow.dstaddr ?? '')
    put(portLabel(flow.protocol, flow.dstport))
    put(stage.rows)
    put(flow.start)
    put(flow.end ?? flow.start)
    put(flow.packets)
    put(flow.bytes)
    put(flow.action)
    put(flow.interfaceId)
    put(flow.srcport)
    put(flow.protocol)
    put(flow.dstport)
    put(flow.action === 'ACCEPT' ? (this.context.namer.ruleOf(flow)?.id ?? null) : null)
    stage.endRow()
  }

  /**
   * The contacts of sources with at least `minPorts` distinct ports, and of source-port pairs with
   * at least `minHosts` distinct hosts; the staging is gone afterwards.
   */
  async candidates(
    minPorts: number,
    minHosts: number,
    /** Told DuckDB's progress while it groups (rows processed of rows to process). */
    onGrouping?: (done: number, total: number) => void,
  ): Promise<ContactTable> {
    const table = new ContactTable(this.context)
    this.#closeStage()
    if (this.#stage.rows === 0) {
      this.close()
      return table
    }
    const db = await openScratchDuckDB(this.#dir)
    try {
      const from = stagedTable(this.#stage, COLUMNS)
      const sample = (c: string) => `first(${c} ORDER BY start, seq)`
      const connection = db.connection
      const { result, first } = await withQueryProgress(connection, onGrouping, async () => {
        // Everything here spills beyond DuckDB's memory limit: the staged lines are read where
        // they are (a table of them, or a CTE made one, would have to fit), once per part, and
        // distinct ports and hosts are counted by grouping (an aggregate over DISTINCT holds
        // every value of a group in memory). Only the candidates' contacts are grouped with
        // their samples (ordered aggregates, held in memory: a few scanners' worth).
        const result = await connection.stream(`
        WITH requests AS NOT MATERIALIZED (SELECT * FROM ${from}),
        scanners AS (SELECT source FROM (SELECT DISTINCT source, port FROM requests WHERE port IS NOT NULL) GROUP BY source HAVING count(*) >= ${minPorts}),
        sweeps AS (SELECT source, port FROM (SELECT DISTINCT source, port, host FROM requests WHERE host IS NOT NULL) GROUP BY source, port HAVING count(*) >= ${minHosts})
        SELECT source, host, port, min(seq) AS seen, min(start) AS first, max(last) AS last, count(*) AS records,
          sum(packets) AS packets, sum(bytes) AS bytes,
          bool_or(action = 'REJECT') AS rejected, bool_or(action = 'ACCEPT') AS accepted,
          first(protocol ORDER BY seq) AS protocol, first(dstport ORDER BY seq) AS dstport,
          ${sample('interface_id')} AS interface_id, ${sample('srcport')} AS srcport,
          ${sample('packets')} AS first_packets, ${sample('bytes')} AS first_bytes, ${sample('action')} AS first_action,
          first(rule ORDER BY seq) FILTER (WHERE rule IS NOT NULL) AS rule
        FROM requests
        WHERE source IN (SELECT source FROM scanners)
          OR source || chr(9) || port IN (SELECT source || chr(9) || port FROM sweeps)
        GROUP BY source, host, port
        ORDER BY seen`)
        // The group runs before its first chunk comes out.
        return { result, first: await result.fetchChunk() }
      })
      const names = result.columnNames()
      for (let chunk = first; chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
        for (const row of chunk.getRowObjects(names)) table.add(contactOf(row, this.context))
      }
      return table
    } finally {
      db.close()
      this.close()
    }
  }

  /** Removes the staging (also when the read failed half way). */
  close(): void {
    this.#closeStage()
    removeScratchDir(this.#dir)
  }

  #closeStage(): void {
    if (this.#staging) this.#stage.close()
    this.#staging = false
  }
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const number = (v: unknown): number | null =>
  typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null

function contactOf(row: Record<string, unknown>, context: DetectContext): Contact {
  const action = text(row.first_action)
  const first = number(row.first) ?? 0
  const flow: Flow = {
    interfaceId: text(row.interface_id),
    instanceId: null,
    subnetId: null,
    vpcId: null,
    srcaddr: text(row.source),
    dstaddr: text(row.host),
    ifSrcaddr: null,
    ifDstaddr: null,
    srcport: number(row.srcport),
    dstport: number(row.dstport),
    protocol: number(row.protocol),
    packets: number(row.first_packets) ?? 0,
    bytes: number(row.first_bytes) ?? 0,
    start: first,
    end: null,
    action: action === 'ACCEPT' || action === 'REJECT' ? action : null,
    logStatus: null,
    direction: null,
    tcpFlags: null,
    ruleId: null,
    rejectReason: null,
  }
  const contact = new Contact(flow)
  contact.last = number(row.last) ?? first
  contact.records = number(row.records) ?? 0
  contact.packets = number(row.packets) ?? 0
  contact.bytes = number(row.bytes) ?? 0
  contact.rejected = row.rejected === true
  contact.accepted = row.accepted === true
  const rule = text(row.rule)
  contact.rule = rule === null ? null : context.namer.name(rule)
  return contact
}
