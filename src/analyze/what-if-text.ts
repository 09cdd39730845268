import {
  type Column,
  csvHeader,
  csvLines,
  isoTime,
  renderTable,
  type Table,
  tableHeader,
  tableLines,
  tableWidths,
} from './output.js'
import type { FlowChange, Verdict, WhatIfResult, WhatIfRun } from './what-if.js'

/**
 * What-if for people: what was replayed, how faithfully, then every flow that would change. A
 * run's changes come from DuckDB a chunk at a time (WhatIfRun): its table and CSV are written so
 * too, the table after a first pass that measures its columns.
 */

const verdictText = (v: Verdict) =>
  v.action === 'ACCEPT' ? `ACCEPT ${v.rule ?? ''}`.trim() : `REJECT ${v.reason ?? ''}`.trim()

const CHANGE_COLUMNS: readonly Column[] = [
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
]

export function changesTable(changes: readonly FlowChange[]): Table {
  return {
    columns: CHANGE_COLUMNS,
    rows: changes.map((c) => ({
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

/** The lines above the table: what was replayed, how faithfully, how much changes. */
function summaryText(result: Omit<WhatIfResult, 'changes'>, notes: readonly string[]): string {
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
  return `${out.join('\n')}\n`
}

export function renderWhatIf(result: WhatIfResult, notes: readonly string[]): string {
  const summary = summaryText(result, notes)
  if (result.changes.length === 0) return summary
  return `${summary}\n${renderTable(changesTable(result.changes))}`
}

/** renderWhatIf of a run, in pieces. */
export async function* whatIfTextPieces(run: WhatIfRun, notes: readonly string[]): AsyncGenerator<string> {
  yield summaryText(run, notes)
  if (run.changes.count === 0) return
  let widths: number[] = []
  for await (const batch of run.changes.batches()) widths = tableWidths(changesTable(batch), widths)
  yield `\n${tableHeader(CHANGE_COLUMNS, widths)}`
  for await (const batch of run.changes.batches()) yield tableLines(changesTable(batch), widths)
}

/** The changes as CSV (render(changesTable(...), 'csv') of them all), in pieces. */
export async function* whatIfCsvPieces(run: WhatIfRun): AsyncGenerator<string> {
  yield csvHeader(CHANGE_COLUMNS)
  for await (const batch of run.changes.batches()) yield csvLines(changesTable(batch))
}
