import assert from 'node:assert/strict'
import { type ChildProcess, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { readJsonlRecords, runFlowlog } from '../support/cli.js'
import { flowVerdicts } from '../support/flow-verdicts.js'
import {
  collectOutput,
  createLab,
  type Instance,
  type Lab,
  labConfig,
  logLines,
  probeServer,
  requireLab,
  SERVER_JS,
  waitFor,
} from '../support/netns.js'
import { repoPath } from '../support/paths.js'

type Row = Record<string, unknown>

function startDaemon(
  lab: Lab,
  config: string,
): { child: ChildProcess; logs: () => Row[]; stderr: () => string } {
  const child = lab.start(lab.hv, [
    process.execPath,
    repoPath('bin/flowlog.js'),
    'run',
    '--config',
    config,
    '--enforce',
    '--no-api',
    '--no-state',
  ])
  const output = collectOutput(child)
  return { child, logs: () => logLines(output.stdout()), stderr: output.stderr }
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

function tables(lab: Lab): string {
  return lab.run(lab.hv, ['nft', 'list', 'tables'])
}

test('flowlog run --enforce: the kernel enforces the groups, records carry its verdicts, and they match the engine', async (t) => {
  // The default (tcpdump) backend reads the NFLOG groups: no libpcap binding needed.
  if (!requireLab(t, { libpcap: false })) return
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-enforce-'))
  const out = join(dir, 'out')
  const lab = createLab('e', ['a', 'b', 'c'])
  const started: ChildProcess[] = []
  try {
    const [a, b] = lab.instances as [Instance, Instance]
    const config = join(dir, 'host.yaml')
    writeFileSync(config, labConfig(lab, out))
    const pcap = join(dir, 'ingress.pcap')
    // Every packet as it enters the hypervisor from an instance, before the kernel judges it:
    // what flowlog's own engine will judge, for the comparison.
    const tcpdump = lab.start(lab.hv, ['tcpdump', '-i', 'any', '-Q', 'in', '-n', '-U', '-w', pcap])
    started.push(tcpdump)
    const dump = collectOutput(tcpdump)
    await waitFor('tcpdump', () => (dump.stderr().includes('listening on') ? true : undefined))

    const daemon = startDaemon(lab, config)
    started.push(daemon.child)
    const startedLog = await waitFor('flowlog run --enforce', () =>
      daemon.logs().find((l) => l.msg === 'flowlog run started'),
    )
    assert.equal(startedLog.backend, 'tcpdump')
    assert.match(tables(lab), /table inet flowlog/)

    const server = lab.start(b.ns, [process.execPath, '-e', SERVER_JS, '80', '22', 'udp:53'])
    started.push(server)
    const serverOut = collectOutput(server)
    await waitFor('the servers in b', () => (serverOut.stdout().includes('"80"') ? true : undefined))

    lab.run(a.ns, ['ping', '-c', '3', '-i', '0.2', '-W', '1', b.address])
    const back = spawnSync(
      'ip',
      ['netns', 'exec', b.ns, 'ping', '-c', '2', '-i', '0.2', '-W', '1', a.address],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    )
    const outcomes = probeServer(lab, a.ns, b.address, 10)

    await t.test('what the groups deny does not arrive', () => {
      assert.match(back.stdout, / 0 received/, 'a has no inbound rule: b cannot ping it')
      assert.equal(
        outcomes[`tcp:${b.address}:22`],
        'timeout',
        'no inbound rule for port 22: the SYN is dropped',
      )
      assert.deepEqual(outcomes[`scan:${b.address}:1000-1009`], Array(10).fill('timeout'))
      const counts = serverOut.stdout().trim().split('\n').at(-1) ?? '{}'
      assert.equal(
        (JSON.parse(counts) as Record<string, number>)['22'],
        0,
        'the server on 22 saw no connection',
      )
      // What the groups allow works.
      assert.equal(outcomes[`tcp:${b.address}:80`], 'ok')
      assert.equal(outcomes[`tcp:${b.address}:81`], 'refused')
      assert.equal(outcomes[`udp:${b.address}:53`], 'ok')
    })

    await new Promise((r) => setTimeout(r, 500))
    tcpdump.kill('SIGINT')
    await exited(tcpdump)
    daemon.child.kill('SIGTERM')
    assert.equal(await exited(daemon.child), 0, daemon.stderr())
    const records = readJsonlRecords(out)

    await t.test('the ruleset is removed on exit', () => {
      assert.doesNotMatch(tables(lab), /table inet flowlog/)
    })

    await t.test('records carry the kernel verdict and the rule id', () => {
      const find = (where: Row) =>
        records.filter((r) => r['log-status'] === 'OK' && Object.entries(where).every(([k, v]) => r[k] === v))
      const http = find({ 'interface-id': 'eni-b', 'flow-direction': 'ingress', dstport: 80, protocol: 6 })
      assert.ok(http.length > 0 && http.every((r) => r.action === 'ACCEPT' && r['rule-id'] === 'sgr-http'))
      const ssh = find({ 'interface-id': 'eni-b', 'flow-direction': 'ingress', dstport: 22, protocol: 6 })
      assert.ok(
        ssh.length > 0 &&
          ssh.every((r) => r.action === 'REJECT' && r['reject-reason-detail'] === 'no-matching-rule'),
      )
      assert.equal(
        find({ 'interface-id': 'eni-b', 'flow-direction': 'egress', srcport: 22 }).length,
        0,
        'b never answered',
      )
      const dns = find({ 'interface-id': 'eni-b', srcport: 53, protocol: 17 })
      assert.ok(
        dns.length > 0 && dns.every((r) => r['rule-id'] === 'sgr-dns'),
        'the reply is accepted by the rule of its connection',
      )
      assert.ok(records.some((r) => r['interface-id'] === 'eni-c' && r['log-status'] === 'NODATA'))
    })

    await t.test("flowlog's engine gives the kernel's verdict for every flow of the same traffic", () => {
      const replayOut = join(dir, 'replay')
      const replay = runFlowlog(['replay', '--config', config, '--out', replayOut, '--no-progress', pcap])
      assert.equal(replay.code, 0, replay.stderr)
      const kernel = flowVerdicts(records)
      const engine = flowVerdicts(readJsonlRecords(replayOut))
      assert.ok(Object.keys(kernel).length >= 20, `enough flows to compare (${Object.keys(kernel).length})`)
      assert.deepEqual(kernel, engine)
    })

    await t.test('a ruleset left by a crash is removed on the next start', async () => {
      const crashed = startDaemon(lab, config)
      started.push(crashed.child)
      await waitFor('the first daemon', () =>
        crashed.logs().some((l) => l.msg === 'flowlog run started') ? true : undefined,
      )
      crashed.child.kill('SIGKILL')
      await exited(crashed.child)
      assert.match(tables(lab), /table inet flowlog/, 'SIGKILL leaves the table behind')
      const next = startDaemon(lab, config)
      started.push(next.child)
      await waitFor('the second daemon', () =>
        next.logs().some((l) => l.msg === 'flowlog run started') ? true : undefined,
      )
      assert.ok(
        next.logs().some((l) => String(l.msg).startsWith('removed the ruleset a previous run left behind')),
      )
      next.child.kill('SIGTERM')
      assert.equal(await exited(next.child), 0, next.stderr())
      assert.doesNotMatch(tables(lab), /table inet flowlog/)
    })
  } finally {
    for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    lab.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
})
