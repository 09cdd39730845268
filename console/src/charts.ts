import { BarChart, GraphChart, LineChart } from 'echarts/charts'
import {
  AriaComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  TitleComponent,
  TooltipComponent,
} from 'echarts/components'
import * as echarts from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([
  LineChart,
  BarChart,
  GraphChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  TitleComponent,
  DataZoomComponent,
  AriaComponent,
  CanvasRenderer,
])

export type ChartOption = echarts.EChartsCoreOption

const charts = new Set<echarts.ECharts>()
const pending: { box: HTMLElement; option: ChartOption }[] = []

/**
 * An ECharts chart in a labelled figure. ECharts' aria option writes a text description of the
 * data for screen readers; the figure's caption names the chart.
 */
export function chart(title: string, option: ChartOption, height = 320): HTMLElement {
  const box = document.createElement('div')
  box.className = 'chart'
  box.style.height = `${height}px`
  box.setAttribute('role', 'img')
  box.setAttribute('aria-label', title)
  const figure = document.createElement('figure')
  const caption = document.createElement('figcaption')
  caption.textContent = title
  figure.append(caption, box)
  pending.push({ box, option })
  return figure
}

/** Draws the charts made since the last call, once their figures are in the page (ECharts needs a size). */
export function drawCharts(): void {
  for (const { box, option } of pending.splice(0)) {
    if (!box.isConnected) continue
    const c = echarts.init(box, null, { renderer: 'canvas' })
    c.setOption({ aria: { enabled: true }, animation: false, ...option })
    charts.add(c)
  }
}

/** Charts of the page being left are disposed (they hold canvases and listeners). */
export function disposeCharts(): void {
  for (const c of charts) c.dispose()
  charts.clear()
}

addEventListener('resize', () => {
  for (const c of charts) c.resize()
})
