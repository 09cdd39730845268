import './style.css'
import { ApiError, loadSession, settings } from './api'
import { disposeCharts, drawCharts } from './charts'
import { h, showError, status } from './dom'
import { auditPage } from './pages/audit'
import { findingsPage } from './pages/findings'
import { flowLogsPage } from './pages/flow-logs'
import { flowsPage } from './pages/flows'
import { loginPage } from './pages/login'
import { talkersPage } from './pages/talkers'
import { topPage } from './pages/top'
import { trafficPage } from './pages/traffic'
import { whatIfPage } from './pages/what-if'
import { scopeBar } from './scope'

/** Pages by hash route; analysis pages share the range-and-place bar. */
interface Page {
  title: string
  scoped: boolean
  render(rerender: () => void): Promise<HTMLElement>
}

const PAGES: Record<string, Page> = {
  'flow-logs': { title: 'Flow logs', scoped: false, render: flowLogsPage },
  traffic: { title: 'Traffic', scoped: true, render: trafficPage },
  top: { title: 'Top talkers', scoped: true, render: topPage },
  talkers: { title: 'Who talks to whom', scoped: true, render: talkersPage },
  flows: { title: 'Flow browser', scoped: true, render: flowsPage },
  findings: { title: 'Findings', scoped: true, render: findingsPage },
  audit: { title: 'Audit', scoped: true, render: auditPage },
  'what-if': { title: 'What-if', scoped: true, render: whatIfPage },
  login: { title: 'Log in', scoped: false, render: () => loginPage(() => go('traffic')) },
}

const main = document.getElementById('main')!
const nav = document.getElementById('nav')!
const sessionBox = document.getElementById('session')!

function current(): string {
  const name = location.hash.replace(/^#\/?/, '')
  return name in PAGES ? name : 'traffic'
}

function go(name: string): void {
  if (current() === name) void render()
  else location.hash = `#/${name}`
}

function drawNav(): void {
  const here = current()
  nav.replaceChildren(
    h(
      'ul',
      {},
      Object.entries(PAGES)
        .filter(([name]) => name !== 'login')
        .map(([name, page]) =>
          h(
            'li',
            {},
            h('a', { href: `#/${name}`, 'aria-current': name === here ? 'page' : false }, page.title),
          ),
        ),
    ),
  )
  const session = loadSession()
  sessionBox.replaceChildren(
    h(
      'a',
      { href: '#/login' },
      session === null ? 'Log in' : `Logged in${session.accessKeyId ? ` as ${session.accessKeyId}` : ''}`,
    ),
  )
}

let generation = 0
async function render(focus = false): Promise<void> {
  const mine = ++generation
  const name = current()
  const page = PAGES[name]!
  document.title = `${page.title} · flowlog console`
  drawNav()
  disposeCharts()
  const rerender = () => void render()
  const loading = status()
  loading.textContent = 'Loading…'
  main.replaceChildren(loading)
  try {
    const s = await settings()
    if (s.analysisNeedsToken && !loadSession()?.token && name !== 'login') {
      location.hash = '#/login'
      return
    }
    const parts: HTMLElement[] = []
    if (page.scoped) parts.push(await scopeBar(rerender))
    parts.push(await page.render(rerender))
    if (mine !== generation) return
    main.replaceChildren(...parts)
    drawCharts()
  } catch (error) {
    if (mine !== generation) return
    const message = status()
    showError(message, error)
    main.replaceChildren(message)
    if (error instanceof ApiError && error.status === 401)
      main.append(h('p', {}, h('a', { href: '#/login' }, 'Log in')))
  }
  if (focus) main.focus()
}

addEventListener('hashchange', () => void render(true))
void render()
