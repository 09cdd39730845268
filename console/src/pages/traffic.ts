import { analysis } from '../api'
import { chart } from '../charts'
import { field, h, select, utc } from '../dom'
import { type Coverage, coverageLine, scopeParams } from '../scope'

interface Point {
  t: number
  key?: string
  accepted_packets: number
  rejected_packets: number
  accepted_bytes: number
  rejected_bytes: number
}
interface Traffic {
  coverage: Coverage
  step: number
  series: Point[]
}

let metric: 'packets' | 'bytes' = 'packets'
let split = ''

const SPLITS: [string, string][] = [
  ['', 'Nothing'],
  ['vpc', 'VPC'],
  ['subnet', 'Subnet'],
  ['instance', 'Instance'],
  ['interface', 'Interface'],
]

/** Accepted vs rejected per interval for the scope's range and place, and optionally per place. */
export async function trafficPage(rerender: () => void): Promise<HTMLElement> {
  const [data, parts] = await Promise.all([
    analysis<Traffic>('traffic', scopeParams()),
    split === '' ? null : analysis<Traffic>('traffic', { ...scopeParams(), by: split }),
  ])
  const measure = select(
    [
      ['packets', 'Packets'],
      ['bytes', 'Bytes'],
    ],
    metric,
  )
  measure.addEventListener('change', () => {
    metric = measure.value === 'bytes' ? 'bytes' : 'packets'
    rerender()
  })
  const splitBy = select(SPLITS, split)
  splitBy.addEventListener('change', () => {
    split = splitBy.value
    rerender()
  })
  // Every interval of the span gets its bar, also the silent ones (a gap is traffic information).
  const times = intervals(
    data.series.map((p) => p.t),
    data.step,
  )
  const at = new Map(data.series.map((p) => [p.t, p]))
  const value = (t: number, action: 'accepted' | 'rejected') => {
    const p = at.get(t)
    if (p === undefined) return 0
    return metric === 'bytes' ? p[`${action}_bytes`] : p[`${action}_packets`]
  }
  return h(
    'section',
    {},
    h('h1', {}, 'Traffic over time'),
    coverageLine(data.coverage),
    h('div', { class: 'row' }, field('Measure', measure), field('Split by', splitBy)),
    chart(`Accepted and rejected ${metric} per ${data.step} s interval`, {
      tooltip: { trigger: 'axis' },
      legend: { data: ['Accepted', 'Rejected'], top: 0 },
      grid: { left: 70, right: 20, top: 40, bottom: 100 },
      xAxis: { type: 'category', data: times.map(utc), axisLabel: { rotate: 20 } },
      yAxis: { type: 'value', name: metric },
      dataZoom: [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 8 }],
      series: [
        {
          name: 'Accepted',
          type: 'bar',
          stack: 'all',
          data: times.map((t) => value(t, 'accepted')),
          itemStyle: { color: '#2e7d32' },
        },
        {
          name: 'Rejected',
          type: 'bar',
          stack: 'all',
          data: times.map((t) => value(t, 'rejected')),
          itemStyle: { color: '#c62828' },
        },
      ],
    }),
    parts === null ? null : splitChart(parts),
  )
}

/** One stacked line per place: where the traffic of each interval went. */
function splitChart(parts: Traffic): HTMLElement {
  const times = intervals(
    parts.series.map((p) => p.t),
    parts.step,
  )
  const keys = [...new Set(parts.series.map((p) => p.key ?? '-'))].sort()
  const cell = new Map(parts.series.map((p) => [`${p.t} ${p.key ?? '-'}`, p]))
  const label = SPLITS.find(([v]) => v === split)?.[1] ?? split
  return chart(`${metric[0]!.toUpperCase()}${metric.slice(1)} per ${parts.step} s interval by ${label}`, {
    tooltip: { trigger: 'axis' },
    legend: { data: keys, top: 0, type: 'scroll' },
    grid: { left: 70, right: 20, top: 40, bottom: 100 },
    xAxis: { type: 'category', data: times.map(utc), axisLabel: { rotate: 20 } },
    yAxis: { type: 'value', name: metric },
    series: keys.map((key) => ({
      name: key,
      type: 'line',
      stack: 'places',
      areaStyle: {},
      showSymbol: false,
      data: times.map((t) => {
        const p = cell.get(`${t} ${key}`)
        if (p === undefined) return 0
        return metric === 'bytes'
          ? p.accepted_bytes + p.rejected_bytes
          : p.accepted_packets + p.rejected_packets
      }),
    })),
  })
}

/** The interval starts from the first to the last (at most 5,000; past that, the ones with data). */
function intervals(starts: readonly number[], step: number): number[] {
  if (starts.length === 0) return []
  const first = Math.min(...starts)
  const last = Math.max(...starts)
  if ((last - first) / step > 5000) return [...new Set(starts)].sort((a, b) => a - b)
  const out: number[] = []
  for (let t = first; t <= last; t += step) out.push(t)
  return out
}
