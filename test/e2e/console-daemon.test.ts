import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  type Browser,
  openBrowser,
  requireBrowser,
  screenshot,
  seriousViolations,
} from '../support/browser.js'
import {
  CLIENT_JS,
  collectOutput,
  createLab,
  type Lab,
  requireLab,
  SERVER_JS,
  waitFor,
} from '../support/netns.js'
import {
  type RunningService,
  readTextRecords,
  serviceFiles,
  startService,
  TOKEN,
} from '../support/service-lab.js'

/** The page's document, inside page functions (this file is compiled without the DOM library). */
declare const document: { querySelectorAll(selector: string): { length: number } }

/**
 * The console that `flowlog run` serves on its API listener, in Chromium, on a namespace lab with
 * real traffic: log in with the daemon's token, see the seeded flow log and create one through the
 * form, make a connection, and find its record in the charts and the flow browser once the daemon
 * has written it.
 */
test('the console of a running daemon: flow logs, live files, charts', async (t) => {
  if (!requireLab(t, { libpcap: false }) || !requireBrowser(t)) return
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-console-daemon-'))
  const lab: Lab = createLab('w', ['a', 'b'])
  let service: RunningService | null = null
  let browser: Browser | null = null
  try {
    const [a, b] = lab.instances as [Lab['instances'][0], Lab['instances'][0]]
    const out = join(dir, 'out')
    const files = serviceFiles(
      lab,
      dir,
      `flowLogs:
  - id: fl-console
    resource: vpc-lab
    aggregationInterval: 2
    logFormat: "\${version} \${interface-id} \${srcaddr} \${dstaddr} \${srcport} \${dstport} \${protocol} \${packets} \${bytes} \${start} \${end} \${action} \${log-status} \${rule-id} \${reject-reason-detail}"
    destination: file://${out}
    compression: none
`,
    )
    service = await startService(lab, files)
    const url = `${service.url}/console/`
    browser = await openBrowser({ netns: lab.hv })
    const page = browser.page

    await page.goto(`${url}#/flow-logs`)
    await page.getByRole('heading', { name: 'Log in' }).waitFor()
    await page.getByLabel('API token (X-Auth-Token)').fill(TOKEN)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('heading', { name: 'Traffic over time' }).waitFor()
    await page.goto(`${url}#/flow-logs`)
    const rows = page.locator('main table tbody tr')
    await rows.filter({ hasText: 'fl-console' }).waitFor()

    // A flow log made in the console is one the daemon runs.
    const form = page.getByRole('form', { name: 'NHN-style flow log' })
    await form.getByLabel('Name').fill('from-the-console')
    await form.getByLabel('Resource type').selectOption('PORT')
    await form.getByLabel('Resource id').fill('eni-b')
    await form.getByLabel('Aggregation interval (minutes)').selectOption('1')
    await form.getByLabel('Storage URL').fill(`file://${join(dir, 'nhn')}`)
    await form.getByRole('button', { name: 'Create flow log' }).click()
    await page.waitForFunction(() => document.querySelectorAll('main table tbody tr').length === 2)
    const created = rows.filter({ hasText: 'from-the-console' })
    const id = (await created.locator('td').first().innerText()).trim()
    await waitFor('the daemon to start the created flow log', () =>
      service!.logs().some((l) => String(l.msg).startsWith('applied:') && (l.added as string[]).includes(id))
        ? true
        : undefined,
    )
    await screenshot(page, 'daemon-flow-logs')
    assert.deepEqual(await seriousViolations(page), [])

    // Real traffic, then its record in the daemon's files and in the console.
    const server = lab.start(b.ns, [process.execPath, '-e', SERVER_JS, '80'])
    const serverOut = collectOutput(server)
    await waitFor('the server in b', () => (serverOut.stdout().includes('"80"') ? true : undefined))
    const reply = JSON.parse(lab.run(a.ns, [process.execPath, '-e', CLIENT_JS, `tcp:${b.address}:80`]))
    assert.equal(reply[`tcp:${b.address}:80`], 'ok')
    await waitFor("the connection in fl-console's files", () =>
      readTextRecords(out).some((r) => r.dstport === 80 && r.action === 'ACCEPT') ? true : undefined,
    )
    // The console lists the sources again within 5 seconds.
    const filter = `srcaddr = ${a.address} and dstaddr = ${b.address} and dstport = 80 and action = ACCEPT`
    await page.goto(`${url}#/flows`)
    await page.getByLabel('Filter (flowlog query language)').fill(filter)
    const deadline = Date.now() + 30_000
    for (;;) {
      await page.getByRole('button', { name: 'Apply' }).click()
      await page.locator('.coverage').waitFor()
      if (Number(await page.locator('.coverage').getAttribute('data-records')) > 0) break
      assert.ok(Date.now() < deadline, 'the record reached the flow browser within 30 s')
      await new Promise((r) => setTimeout(r, 1000))
    }
    // Two records of the connection: leaving a (its outbound rule) and entering b (sgr-http).
    const records = await page.locator('main table tbody tr').allInnerTexts()
    assert.ok(records.every((r) => r.includes(`${b.address}:80`)))
    assert.ok(
      records.some((r) => /\beni-b\b.*\bsgr-http\b/s.test(r)),
      records.join('\n'),
    )
    assert.ok(
      records.some((r) => /\beni-a\b.*\bsgr-client-out\b/s.test(r)),
      records.join('\n'),
    )
    await screenshot(page, 'daemon-flows')

    await page.goto(`${url}#/traffic`)
    await page.locator('main canvas').first().waitFor()
    assert.ok(Number(await page.locator('.coverage').getAttribute('data-records')) > 0)
    await screenshot(page, 'daemon-traffic')
    assert.deepEqual(browser.errors, [])
  } finally {
    await browser?.close()
    await service?.stop()
    lab.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
})
