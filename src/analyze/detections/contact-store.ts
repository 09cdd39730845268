import type { Flow } from '../flow.js'
import { withQueryProgress } from '../scratch-duckdb.js'
import { ContactTable } from './contact-table.js'
import type { DetectContext } from './context.js'
import { Contact, portLabel } from './finding.js'
import {
  type FlowTable,
  flowOf,
  IS_REPLY,
  numberOf,
  PORT_OF,
  type ResultColumns,
  RULE_INPUTS,
  resultColumns,
  rowsOf,
  textOf,
} from './flow-table.js'

/**
 * The requests of every source, kept out of JavaScript: port scans and sweeps need each source's
 * contacts (host and port) only when the source reached enough ports, or one port on enough hosts,
 * which a busy network's clients never do. DuckDB groups the request records of `flows`
 * (flow-table.ts) into contacts, spilling beyond its memory limit, and hands back only the contacts
 * of candidate sources, as the ContactTable the detections read. A contact comes back as
 * ContactTable would have built it record by record: its sample the earliest record (the first read
 * on a tie), its rule the first accepted record's that names one, contacts in the order first seen.
 */
const IS_REQUEST = `start IS NOT NULL AND protocol IS NOT NULL AND NOT ${IS_REPLY}`
const REQUESTS = `SELECT srcaddr AS source, dstaddr AS host, protocol, ${PORT_OF} AS port, seq, start,
  coalesce("end", start) AS last, packets, bytes, action, interface_id, srcport, dstport,
  rule_id, if_srcaddr, if_dstaddr, direction
  FROM flows WHERE ${IS_REQUEST}`

/** What names the rule of a contact's first accepted record, besides the contact's own key. */
const ACCEPTED_INPUTS = ['rule_id', 'interface_id', 'if_srcaddr', 'if_dstaddr', 'direction', 'dstport']

/**
 * The candidates' contacts grouped in DuckDB (groupCandidateContacts), not yet read: reading them
 * is JavaScript's work, during which DuckDB is free for other queries.
 */
export interface GroupedContacts {
  /** The contacts as a ContactTable. */
  read(): Promise<ContactTable>
}

/**
 * The contacts of the sources that may be port scanners and of the source-port pairs that may be
 * sweeps. What a finding needs, and a candidate must have: at least `minPorts` distinct ports (or
 * `minHosts` hosts on the port), and, since at least that many contacts are its hits and
 * `minRejectedShare` of the hits are rejected, at least that share of `minPorts` (`minHosts`)
 * rejected contacts. A busy network's clients reach many hosts on one port, but are not rejected.
 * (A source whose sweeps give it `minPorts` ports has that many rejected contacts, so every source
 * with enough ports in the table is a scan candidate, all its contacts there.)
 */
export async function groupCandidateContacts(
  flows: FlowTable,
  context: DetectContext,
  /** Told DuckDB's progress while it groups (rows processed of rows to process). */
  onGrouping?: (done: number, total: number) => void,
): Promise<GroupedContacts> {
  const connection = flows.connection
  const t = context.thresholds
  // The fewest rejected contacts a share of a count can be (rounding aside).
  const rejectedOf = (share: number, count: number) => Math.max(0, Math.ceil(share * count - 1e-9))
  // Values of one record of a group: of the earliest (the first read on a tie), of the first read,
  // of the first accepted one read; each NULL when that record has none. One aggregate per record
  // picked, of one value a group, which spills (ordered aggregates hold their records): the values
  // go together as a struct, taken apart when the candidates are (comparing the keys of each record
  // is most of what these aggregates cost).
  const struct = (columns: readonly string[]) => `{${columns.map((c) => `'${c}': ${c}`).join(', ')}}`
  const EARLIEST = ['interface_id', 'srcport', 'packets', 'bytes', 'action']
  const scanRejected = rejectedOf(t.portScan.minRejectedShare, t.portScan.minPorts)
  const sweepRejected = rejectedOf(t.sweep.minRejectedShare, t.sweep.minHosts)
  // Everything here spills beyond DuckDB's memory limit. Counting distinct hosts needs a group per
  // contact (an aggregate over DISTINCT holds every value of a group in memory), nearly one per
  // record on a busy network: so it is done only for the sources that may be candidates. First, one
  // group per source and port: a source's distinct ports are its groups, and its records and
  // rejected records bound its distinct hosts and rejected hosts from above, so a source or
  // source-port pair that falls short there falls short of being a candidate. Then the contacts of
  // the few sources left, with their samples, from which the candidates are counted exactly as over
  // every contact (each such source's contacts are all there). Each step is a table of its own (a
  // CTE used twice is held in memory).
  const steps = [
    `CREATE TEMP TABLE source_ports AS
      SELECT srcaddr AS source, protocol, ${PORT_OF} AS port, count(*) AS records,
        count(*) FILTER (WHERE action = 'REJECT') AS rejected_records
      FROM flows WHERE ${IS_REQUEST} GROUP BY ALL`,
    `CREATE TEMP TABLE maybe_sources AS SELECT source FROM source_ports GROUP BY source
      HAVING (count(*) >= ${t.portScan.minPorts} AND sum(rejected_records) >= ${scanRejected})
        OR bool_or(records >= ${t.sweep.minHosts} AND rejected_records >= ${sweepRejected})`,
    'DROP TABLE source_ports',
    `CREATE TEMP TABLE maybe_contacts AS
      SELECT source, host, protocol AS key_protocol, port, min(seq) AS seen, min(start) AS first, max(last) AS last, count(*) AS records,
        sum(packets) AS packets, sum(bytes) AS bytes,
        bool_or(action = 'REJECT') AS rejected, bool_or(action = 'ACCEPT') AS accepted,
        arg_min_null(dstport, seq) AS dstport,
        arg_min_null(${struct(EARLIEST)}, {'start': start, 'seq': seq}) AS earliest,
        count(*) FILTER (WHERE action = 'ACCEPT') AS accepted_records,
        arg_min_null(${struct(ACCEPTED_INPUTS)}, seq) FILTER (WHERE action = 'ACCEPT') AS first_accepted
      FROM (${REQUESTS} AND srcaddr IN (SELECT source FROM maybe_sources))
      GROUP BY source, host, protocol, port`,
    'DROP TABLE maybe_sources',
    `CREATE TEMP TABLE request_ports AS
      SELECT source, key_protocol, port, count(*) AS hosts, count(*) FILTER (WHERE rejected) AS rejected_hosts
      FROM maybe_contacts GROUP BY ALL`,
    `CREATE TEMP TABLE scanners AS SELECT source FROM request_ports GROUP BY source
      HAVING count(*) >= ${t.portScan.minPorts} AND sum(rejected_hosts) >= ${scanRejected}`,
    `CREATE TEMP TABLE sweeps AS SELECT source, key_protocol, port FROM request_ports
      WHERE hosts >= ${t.sweep.minHosts} AND rejected_hosts >= ${sweepRejected}`,
    'DROP TABLE request_ports',
    `CREATE TEMP TABLE candidate_contacts AS
      SELECT source, host, key_protocol, port, seen, first, last, records, packets, bytes, rejected, accepted,
        key_protocol AS protocol, dstport, earliest.interface_id AS interface_id, earliest.srcport AS srcport,
        earliest.packets AS first_packets, earliest.bytes AS first_bytes, earliest.action AS first_action,
        accepted_records, ${ACCEPTED_INPUTS.map((c) => `first_accepted.${c} AS accepted_${c}`).join(', ')}
      FROM maybe_contacts WHERE source IN (SELECT source FROM scanners) OR (source, key_protocol, port) IN (SELECT source, key_protocol, port FROM sweeps)`,
    'DROP TABLE maybe_contacts',
    'DROP TABLE scanners',
    'DROP TABLE sweeps',
  ]
  for (const step of steps) await withQueryProgress(connection, onGrouping, () => connection.run(step))
  return { read: () => readCandidateContacts(flows, context) }
}

/** The contacts of `candidate_contacts` (groupCandidateContacts) as a ContactTable; drops the table. */
async function readCandidateContacts(flows: FlowTable, context: DetectContext): Promise<ContactTable> {
  const table = new ContactTable()
  const connection = flows.connection
  // The rule of a contact: the first of its accepted records that one names. Mostly the first
  // accepted record names one; the records of the others are named in read order afterwards.
  const unnamed: Contact[] = []
  // The text of the contacts repeats (a scanner's thousands of contacts, its targets, a few
  // interfaces): each distinct value comes back once, and the contacts name it by number.
  await connection.run(`CREATE TEMP TABLE contact_texts AS
    SELECT text, CAST(row_number() OVER () - 1 AS INTEGER) AS id FROM (
      SELECT source AS text FROM candidate_contacts UNION SELECT host FROM candidate_contacts
      UNION SELECT interface_id FROM candidate_contacts UNION SELECT first_action FROM candidate_contacts)
    WHERE text IS NOT NULL`)
  const texts: string[] = []
  for await (const chunk of resultColumns(connection, 'SELECT id, text FROM contact_texts')) {
    const [ids, values] = [chunk.column('id'), chunk.column('text')]
    for (let r = 0; r < chunk.size; r++) texts[Number(ids[r])] = String(values[r])
  }
  const sql = `SELECT c.* EXCLUDE (source, host, interface_id, first_action),
      s.id AS source_text, h.id AS host_text, i.id AS interface_text, a.id AS action_text
    FROM candidate_contacts c
    LEFT JOIN contact_texts s ON s.text = c.source LEFT JOIN contact_texts h ON h.text = c.host
    LEFT JOIN contact_texts i ON i.text = c.interface_id LEFT JOIN contact_texts a ON a.text = c.first_action
    ORDER BY c.seen`
  for await (const chunk of resultColumns(connection, sql)) {
    contactsOf(chunk, texts).forEach((contact, r) => {
      table.add(contact)
      if (!contact.accepted) return
      const row: Record<string, unknown> = {
        srcaddr: contact.source,
        dstaddr: contact.host,
        protocol: contact.protocol,
      }
      for (const c of ACCEPTED_INPUTS) row[c] = chunk.column(`accepted_${c}`)[r]
      contact.rule = context.namer.ruleOf(ruleInputsOf(row))
      if (contact.rule === null && (numberOf(chunk.column('accepted_records')[r]) ?? 0) > 1)
        unnamed.push(contact)
    })
  }
  if (unnamed.length > 0) {
    // Records alike in what names the rule (RULE_INPUTS) are named once, earliest group first.
    await connection.run('CREATE TEMP TABLE unnamed_contacts (source VARCHAR, host VARCHAR)')
    const appender = await connection.createAppender('unnamed_contacts')
    for (const contact of unnamed) {
      appender.appendVarchar(contact.source ?? '')
      appender.appendVarchar(contact.host ?? '')
      appender.endRow()
    }
    appender.closeSync()
    const keys = `SELECT source, host, key_protocol, port FROM candidate_contacts
      SEMI JOIN unnamed_contacts u USING (source, host)`
    const rules = `SELECT ${RULE_INPUTS}, min(seq) AS seen FROM flows
      SEMI JOIN (${keys}) c
        ON srcaddr = c.source AND dstaddr = c.host AND protocol = c.key_protocol AND ${PORT_OF} = c.port
      WHERE action = 'ACCEPT' AND start IS NOT NULL AND protocol IS NOT NULL AND NOT ${IS_REPLY}
      GROUP BY ALL ORDER BY seen`
    const keyOf = (
      source: string | null,
      host: string | null,
      protocol: number | null,
      port: number | null,
    ) => `${source ?? ''}\t${host ?? ''}\t${portLabel(protocol, port)}`
    const open = new Map(unnamed.map((c) => [keyOf(c.source, c.host, c.protocol, c.dstport), c]))
    for await (const chunk of rowsOf(connection, rules))
      for (const row of chunk) {
        const flow = ruleInputsOf(row)
        const contact = open.get(keyOf(flow.srcaddr, flow.dstaddr, flow.protocol, flow.dstport))
        if (contact === undefined || contact.rule !== null) continue
        contact.rule = context.namer.ruleOf(flow)
      }
    await connection.run('DROP TABLE unnamed_contacts')
  }
  await connection.run('DROP TABLE contact_texts')
  await connection.run('DROP TABLE candidate_contacts')
  return table
}

/** The contacts of a chunk of candidate_contacts, their text by number in `texts`. */
function contactsOf(chunk: ResultColumns, texts: readonly string[]): Contact[] {
  const column = (name: string) => chunk.column(name)
  const text = (name: string) => column(name).map((id) => (id === null ? null : (texts[Number(id)] ?? null)))
  const [source, host, srcport, dstport, protocol, interfaceId] = [
    text('source_text'),
    text('host_text'),
    column('srcport'),
    column('dstport'),
    column('protocol'),
    text('interface_text'),
  ]
  const [firstPackets, firstBytes, firstAction, first, last] = [
    column('first_packets'),
    column('first_bytes'),
    text('action_text'),
    column('first'),
    column('last'),
  ]
  const [records, packets, bytes, rejected, accepted] = [
    column('records'),
    column('packets'),
    column('bytes'),
    column('rejected'),
    column('accepted'),
  ]
  const contacts: Contact[] = []
  for (let r = 0; r < chunk.size; r++) {
    const action = textOf(firstAction[r])
    const start = numberOf(first[r]) ?? 0
    const flow: Flow = {
      interfaceId: textOf(interfaceId[r]),
      instanceId: null,
      subnetId: null,
      vpcId: null,
      srcaddr: textOf(source[r]),
      dstaddr: textOf(host[r]),
      ifSrcaddr: null,
      ifDstaddr: null,
      srcport: numberOf(srcport[r]),
      dstport: numberOf(dstport[r]),
      protocol: numberOf(protocol[r]),
      packets: numberOf(firstPackets[r]) ?? 0,
      bytes: numberOf(firstBytes[r]) ?? 0,
      start,
      end: null,
      action: action === 'ACCEPT' || action === 'REJECT' ? action : null,
      logStatus: null,
      direction: null,
      tcpFlags: null,
      ruleId: null,
      rejectReason: null,
    }
    const contact = new Contact(flow)
    contact.last = numberOf(last[r]) ?? start
    contact.records = numberOf(records[r]) ?? 0
    contact.packets = numberOf(packets[r]) ?? 0
    contact.bytes = numberOf(bytes[r]) ?? 0
    contact.rejected = rejected[r] === true
    contact.accepted = accepted[r] === true
    contacts.push(contact)
  }
  return contacts
}

/** An accepted record as far as RuleNamer.ruleOf reads it (RULE_INPUTS; the other fields absent). */
export function ruleInputsOf(row: Record<string, unknown>): Flow {
  return { ...flowOf(row), action: 'ACCEPT' }
}
