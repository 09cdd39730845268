import { analysis } from '../api'
import { chart } from '../charts'
import { fmt, h, table } from '../dom'
import { type Coverage, coverageLine, scopeParams } from '../scope'

interface Edges {
  coverage: Coverage
  edges: {
    source: string
    target: string
    value: number
    bytes: number
    packets: number
    records: number
    rejected_records: number
  }[]
}

/**
 * Who talks to whom, as Hubble's service map shows it: a graph of addresses, an edge per
 * source → destination, wider for more bytes, red when most of its records were rejected. (A
 * Sankey cannot draw the replies that flow back, which every conversation has.)
 */
export async function talkersPage(): Promise<HTMLElement> {
  const data = await analysis<Edges>('edges', { ...scopeParams(), metric: 'bytes', limit: 40 })
  const nodes = [...new Set(data.edges.flatMap((e) => [e.source, e.target]))]
  const max = Math.max(1, ...data.edges.map((e) => e.value))
  return h(
    'section',
    {},
    h('h1', {}, 'Who talks to whom'),
    coverageLine(data.coverage),
    chart(
      `Conversations between ${nodes.length} addresses (${data.edges.length} heaviest pairs by bytes)`,
      {
        tooltip: {},
        series: [
          {
            type: 'graph',
            layout: 'force',
            roam: true,
            draggable: true,
            force: { repulsion: 260, edgeLength: 140 },
            label: { show: true, position: 'right' },
            edgeSymbol: ['none', 'arrow'],
            data: nodes.map((name) => ({ name, symbolSize: name.startsWith('10.') ? 22 : 16 })),
            links: data.edges.map((e) => ({
              source: e.source,
              target: e.target,
              value: e.bytes,
              lineStyle: {
                width: 1 + (5 * e.value) / max,
                color: e.rejected_records * 2 > e.records ? '#c62828' : '#1565c0',
                curveness: 0.15,
              },
            })),
          },
        ],
      },
      480,
    ),
    table(
      'Pairs, heaviest first',
      ['Source', 'Destination', 'Bytes', 'Packets', 'Records', 'Rejected records'],
      data.edges.map((e) => [
        e.source,
        e.target,
        fmt(e.bytes),
        fmt(e.packets),
        fmt(e.records),
        fmt(e.rejected_records),
      ]),
    ),
  )
}
