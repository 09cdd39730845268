import { analysis, analysisUrl, loadSession } from '../api'
import { fmt, h, showError, status, table, utc } from '../dom'
import { type Coverage, coverageLine, scopeParams } from '../scope'

interface Page {
  coverage: Coverage
  offset: number
  limit: number
  columns: string[]
  records: Record<string, string | number | null>[]
}

const PAGE = 50
let offset = 0
let offsetFor = ''

/**
 * The flow browser: `flowlog query`'s filter language (the server parses it with the same parser),
 * 50 records a page, each with the rule that accepted it or why it was rejected, and its
 * Community ID; CSV of every matching record.
 */
export async function flowsPage(rerender: () => void): Promise<HTMLElement> {
  // A new range, place or filter starts again at the first page.
  const key = JSON.stringify(scopeParams())
  if (key !== offsetFor) offset = 0
  offsetFor = key
  const data = await analysis<Page>('flows', { ...scopeParams(), offset, limit: PAGE })
  const message = status()
  const exportButton = h('button', { type: 'button' }, 'Export CSV')
  exportButton.addEventListener('click', () => {
    exportCsv().catch((error: unknown) => showError(message, error))
  })
  const total = data.coverage.records
  const prev = h('button', { type: 'button', disabled: offset === 0 }, 'Previous page')
  const next = h('button', { type: 'button', disabled: offset + PAGE >= total }, 'Next page')
  prev.addEventListener('click', () => {
    offset = Math.max(0, offset - PAGE)
    rerender()
  })
  next.addEventListener('click', () => {
    offset += PAGE
    rerender()
  })
  const columns = [
    'start',
    'interface',
    'direction',
    'source',
    'destination',
    'protocol',
    'packets',
    'bytes',
    'action',
    'rule or reason',
    'Community ID',
  ]
  const rows = data.records.map((r) => [
    utc(r.start as number | null),
    r.interface_id,
    r.flow_direction,
    `${r.srcaddr ?? '-'}:${r.srcport ?? '-'}`,
    `${r.dstaddr ?? '-'}:${r.dstport ?? '-'}`,
    r.protocol,
    r.packets,
    r.bytes,
    r.action ?? r.log_status,
    r.rule_id ??
      r.reject_reason_detail ??
      (r.action === 'REJECT' ? 'rejected (no reason in this format)' : '-'),
    r.community_id,
  ])
  return h(
    'section',
    {},
    h('h1', {}, 'Flow browser'),
    coverageLine(data.coverage),
    message,
    h(
      'div',
      { class: 'row' },
      prev,
      h(
        'span',
        { class: 'pager', 'aria-live': 'polite' },
        total === 0
          ? 'No records'
          : `Records ${fmt(offset + 1)}–${fmt(Math.min(total, offset + PAGE))} of ${fmt(total)}`,
      ),
      next,
      exportButton,
    ),
    table('Flow records', columns, rows),
  )
}

/** The CSV is fetched with the login's header (a plain link could not send it) and saved. */
async function exportCsv(): Promise<void> {
  const token = loadSession()?.token
  const response = await fetch(analysisUrl('flows.csv', scopeParams()), {
    headers: token ? { 'x-auth-token': token } : {},
  })
  if (!response.ok) throw new Error(`export failed: ${response.status} ${await response.text()}`)
  const url = URL.createObjectURL(await response.blob())
  const a = h('a', { href: url, download: 'flows.csv' })
  document.body.append(a)
  a.click()
  a.remove()
  URL.revokeObjectURL(url)
}
