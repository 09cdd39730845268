import { analysis } from '../api'
import { chart } from '../charts'
import { field, h, select, utc } from '../dom'
import { type Coverage, coverageLine, scopeParams } from '../scope'

interface Traffic {
  coverage: Coverage
  step: number
  series: {
    t: number
    accepted_packets: number
    rejected_packets: number
    accepted_bytes: number
    rejected_bytes: number
  }[]
}

let metric: 'packets' | 'bytes' = 'packets'

/** Accepted vs rejected per interval, for the scope's range and place. */
export async function trafficPage(rerender: () => void): Promise<HTMLElement> {
  const data = await analysis<Traffic>('traffic', scopeParams())
  const choice = select(
    [
      ['packets', 'Packets'],
      ['bytes', 'Bytes'],
    ],
    metric,
  )
  choice.addEventListener('change', () => {
    metric = choice.value === 'bytes' ? 'bytes' : 'packets'
    rerender()
  })
  const times = data.series.map((p) => utc(p.t))
  const accepted = data.series.map((p) => (metric === 'bytes' ? p.accepted_bytes : p.accepted_packets))
  const rejected = data.series.map((p) => (metric === 'bytes' ? p.rejected_bytes : p.rejected_packets))
  return h(
    'section',
    {},
    h('h1', {}, 'Traffic over time'),
    coverageLine(data.coverage),
    h('div', { class: 'row' }, field('Measure', choice)),
    chart(`Accepted and rejected ${metric} per ${data.step} s interval`, {
      tooltip: { trigger: 'axis' },
      legend: { data: ['Accepted', 'Rejected'], top: 0 },
      grid: { left: 70, right: 20, top: 40, bottom: 100 },
      xAxis: { type: 'category', data: times, axisLabel: { rotate: 20 } },
      yAxis: { type: 'value', name: metric },
      dataZoom: [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 8 }],
      series: [
        { name: 'Accepted', type: 'bar', stack: 'all', data: accepted, itemStyle: { color: '#2e7d32' } },
        { name: 'Rejected', type: 'bar', stack: 'all', data: rejected, itemStyle: { color: '#c62828' } },
      ],
    }),
  )
}
