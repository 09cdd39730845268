import assert from 'node:assert/strict'
import { readFileSync, rmSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import {
  type Browser,
  openBrowser,
  requireBrowser,
  screenshot,
  seriousViolations,
} from '../support/browser.js'
import { runFlowlog } from '../support/cli.js'
import { type ConsoleData, replayConsoleData } from '../support/console-data.js'
import { type RunningConsole, startConsole } from '../support/console-server.js'

/** The page's document, inside page functions (this file is compiled without the DOM library). */
declare const document: {
  querySelector(
    selector: string,
  ): { textContent: string | null; getAttribute(name: string): string | null } | null
  activeElement: { textContent: string | null } | null
}

/**
 * The console in Debian's Chromium against `flowlog console` over the quick start's capture
 * replayed into real files: each page draws from the server's answers, the numbers on the page
 * are the numbers `flowlog sql` / `query` give, no page logs an error, and axe-core finds no
 * serious accessibility problem. Screenshots: test-artifacts/console/.
 */
describe('web console in Chromium over replayed files', () => {
  let data: ConsoleData | null = null
  let server: RunningConsole | null = null
  let browser: Browser | null = null
  const count = (where: string) => {
    const r = runFlowlog([
      'query',
      '--no-summary',
      '--count',
      ...(where === '' ? [] : ['--where', where]),
      data!.logs,
    ])
    assert.equal(r.code, 0, r.stderr)
    return Number(r.stdout.trim())
  }
  const records = async () =>
    Number(await browser!.page.locator('.coverage').first().getAttribute('data-records'))
  const visit = async (hash: string, name: string) => {
    const page = browser!.page
    await page.goto(`${server!.url}#/${hash}`)
    await page.locator('main h1').first().waitFor()
    await page.waitForFunction(
      () => !document.querySelector('main .status:not(.error):not(.ok)')?.textContent?.includes('Loading'),
    )
    await screenshot(page, name)
    assert.deepEqual(await seriousViolations(page), [], `axe on ${name}`)
    assert.deepEqual(browser!.errors, [], `console errors on ${name}`)
  }

  before(async () => {
    data = replayConsoleData()
    server = await startConsole(['--config', data.config, data.logs])
  })
  after(async () => {
    await browser?.close()
    await server?.stop()
    if (data !== null) rmSync(data.dir, { recursive: true, force: true })
  })

  it('traffic: the chart covers every record, and choosing an interface narrows it', async (t) => {
    if (!requireBrowser(t)) return
    browser = await openBrowser()
    const page = browser.page
    const response = await page.goto(server!.url)
    assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'/)
    await visit('traffic', 'traffic')
    assert.equal(await records(), count(''))
    assert.equal((await page.locator('main canvas').count()) > 0, true, 'ECharts drew the chart')
    // The tooltip is HTML that ECharts writes: it must live with the page's Content-Security-Policy.
    const canvas = page.locator('main canvas').first()
    const box = (await canvas.boundingBox())!
    await page.mouse.move(box.x + box.width * 0.1, box.y + box.height * 0.6)
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5)
    await page.locator('main .chart div', { hasText: 'Accepted' }).first().waitFor()
    assert.deepEqual(browser.errors, [], 'no console error after the tooltip showed')
    await page.getByLabel('Interface').selectOption('eni-db1')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.waitForFunction(
      (n) => document.querySelector('.coverage')?.getAttribute('data-records') !== String(n),
      count(''),
    )
    assert.equal(await records(), count('interface-id = eni-db1'))
    await screenshot(page, 'traffic-eni-db1')
    await page.getByLabel('Split by').selectOption('instance')
    await page.getByText(/by Instance$/).waitFor()
    assert.equal(await page.locator('main figure canvas').count(), 2)
    await screenshot(page, 'traffic-by-instance')
    await page.getByLabel('Split by').selectOption('')
    await page.getByLabel('Interface').selectOption('')
    await page.getByRole('button', { name: 'Apply' }).click()
  })

  it('top talkers and who talks to whom draw their charts', async (t) => {
    if (!requireBrowser(t) || browser === null) return
    await visit('top', 'top')
    assert.equal((await browser.page.locator('main figure canvas').count()) >= 4, true)
    await visit('talkers', 'talkers')
    const pairs = await browser.page.locator('main table tbody tr').count()
    assert.ok(pairs > 0)
    assert.match(await browser.page.locator('main table tbody tr').first().innerText(), /\d+\.\d+\.\d+\.\d+/)
  })

  it('the flow browser filters with the query language, pages, and exports CSV', async (t) => {
    if (!requireBrowser(t) || browser === null) return
    const page = browser.page
    await visit('flows', 'flows')
    const filter = 'action = REJECT and dstaddr = 10.0.1.10'
    await page.getByLabel('Filter (flowlog query language)').fill(filter)
    await page.getByRole('button', { name: 'Apply' }).click()
    const expected = count(filter)
    await page.waitForFunction(
      (n) => document.querySelector('.coverage')?.getAttribute('data-records') === String(n),
      expected,
    )
    assert.match(
      await page.locator('.pager').innerText(),
      new RegExp(`of ${expected.toLocaleString('en-US')}$`),
    )
    const rows = page.locator('main table tbody tr')
    assert.equal(await rows.count(), Math.min(50, expected))
    for (const text of await rows.allInnerTexts()) {
      assert.match(text, /10\.0\.1\.10:\d+/)
      assert.match(text, /REJECT/)
      assert.match(text, /1:[A-Za-z0-9+/]+=/)
    }
    await page.getByRole('button', { name: 'Next page' }).click()
    await page.waitForFunction(() => document.querySelector('.pager')?.textContent?.startsWith('Records 51'))
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ])
    const csv = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n')
    assert.equal(csv.length - 1, expected)
    await screenshot(page, 'flows-filtered')
    assert.deepEqual(browser.errors, [])
    // The filter is part of the shared scope: cleared for the pages after this one.
    await page.getByLabel('Filter (flowlog query language)').fill('')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.waitForFunction(
      (n) => document.querySelector('.coverage')?.getAttribute('data-records') === String(n),
      count(''),
    )
  })

  it('findings show the evidence and the exact block; nothing is applied before confirming and logging in', async (t) => {
    if (!requireBrowser(t) || browser === null) return
    const page = browser.page
    await visit('findings', 'findings')
    const scan = page.locator('article.finding', { hasText: 'port-scan' })
    assert.match(await scan.locator('h2').innerText(), /198\.51\.100\.66/)
    await scan.getByText('The exact rule change').click()
    assert.match(await scan.innerText(), /Revoke sgr-web-ssh: inbound tcp 22 from 0\.0\.0\.0\/0/)
    assert.match(await scan.innerText(), /inbound tcp 22 from 198\.51\.100\.67\/32/)
    await scan.getByRole('button', { name: /Apply block/ }).click()
    const dialog = page.getByRole('dialog', { name: 'Change the security group?' })
    await dialog.waitFor()
    await screenshot(page, 'findings-confirm')
    assert.deepEqual(await seriousViolations(page), [], 'axe on the confirm dialog')
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    assert.equal(await dialog.count(), 0)
    // Confirmed without a key pair: the console refuses before sending anything.
    await scan.getByRole('button', { name: /Apply block/ }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Apply' }).click()
    await scan.locator('.status.error').waitFor()
    assert.match(await scan.locator('.status.error').innerText(), /log in with an API key pair/)
  })

  it('audit lists each rule with its hits, and what-if replays an edited group', async (t) => {
    if (!requireBrowser(t) || browser === null) return
    const page = browser.page
    await visit('audit', 'audit')
    const ssh = page.locator('main table tbody tr', { hasText: 'sgr-web-ssh' })
    assert.match(await ssh.innerText(), /used/)
    await visit('what-if', 'what-if')
    const editor = page.getByLabel('Proposed group (JSON or YAML, as in a config file)')
    const groups = JSON.parse(await editor.inputValue()) as { inbound: { id: string }[] }[]
    groups[0]!.inbound = groups[0]!.inbound.filter((r) => r.id !== 'sgr-web-ssh')
    await editor.fill(JSON.stringify(groups, null, 2))
    await page.getByRole('button', { name: 'Run what-if' }).click()
    await page.locator('.verdict').waitFor()
    assert.match(
      await page.locator('.verdict').innerText(),
      /^[1-9][\d,]* accepted records would be rejected/,
    )
    await screenshot(page, 'what-if-result')
    assert.deepEqual(await seriousViolations(page), [])
    assert.deepEqual(browser.errors, [])
  })

  it('the flow-logs page says management needs the daemon, and the login page is labelled', async (t) => {
    if (!requireBrowser(t) || browser === null) return
    await visit('flow-logs', 'flow-logs-files-only')
    assert.match(await browser.page.locator('main').innerText(), /flowlog run/)
    await visit('login', 'login')
    await browser.page.getByLabel('API token (X-Auth-Token)').waitFor()
  })

  it('is usable from the keyboard: skip link, navigation, scope bar and the confirm dialog', async (t) => {
    if (!requireBrowser(t) || browser === null) return
    const page = browser.page
    await visit('traffic', 'keyboard-start')
    // A fresh load: focus starts at the top of the page.
    await page.reload()
    await page.locator('.coverage').waitFor()
    await page.keyboard.press('Tab')
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content')
    // Tab along the navigation to "Findings" and follow it with Enter.
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab')
      if ((await page.evaluate(() => document.activeElement?.textContent)) === 'Findings') break
    }
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Findings', level: 1 }).waitFor()
    const apply = page.getByRole('button', { name: /Apply block/ })
    await apply.focus()
    await page.keyboard.press('Enter')
    const dialog = page.getByRole('dialog')
    await dialog.waitFor()
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel')
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'detached' })
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), await apply.innerText())
  })
})
