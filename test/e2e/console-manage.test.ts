// biome-ignore-all lint/suspicious/noTemplateCurlyInString: AWS's ${field} format syntax
import assert from 'node:assert/strict'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { DescribeFlowLogsCommand, DescribeSecurityGroupRulesCommand, EC2Client } from '@aws-sdk/client-ec2'
import {
  type Browser,
  openBrowser,
  requireBrowser,
  screenshot,
  seriousViolations,
} from '../support/browser.js'
import { type ConsoleData, replayConsoleData } from '../support/console-data.js'
import { type RunningConsole, startConsole } from '../support/console-server.js'

/** The page's document, inside page functions (this file is compiled without the DOM library). */
declare const document: { querySelectorAll(selector: string): { length: number } }

/**
 * Managing flow logs and groups from the console in Chromium, against `flowlog console --state`
 * (the NHN and EC2 APIs over a real state directory): nothing without the token; with it, list,
 * create with picked fields (and the API's own validation message for a bad one), describe,
 * pause, resume, delete; with a key pair, a finding's block applied after confirming and an
 * AWS-style flow log, both checked with a real EC2 client.
 */
describe('web console in Chromium: flow logs and groups through the NHN and EC2 APIs', () => {
  let data: ConsoleData | null = null
  let server: RunningConsole | null = null
  let browser: Browser | null = null
  const token = 'console-test-token-0123456789abcdef'
  const accessKeyId = 'AKIACONSOLETEST00001'
  const secretAccessKey = 'console-test-secret-0123456789abcdefghij'

  before(async () => {
    data = replayConsoleData()
    const tokenFile = join(data.dir, 'token')
    writeFileSync(tokenFile, `${token}\n`)
    const credentials = join(data.dir, 'credentials')
    writeFileSync(
      credentials,
      `[console]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`,
      { mode: 0o600 },
    )
    server = await startConsole([
      '--state',
      join(data.dir, 'state'),
      '--config',
      data.config,
      '--api-token-file',
      tokenFile,
      '--api-credentials',
      credentials,
      data.logs,
    ])
  })
  after(async () => {
    await browser?.close()
    await server?.stop()
    if (data !== null) rmSync(data.dir, { recursive: true, force: true })
  })

  it('asks for the token first, and the API refuses a request without it', async (t) => {
    if (!requireBrowser(t)) return
    browser = await openBrowser()
    const page = browser.page
    await page.goto(`${server!.url}#/flow-logs`)
    await page.getByRole('heading', { name: 'Log in' }).waitFor()
    const refused = await page.evaluate(async () => (await fetch('/v2.0/flowlog-loggers')).status)
    assert.equal(refused, 401)
    // Chromium logs the refused request as a console error: that one was asked for.
    browser.errors.splice(0)
    const html = await (await fetch(server!.url)).text()
    assert.ok(!html.includes(token), 'the token is not in the page')
    assert.deepEqual(await seriousViolations(page), [])
    await page.getByLabel('API token (X-Auth-Token)').fill(token)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('heading', { name: 'Traffic over time' }).waitFor()
  })

  it('lists, creates, describes, pauses, resumes and deletes a flow log', async (t) => {
    if (!requireBrowser(t) || browser === null) return
    const page = browser.page
    await page.goto(`${server!.url}#/flow-logs`)
    const rows = page.locator('main table tbody tr')
    await page.getByRole('heading', { name: 'Create a flow log' }).waitFor()
    assert.equal(await rows.count(), 1, 'the config seeded fl-quickstart')
    assert.match(await rows.first().innerText(), /fl-quickstart/)
    assert.match(await rows.first().innerText(), /SUCCESS; no file yet; 0 spooled/)

    const form = page.getByRole('form', { name: 'NHN-style flow log' })
    await form.getByLabel('Name').fill('web-rejects')
    await form.getByLabel('Resource type').selectOption('VPC')
    await form.getByLabel('Resource id').fill('vpc-0a1')
    await form.getByLabel('Traffic (filter)').selectOption('DROP')
    await form.getByLabel('Aggregation interval (minutes)').selectOption('1')
    // A bad destination: the API's own message is shown, nothing is created.
    await form.getByLabel('Storage URL').fill('ftp://nowhere')
    await form.getByRole('button', { name: 'Create flow log' }).click()
    const error = page.locator('main .status.error').last()
    await error.waitFor()
    assert.match(await error.innerText(), /storage_url|destination/)
    assert.equal(await rows.count(), 1)
    // Fields picked: uncheck all but four, in the order checked.
    for (const name of [
      'vm_id',
      'subnet_id',
      'vpc_id',
      'region',
      'tcp_flag',
      'packets',
      'bytes',
      'direction',
      'status',
      'timestamp_end',
      'interface_id',
    ]) {
      await form.getByLabel(name, { exact: true }).uncheck()
    }
    await form.getByLabel('filter', { exact: true }).uncheck()
    await form.getByLabel('filter', { exact: true }).check()
    assert.equal(
      await form.locator('output.format-preview').innerText(),
      'timestamp_start,protocol,src_addr,dst_addr,src_port,dst_port,filter',
    )
    await form.getByLabel('Storage URL').fill(`file://${join(data!.dir, 'nhn-out')}`)
    await form.getByRole('button', { name: 'Create flow log' }).click()
    await page.waitForFunction(() => document.querySelectorAll('main table tbody tr').length === 2)
    const created = rows.filter({ hasText: 'web-rejects' })
    assert.match(await created.innerText(), /VPC vpc-0a1\s+DROP\s+ACTIVE/)
    await screenshot(page, 'flow-logs-created')
    assert.deepEqual(await seriousViolations(page), [])

    await created.getByRole('button', { name: 'Describe' }).click()
    const details = page.locator('main dl')
    await details.waitFor()
    assert.match(
      await details.innerText(),
      /customized_field\s+timestamp_start,protocol,src_addr,dst_addr,src_port,dst_port,filter/,
    )

    await created.getByRole('button', { name: 'Pause' }).click()
    await rows.filter({ hasText: 'INACTIVE (paused)' }).waitFor()
    await rows.filter({ hasText: 'web-rejects' }).getByRole('button', { name: 'Resume' }).click()
    await rows
      .filter({ hasText: 'web-rejects' })
      .filter({ hasText: 'ACTIVE' })
      .getByRole('button', { name: 'Pause' })
      .waitFor()

    page.once('dialog', (d) => void d.accept())
    await rows.filter({ hasText: 'web-rejects' }).getByRole('button', { name: 'Delete' }).click()
    await page.waitForFunction(() => document.querySelectorAll('main table tbody tr').length === 1)
    // The one error is the refused create (a 400 Chromium logs); nothing else.
    assert.deepEqual(
      browser.errors.filter((e) => !e.includes('status of 400')),
      [],
    )
  })

  it("applies a finding's block through the EC2 API only after the user confirms", async (t) => {
    if (!requireBrowser(t) || browser === null) return
    const page = browser.page
    const ec2 = new EC2Client({
      endpoint: new URL(server!.url).origin,
      region: 'kr1',
      credentials: { accessKeyId, secretAccessKey },
    })
    const sshRules = async () => {
      const answer = await ec2.send(
        new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: ['sg-web'] }] }),
      )
      return (answer.SecurityGroupRules ?? []).filter((r) => r.FromPort === 22 && !r.IsEgress)
    }
    assert.deepEqual(
      (await sshRules()).map((r) => [r.SecurityGroupRuleId, r.CidrIpv4]),
      [['sgr-web-ssh', '0.0.0.0/0']],
    )
    await page.goto(`${server!.url}#/login`)
    await page.getByLabel('Access key id').fill(accessKeyId)
    await page.getByLabel('Secret access key').fill(secretAccessKey)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('heading', { name: 'Traffic over time' }).waitFor()
    assert.ok(!(await page.content()).includes(secretAccessKey), 'the secret is not in the page')

    await page.goto(`${server!.url}#/findings`)
    const scan = page.locator('article.finding', { hasText: 'port-scan: 198.51.100.66' })
    await scan.getByRole('button', { name: /Apply block: sg-web sgr-web-ssh/ }).click()
    const dialog = page.getByRole('dialog', { name: 'Change the security group?' })
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    assert.equal((await sshRules()).length, 1, 'cancelled: nothing changed')

    await scan.getByRole('button', { name: /Apply block: sg-web sgr-web-ssh/ }).click()
    await dialog.getByRole('button', { name: 'Apply' }).click()
    await scan.locator('.status.ok').waitFor()
    assert.match(await scan.locator('.status.ok').innerText(), /Applied: sgr-web-ssh replaced in sg-web/)
    await screenshot(page, 'findings-block-applied')

    // What a real EC2 client sees now: sgr-web-ssh gone, 32 rules for everything but the scanner.
    const after = await sshRules()
    assert.equal(after.length, 32)
    assert.ok(after.every((r) => r.SecurityGroupRuleId !== 'sgr-web-ssh' && r.IpProtocol === 'tcp'))
    assert.ok(after.some((r) => r.CidrIpv4 === '198.51.100.67/32'))
    assert.ok(after.every((r) => r.CidrIpv4 !== '198.51.100.66/32'))
    // The findings now name no rule that lets the scanner in.
    await page.reload()
    const again = page.locator('article.finding', { hasText: 'port-scan: 198.51.100.66' })
    await again.waitFor()
    assert.equal(await again.getByRole('button', { name: /Apply block/ }).count(), 0)
    assert.deepEqual(
      browser.errors.filter((e) => !e.includes('status of 400')),
      [],
    )
  })

  it('creates an AWS-style flow log through EC2 CreateFlowLogs with a ${field} format picked field by field', async (t) => {
    if (!requireBrowser(t) || browser === null) return
    const page = browser.page
    await page.goto(`${server!.url}#/flow-logs`)
    await page.getByRole('heading', { name: 'Create a flow log' }).waitFor()
    const rows = page.locator('main table tbody tr')
    const before = await rows.count()
    await page.getByLabel('API', { exact: true }).selectOption('aws')
    const form = page.getByRole('form', { name: 'AWS-style flow log' })
    await form.getByLabel('Resource type').selectOption('Subnet')
    await form.getByLabel('Resource id').fill('subnet-0a1')
    await form.getByLabel('Traffic type').selectOption('REJECT')
    await form.getByLabel('Maximum aggregation interval (s)').selectOption('60')
    await form
      .getByLabel('Log destination (S3 ARN or file:///dir)')
      .fill(`file://${join(data!.dir, 'aws-out')}`)
    for (const name of ['version', 'account-id', 'packets', 'bytes', 'end', 'log-status']) {
      await form.getByLabel(name, { exact: true }).uncheck()
    }
    await form.getByLabel('reject-reason-detail', { exact: true }).check()
    const format =
      '${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${start} ${action} ${reject-reason-detail}'
    assert.equal(await form.locator('output.format-preview').innerText(), format)
    await form.getByRole('button', { name: 'Create flow log' }).click()
    await page.waitForFunction(
      (n) => document.querySelectorAll('main table tbody tr').length === n + 1,
      before,
    )
    // The EC2 API and the NHN API see the same flow log.
    const ec2 = new EC2Client({
      endpoint: new URL(server!.url).origin,
      region: 'kr1',
      credentials: { accessKeyId, secretAccessKey },
    })
    const described = await ec2.send(
      new DescribeFlowLogsCommand({ Filter: [{ Name: 'resource-id', Values: ['subnet-0a1'] }] }),
    )
    assert.deepEqual(
      described.FlowLogs?.map((f) => [f.TrafficType, f.MaxAggregationInterval, f.LogFormat]),
      [['REJECT', 60, format]],
    )
    const id = described.FlowLogs?.[0]?.FlowLogId ?? ''
    assert.match(await rows.filter({ hasText: id }).innerText(), /SUBNET subnet-0a1\s+DROP/)
    page.once('dialog', (d) => void d.accept())
    await rows.filter({ hasText: id }).getByRole('button', { name: 'Delete' }).click()
    await page.waitForFunction((n) => document.querySelectorAll('main table tbody tr').length === n, before)
    assert.deepEqual(
      browser.errors.filter((e) => !e.includes('status of 400')),
      [],
    )
  })
})
