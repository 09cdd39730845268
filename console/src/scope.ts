import { analysis, type Params } from './api'
import { field, fmt, h, select, utc } from './dom'

/**
 * The range and place every analysis page narrows by, shared between pages (kept in the URL's
 * hash query so a view can be bookmarked), and the coverage line that says what a chart stands on.
 */
export interface Coverage {
  since: number | null
  until: number | null
  first: number | null
  last: number | null
  records: number
  packets: number
  bytes: number
  filter: string | null
  files: number
}

const PLACES = ['vpc', 'subnet', 'instance', 'interface'] as const
const RANGES: [string, string][] = [
  ['', 'All records'],
  ['15m', 'Last 15 minutes'],
  ['1h', 'Last hour'],
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
  ['custom', 'Custom range'],
]

export const scope: Record<string, string> = {}

export function scopeParams(): Params {
  const p: Params = {}
  for (const [k, v] of Object.entries(scope)) if (v !== '') p[k] = v
  return p
}

interface Summary {
  choices: Record<(typeof PLACES)[number], string[]>
}

/** The bar of controls; `onChange` runs when the user applies a new scope. */
export async function scopeBar(onChange: () => void): Promise<HTMLElement> {
  const summary = await analysis<Summary>('summary')
  const range = select(RANGES, scope.range ?? '')
  const since = h('input', { type: 'datetime-local', step: '1', value: scope.sinceLocal ?? '' })
  const until = h('input', { type: 'datetime-local', step: '1', value: scope.untilLocal ?? '' })
  const custom = h(
    'div',
    { class: 'row', hidden: range.value !== 'custom' },
    field('From (UTC)', since),
    field('To (UTC)', until),
  )
  range.addEventListener('change', () => {
    custom.hidden = range.value !== 'custom'
  })
  const places = PLACES.map((kind) => {
    const s = select(
      [
        ['', `All ${kind === 'vpc' ? 'VPCs' : `${kind}s`}`],
        ...summary.choices[kind].map((c): [string, string] => [c, c]),
      ],
      scope[kind] ?? '',
    )
    return [kind, s] as const
  })
  const filter = h('input', {
    type: 'search',
    value: scope.filter ?? '',
    placeholder: 'action = REJECT and dstport = 22',
    spellcheck: 'false',
    size: 48,
  })
  const apply = h('button', { type: 'submit' }, 'Apply')
  const form = h(
    'form',
    { class: 'scope', role: 'search', 'aria-label': 'Time range, place and filter' },
    h(
      'div',
      { class: 'row' },
      field('Time range', range),
      ...places.map(([kind, s]) => field(label(kind), s)),
    ),
    custom,
    h(
      'div',
      { class: 'row' },
      field(
        'Filter (flowlog query language)',
        filter,
        'as flowlog query --where takes it, e.g. srcaddr = 198.51.100.0/24 and action = REJECT',
      ),
      apply,
    ),
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    scope.range = range.value
    scope.sinceLocal = since.value
    scope.untilLocal = until.value
    if (range.value === 'custom') {
      scope.since = since.value === '' ? '' : `${since.value}Z`
      scope.until = until.value === '' ? '' : `${until.value}Z`
    } else {
      scope.since = range.value
      scope.until = ''
    }
    for (const [kind, s] of places) scope[kind] = s.value
    scope.filter = filter.value.trim()
    onChange()
  })
  return form
}

function label(kind: string): string {
  return kind === 'vpc' ? 'VPC' : kind[0]!.toUpperCase() + kind.slice(1)
}

/** "187 records, 1,234 packets, 56,789 bytes from 3 files; 2024-06-01T09:00:00Z to …". */
export function coverageLine(c: Coverage): HTMLElement {
  const range = c.first === null ? 'no records in range' : `${utc(c.first)} to ${utc(c.last)}`
  const asked =
    c.since === null && c.until === null
      ? 'all time'
      : `asked ${c.since === null ? 'start' : utc(c.since)} to ${c.until === null ? 'now' : utc(c.until)}`
  return h(
    'p',
    { class: 'coverage', 'data-records': c.records },
    `Covers ${fmt(c.records)} records (${fmt(c.packets)} packets, ${fmt(c.bytes)} bytes) from ${fmt(c.files)} files; ${range} (${asked})${c.filter ? `; filter: ${c.filter}` : ''}.`,
  )
}
