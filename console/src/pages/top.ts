import { analysis } from '../api'
import { chart } from '../charts'
import { fmt, h } from '../dom'
import { type Coverage, coverageLine, scopeParams } from '../scope'

interface Top {
  coverage: Coverage
  items: { key: string; value: number; bytes: number; packets: number; records: number }[]
}

const LISTS = [
  { title: 'Top talkers (sources, by bytes)', by: 'srcaddr', metric: 'bytes', filter: '' },
  { title: 'Top destinations (by bytes)', by: 'dstaddr', metric: 'bytes', filter: '' },
  { title: 'Top rejected sources (by records)', by: 'srcaddr', metric: 'records', filter: 'action = REJECT' },
  {
    title: 'Top rejected destination ports (by records)',
    by: 'dstport',
    metric: 'records',
    filter: 'action = REJECT',
  },
  { title: 'Busiest interfaces (by bytes)', by: 'interface', metric: 'bytes', filter: '' },
] as const

/** Top talkers and the most rejected sources and ports, each as a bar chart. */
export async function topPage(): Promise<HTMLElement> {
  const answers = await Promise.all(
    LISTS.map((l) => {
      const params = scopeParams()
      const filter = [params.filter, l.filter].filter((f) => f !== undefined && f !== '').join(' and ')
      return analysis<Top>('top', { ...params, by: l.by, metric: l.metric, limit: 10, filter })
    }),
  )
  const first = answers[0]
  return h(
    'section',
    {},
    h('h1', {}, 'Top talkers and rejected traffic'),
    first === undefined ? null : coverageLine(first.coverage),
    h(
      'div',
      { class: 'grid' },
      LISTS.map((l, i) => {
        const items = answers[i]?.items ?? []
        if (items.length === 0)
          return h('figure', {}, h('figcaption', {}, l.title), h('p', {}, 'No records.'))
        const keys = items.map((it) => it.key).reverse()
        return chart(
          `${l.title}: ${items.map((it) => `${it.key} ${fmt(it.value)}`).join(', ')}`,
          {
            tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
            grid: { left: 150, right: 30, top: 10, bottom: 30 },
            xAxis: { type: 'value', name: l.metric },
            yAxis: { type: 'category', data: keys },
            series: [
              {
                type: 'bar',
                name: l.metric,
                data: items.map((it) => it.value).reverse(),
                itemStyle: { color: l.filter === '' ? '#1565c0' : '#c62828' },
              },
            ],
          },
          Math.max(160, items.length * 28 + 50),
        )
      }),
    ),
  )
}
