import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { type Browser, openBrowser, requireBrowser, screenshot } from '../support/browser.js'
import {
  CLIENT_JS,
  collectOutput,
  createLab,
  type Lab,
  requireLab,
  SERVER_JS,
  waitFor,
} from '../support/netns.js'
import { requireCommands } from '../support/requirements.js'
import {
  ACCESS_KEY,
  aws,
  type RunningService,
  readTextRecords,
  SECRET_KEY,
  serviceFiles,
  startService,
  TOKEN,
} from '../support/service-lab.js'

/**
 * A port scan from a, in real traffic, that the web server's rule sgr-http let in on port 80, on a
 * daemon in enforce mode: the console shows the finding and its block (sgr-http for 10.77.0.0/16
 * but a's address), and after the user confirms, changes sg-server through the EC2 API with the
 * login's key pair. The kernel refuses a's next connection to port 80, and its record says REJECT.
 */
test("the console applies a finding's block through the EC2 API, and the scanner is shut out", async (t) => {
  if (!requireLab(t, { libpcap: false }) || !requireBrowser(t)) return
  if (!requireCommands(t, 'apt-get install awscli (Debian, /usr/bin/aws)', '/usr/bin/aws')) return
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-console-block-'))
  const lab: Lab = createLab('k', ['a', 'b'])
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
    logFormat: "\${version} \${interface-id} \${srcaddr} \${dstaddr} \${srcport} \${dstport} \${protocol} \${packets} \${bytes} \${start} \${end} \${action} \${log-status} \${tcp-flags} \${flow-direction} \${rule-id} \${reject-reason-detail}"
    destination: file://${out}
    compression: none
`,
    )
    service = await startService(lab, files, ['--enforce', '--api-credentials', files.credentials])
    const server = lab.start(b.ns, [process.execPath, '-e', SERVER_JS, '80'])
    const serverOut = collectOutput(server)
    await waitFor('the server in b', () => (serverOut.stdout().includes('"80"') ? true : undefined))
    lab.run(a.ns, [process.execPath, '-e', CLIENT_JS, `scan:${b.address}:70-90`])
    await waitFor('the scan in the files', () =>
      readTextRecords(out).filter((r) => r.srcaddr === a.address && r.action === 'REJECT').length >= 15
        ? true
        : undefined,
    )

    browser = await openBrowser({ netns: lab.hv })
    const page = browser.page
    const url = `${service.url}/console/`
    await page.goto(`${url}#/login`)
    await page.getByLabel('API token (X-Auth-Token)').fill(TOKEN)
    await page.getByLabel('Access key id').fill(ACCESS_KEY)
    await page.getByLabel('Secret access key').fill(SECRET_KEY)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('heading', { name: 'Traffic over time' }).waitFor()
    assert.ok(!(await page.content()).includes(SECRET_KEY), 'the secret is not in the page')

    await page.goto(`${url}#/findings`)
    const scan = page.locator('article.finding', { hasText: `port-scan: ${a.address}` })
    await scan.waitFor()
    await scan.getByText('The exact rule change').click()
    assert.match(await scan.innerText(), /Revoke sgr-http: inbound tcp 80 from 10\.77\.0\.0\/16/)
    await scan.getByRole('button', { name: /Apply block: sg-server sgr-http/ }).click()
    const dialog = page.getByRole('dialog', { name: 'Change the security group?' })
    await dialog.waitFor()
    await screenshot(page, 'daemon-block-confirm')
    await dialog.getByRole('button', { name: 'Apply' }).click()
    await scan.locator('.status.ok').waitFor()
    assert.match(await scan.locator('.status.ok').innerText(), /Applied: sgr-http replaced in sg-server/)
    await screenshot(page, 'daemon-block-applied')

    // The group as the EC2 API (Debian's awscli) sees it now: sgr-http gone, 16 narrower rules.
    const described = aws(lab, service, ['describe-security-groups', '--group-ids', 'sg-server'])
    assert.equal(described.code, 0, described.stderr)
    const group = (described.json.SecurityGroups as Record<string, unknown>[])[0]!
    const ranges = (group.IpPermissions as { FromPort?: number; IpRanges: { CidrIp: string }[] }[])
      .filter((p) => p.FromPort === 80)
      .flatMap((p) => p.IpRanges.map((r) => r.CidrIp))
    assert.equal(ranges.length, 16)
    assert.ok(!ranges.includes('10.77.0.0/16'))
    assert.ok(ranges.every((r) => r !== `${a.address}/32`))

    // The scanner's next connection to port 80 is rejected, and recorded so.
    const since = Date.now() / 1000
    const reply = JSON.parse(lab.run(a.ns, [process.execPath, '-e', CLIENT_JS, `tcp:${b.address}:80`]))
    assert.equal(reply[`tcp:${b.address}:80`], 'timeout')
    await waitFor('the rejected connection in the files', () =>
      readTextRecords(out).some(
        (r) =>
          r.srcaddr === a.address &&
          r.dstport === 80 &&
          r.action === 'REJECT' &&
          r['interface-id'] === 'eni-b' &&
          Number(r.start) >= Math.floor(since),
      )
        ? true
        : undefined,
    )
    assert.deepEqual(browser.errors, [])
  } finally {
    await browser?.close()
    await service?.stop()
    lab.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
})
