import { isoTime, renderTable, type Table } from './output.js'
import type { Verdict, WhatIfResult } from './what-if.js'

/** What-if for people: what was replayed, how faithfully, then every flow that would change. */

const verdictText = (v: Verdict) =>
  v.action === 'ACCEPT' ? `ACCEPT ${v.rule ?? ''}`.trim() : `REJECT ${v.reason ?? ''}`.trim()

export function changesTable(result: WhatIfResult): Table {
  return {
    columns: [
      { name: 'first', kind: 'time' },
      { name: 'interface', kind: 'text' },
      { name: 'direction', kind: 'text' },
      { name: 'protocol', kind: 'text' },
      { name: 'source', kind: 'text' },
      { name: 'destination', kind: 'text' },
      { name: 'records', kind: 'number' },
      { name: 'packets', kind: 'number' },
      { name: 'recorded', kind: 'text' },
      { name: 'current', kind: 'text' },
      { name: 'proposed', kind: 'text' },
      { name: 'responsible', kind: 'text' },
    ],
    rows: result.changes.map((c) => ({
      first: c.first,
      interface: c.interfaceId,
      direction: c.direction,
      protocol: c.protocol,
      source: c.srcport === null || c.srcport === 0 ? c.srcaddr : `${c.srcaddr}:${c.srcport}`,
      destination: c.dstport === null || c.dstport === 0 ? c.dstaddr : `${c.dstaddr}:${c.dstport}`,
      records: c.records,
      packets: c.packets,
      recorded: c.recorded,
      current: verdictText(c.current),
      proposed: verdictText(c.proposed),
      responsible: c.responsible,
    })),
  }
}

export function renderWhatIf(result: WhatIfResult, notes: readonly string[]): string {
  const span =
    result.first === null || result.last === null
      ? ''
      : ` (${isoTime(result.first)} .. ${isoTime(result.last)})`
  const out = [`flowlog what-if: ${result.replayed} of ${result.records} record(s) replayed${span}`]
  const s = result.skipped
  const skipped = s.unknownInterface + s.noTime + s.noAddresses
  if (skipped > 0) {
    out.push(
      `  skipped ${skipped}: ${s.unknownInterface} of interfaces not in the config, ${s.noTime} without a start time, ${s.noAddresses} without addresses`,
    )
  }
  if (result.compared > 0) {
    out.push(
      `  the replay with the current groups agrees with the recorded action on ${result.agreeing} of ${result.compared} record(s)`,
    )
  }
  for (const n of notes) out.push(`  note: ${n}`)
  out.push(
    `  ${result.changedRecords} record(s) would change verdict: ${result.acceptToReject} ACCEPT -> REJECT, ${result.rejectToAccept} REJECT -> ACCEPT; ${result.otherRule} keep it by another rule or reason`,
  )
  if (result.changes.length === 0) return `${out.join('\n')}\n`
  return `${out.join('\n')}\n\n${renderTable(changesTable(result))}`
}
