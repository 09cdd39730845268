import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { repoPath } from './paths.js'
import { requireBuilt, requireCommands } from './requirements.js'

/**
 * Debian's Chromium, headless, driven by playwright-core, with a fresh profile that is deleted
 * afterwards. Every page records its console errors and uncaught exceptions, and can be checked
 * with axe-core; screenshots go to test-artifacts/console/ (kept by CI, ignored by git).
 */
export const CHROMIUM = '/usr/bin/chromium'
export const ARTIFACTS = repoPath('test-artifacts/console')

export function requireBrowser(t: TestContext): boolean {
  if (!requireCommands(t, 'apt-get install chromium', 'chromium')) return false
  return requireBuilt(
    t,
    existsSync(repoPath('dist-console/index.html')),
    'the built console',
    'npm run build',
  )
}

export interface Browser {
  context: BrowserContext
  page: Page
  /** Console errors and page errors seen so far. */
  errors: string[]
  close(): Promise<void>
}

/**
 * `netns`: run Chromium inside that network namespace (a daemon of a namespace lab listens on the
 * namespace's loopback), through a wrapper that `ip netns exec`s it.
 */
export async function openBrowser(options: { netns?: string } = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'flowlog-chromium-'))
  let executablePath = CHROMIUM
  if (options.netns !== undefined) {
    executablePath = `${profile}.sh`
    writeFileSync(executablePath, `#!/bin/sh\nexec ip netns exec ${options.netns} ${CHROMIUM} "$@"\n`, {
      mode: 0o700,
    })
  }
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  const errors: string[] = []
  const page = context.pages()[0] ?? (await context.newPage())
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`)
  })
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`))
  mkdirSync(ARTIFACTS, { recursive: true })
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close().catch(() => undefined)
      rmSync(profile, { recursive: true, force: true })
      rmSync(`${profile}.sh`, { force: true })
    },
  }
}

const AXE = readFileSync(repoPath('node_modules/axe-core/axe.min.js'), 'utf8')

/** axe-core's serious and critical violations on the page as it is now, one line each. */
export async function seriousViolations(page: Page): Promise<string[]> {
  // evaluate() runs through DevTools, so the page's Content-Security-Policy stays in force.
  await page.evaluate(AXE)
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run(): Promise<{
            violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[]
          }>
        }
      }
    ).axe
    const result = await axe.run()
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => String(n.target)),
    }))
  })
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.targets.slice(0, 3).join(', ')})`)
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
}
