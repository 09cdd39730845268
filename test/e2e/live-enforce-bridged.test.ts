import assert from 'node:assert/strict'
import { type ChildProcess, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { DEFAULT_STATE_DIR } from '../../src/enforce/bridge-sysctls.js'
import {
  type BridgedLab,
  createBridgedLab,
  DUAL_SERVER_JS,
  type Host,
  pings,
  probe,
} from '../support/bridged-lab.js'
import { readJsonlRecords, runFlowlog } from '../support/cli.js'
import { flowVerdicts } from '../support/flow-verdicts.js'
import { collectOutput, logLines, requireLab, waitFor } from '../support/netns.js'
import { repoPath } from '../support/paths.js'
import { requireCommands } from '../support/requirements.js'

type Row = Record<string, unknown>

/**
 * Issue 16: a host laid out as libvirt, Proxmox and OpenStack's linuxbridge agent lay it out
 * (test/support/bridged-lab.ts): instances a and b (with their MACs) and c (without) on a Linux
 * bridge, an outside host o on the bridge, and a routed peer p on a tap of its own, reached through
 * the bridge's address. IPv4 and IPv6 alike: ping, SSH-like TCP (22, allowed from anywhere), TCP
 * the groups refuse (8080), group-referenced TCP (80 only from sg-client's members a and p) and
 * DNS-like UDP (53 from sg-client). Observe mode records the groups' verdicts and blocks nothing;
 * enforce mode refuses what they refuse, and every record of the kernel equals the engine's on
 * the same packets.
 */
const SYSCTLS = ['net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-ip6tables']

function config(lab: BridgedLab, out: string, options: { ssh?: boolean } = {}): string {
  const [a, b, c] = lab.ports as [Host, Host, Host]
  const [d] = lab.later as [Host]
  const p = lab.routed
  const nic = (h: Host, subnet: string, group: string, mac: boolean) =>
    `  - { id: eni-${h.name}, subnet: ${subnet}, ${mac ? `mac: "${h.mac}", ` : ''}addresses: [${h.v4}, "${h.v6}"], device: ${h.device}, securityGroups: [${group}] }`
  const ssh =
    options.ssh === false
      ? ''
      : `      - { id: sgr-ssh, protocol: tcp, ports: "22", source: 0.0.0.0/0 }
      - { id: sgr-ssh6, protocol: tcp, ports: "22", source: "::/0" }
`
  return `account: "123456789012"
region: kr1
spoolDir: ${out}-spool
vpcs:
  - id: vpc-lab
    cidrs: [10.77.0.0/16, "fd77::/16"]
    subnets:
      - { id: subnet-br, cidrs: [10.77.2.0/24, "fd77:2::/64"] }
      - { id: subnet-rt, cidrs: [10.77.3.0/24, "fd77:3::/64"] }
securityGroups:
  - id: sg-client
    outbound:
      - { id: sgr-client-out, protocol: all, destination: 0.0.0.0/0 }
      - { id: sgr-client-out6, protocol: all, destination: "::/0" }
  - id: sg-server
    inbound:
${ssh}      - { id: sgr-ping, protocol: icmp, icmpType: 8, source: 0.0.0.0/0 }
      - { id: sgr-ping6, protocol: icmpv6, icmpType: 128, source: "::/0" }
      - { id: sgr-http, protocol: tcp, ports: "80", source: sg-client }
      - { id: sgr-dns, protocol: udp, ports: "53", source: sg-client }
    outbound:
      - { id: sgr-server-out, protocol: all, destination: 0.0.0.0/0 }
      - { id: sgr-server-out6, protocol: all, destination: "::/0" }
interfaces:
${[
  nic(a, 'subnet-br', 'sg-client', true),
  nic(b, 'subnet-br', 'sg-server', true),
  nic(c, 'subnet-br', 'sg-server', false),
  nic(d, 'subnet-br', 'sg-server', true),
  nic(p, 'subnet-rt', 'sg-client', true),
].join('\n')}
flowLogs:
  - id: fl-lab
    resource: vpc-lab
    aggregationInterval: 2
    fileFormat: jsonl
    fields: [interface-id, flow-direction, pkt-srcaddr, pkt-dstaddr, srcport, dstport, protocol, packets, bytes, start, end, tcp-flags, action, log-status, rule-id, reject-reason-detail]
    destination: file://${out}
    compression: none
`
}

/** The scenarios, both families; outcomes by "who action". */
function traffic(lab: BridgedLab): Record<string, string | boolean> {
  const [a, b, c] = lab.ports as [Host, Host, Host]
  const o = lab.outside
  const p = lab.routed
  const outcomes: Record<string, string | boolean> = {}
  for (const family of ['v4', 'v6'] as const) {
    for (const [from, to] of [
      [a, b],
      [o, b],
      [p, b],
      [b, a],
    ] as const) {
      outcomes[`${from.name} ping ${to.name} ${family}`] = pings(lab, from.ns, to[family])
    }
    const run = (from: Host, actions: [string, Host, number][]) => {
      const result = probe(
        lab,
        from.ns,
        actions.map(([kind, to, port]) => `${kind}|${to[family]}|${port}`),
      )
      actions.forEach(([kind, to, port], i) => {
        outcomes[`${from.name} ${kind} ${to.name}:${port} ${family}`] = Object.values(result)[i] ?? 'missing'
      })
    }
    run(a, [
      ['tcp', b, 22],
      ['tcp', b, 80],
      ['udp', b, 53],
      ['tcp', c, 80],
    ])
    run(o, [
      ['tcp', b, 22],
      ['tcp', b, 8080],
      ['tcp', b, 80],
      ['tcp', c, 8080],
    ])
    run(p, [
      ['tcp', b, 80],
      ['tcp', b, 8080],
      ['udp', b, 53],
    ])
  }
  return outcomes
}

/** The verdicts of one interface's flows to a destination port (or ICMP), as "ACTION cause" strings. */
function causes(records: Row[], where: Row): string[] {
  const found = records.filter(
    (r) => r['log-status'] === 'OK' && Object.entries(where).every(([k, v]) => r[k] === v),
  )
  return [...new Set(found.map((r) => `${r.action} ${r['rule-id'] ?? r['reject-reason-detail']}`))].sort()
}

function startDaemon(lab: BridgedLab, configPath: string, enforce: boolean) {
  const child = lab.start(lab.hv, [
    process.execPath,
    repoPath('bin/flowlog.js'),
    'run',
    '--config',
    configPath,
    ...(enforce ? ['--enforce'] : []),
    '--no-api',
    '--no-state',
  ])
  const output = collectOutput(child)
  const logs = () => logLines(output.stdout())
  const started = waitFor(`flowlog run${enforce ? ' --enforce' : ''}`, () => {
    if (child.exitCode !== null) throw new Error(`flowlog run exited: ${output.stderr()}`)
    return logs().find((l) => l.msg === 'flowlog run started')
  })
  return { child, logs, stderr: output.stderr, started }
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

test('bridged and routed ports, IPv4 and IPv6: observe records the groups, enforce refuses what they refuse, and the kernel agrees with the engine', async (t) => {
  if (!requireLab(t, { libpcap: false })) return
  if (!requireCommands(t, 'apt-get install wireshark-common', 'mergecap')) return
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-bridged-'))
  // d is a VM started while flowlog runs: its tap joins the bridge in the last subtest.
  const lab = createBridgedLab('g', ['a', 'b', 'c'], ['d'])
  const started: ChildProcess[] = []
  try {
    const [a, b, c] = lab.ports as [Host, Host, Host]
    const o = lab.outside
    const p = lab.routed
    const sysctls = () => SYSCTLS.map((s) => lab.run(lab.hv, ['sysctl', '-n', s]).trim())
    // The host's own setting, which flowlog must change while it enforces and then put back.
    lab.run(lab.hv, ['sysctl', '-qw', ...SYSCTLS.map((s) => `${s}=0`)])
    for (const h of [b, c]) {
      const server = lab.start(h.ns, [process.execPath, '-e', DUAL_SERVER_JS, '22', '80', '8080', 'udp:53'])
      started.push(server)
      const out = collectOutput(server)
      await waitFor(`the servers in ${h.name}`, () => (out.stdout().includes('"8080"') ? true : undefined))
    }

    await t.test(
      'observe mode: every scenario arrives, and the records carry the groups verdicts',
      async () => {
        const out = join(dir, 'observe')
        const configPath = join(dir, 'observe.yaml')
        writeFileSync(configPath, config(lab, out))
        const daemon = startDaemon(lab, configPath, false)
        started.push(daemon.child)
        await daemon.started
        // The captures of all four devices are open before the traffic starts.
        await waitFor('the captures', () =>
          daemon.logs().filter((l) => l.msg === 'capturing').length >= 4 ? true : undefined,
        )
        const outcomes = traffic(lab)
        for (const [what, outcome] of Object.entries(outcomes)) {
          // Observe mode blocks nothing, not even what the groups refuse.
          assert.ok(outcome === true || outcome === 'ok', `${what}: ${outcome}`)
        }
        await new Promise((r) => setTimeout(r, 300))
        daemon.child.kill('SIGTERM')
        assert.equal(await exited(daemon.child), 0, daemon.stderr())
        const records = readJsonlRecords(out)
        for (const family of ['v4', 'v6'] as const) {
          const to = (h: Host, port: number, from: Host) => ({
            'interface-id': `eni-${h.name}`,
            'flow-direction': 'ingress',
            'pkt-srcaddr': from[family],
            'pkt-dstaddr': h[family],
            dstport: port,
          })
          const ssh = family === 'v4' ? 'sgr-ssh' : 'sgr-ssh6'
          assert.deepEqual(causes(records, to(b, 22, o)), [`ACCEPT ${ssh}`], `${family} ssh from o`)
          // Refused: the SYN is rejected. Observe mode lets it through, and b's answer, which b's
          // outbound rules allow, opens the connection the rest of it then belongs to.
          const refused = (port: number, h: Host) =>
            assert.ok(
              causes(records, { ...to(h, port, o), 'tcp-flags': 2 }).includes('REJECT no-matching-rule'),
              `${family} ${port} from o to ${h.name}: ${causes(records, to(h, port, o))}`,
            )
          refused(8080, b)
          refused(80, b)
          refused(8080, c)
          assert.deepEqual(causes(records, to(b, 80, a)), ['ACCEPT sgr-http'], `${family} 80 from a`)
          assert.deepEqual(causes(records, to(b, 80, p)), ['ACCEPT sgr-http'], `${family} 80 from p (routed)`)
          assert.deepEqual(causes(records, to(b, 53, a)), ['ACCEPT sgr-dns'], `${family} dns from a`)
          assert.deepEqual(
            causes(records, { ...to(b, 0, o), protocol: family === 'v4' ? 1 : 58 }),
            [`ACCEPT ${family === 'v4' ? 'sgr-ping' : 'sgr-ping6'}`],
            `${family} echo from o`,
          )
          // a has no inbound rule: b's first echo request is rejected (a's reply, which a's outbound
          // rules allow, then opens the connection the later ones belong to).
          assert.ok(
            causes(records, { ...to(a, 0, b), protocol: family === 'v4' ? 1 : 58 }).includes(
              'REJECT no-matching-rule',
            ),
            `${family} echo from b to a`,
          )
        }
      },
    )

    await t.test(
      'enforce mode: what the groups refuse does not arrive, and every record equals the engine',
      async () => {
        const out = join(dir, 'enforce')
        const configPath = join(dir, 'enforce.yaml')
        writeFileSync(configPath, config(lab, out))
        // Every frame as it enters the host from its sender, before the kernel judges it: what
        // flowlog's own engine judges for the comparison (bridge ports and the routed tap).
        const captures = [...lab.ports, o, p].map((h) => {
          const file = join(dir, `in-${h.name}.pcap`)
          const tcpdump = lab.start(lab.hv, ['tcpdump', '-i', h.device, '-Q', 'in', '-n', '-U', '-w', file])
          started.push(tcpdump)
          return { file, tcpdump, output: collectOutput(tcpdump) }
        })
        for (const c of captures) {
          await waitFor('tcpdump', () => (c.output.stderr().includes('listening on') ? true : undefined))
        }
        const daemon = startDaemon(lab, configPath, true)
        started.push(daemon.child)
        await daemon.started
        const logs = daemon.logs()
        const layout = (device: string) => logs.find((l) => l.device === device && l.layout !== undefined)
        assert.equal(layout(a.device)?.layout, 'port of bridge br0')
        assert.equal(layout(a.device)?.matchedBy, `mac ${a.mac}, addresses`)
        assert.equal(layout(c.device)?.matchedBy, 'addresses', 'c has no mac in the config')
        assert.equal(layout(c.device)?.level, 'warn', 'a warning says what addresses alone leave unjudged')
        assert.equal(layout(p.device)?.layout, 'routed')
        assert.equal(layout('tap-d')?.layout, 'absent')
        assert.ok(logs.some((l) => String(l.msg).startsWith('bridged frames pass the inet hooks')))
        assert.deepEqual(sysctls(), ['1', '1'], 'flowlog turned br_netfilter on for its namespace')

        const outcomes = traffic(lab)
        await new Promise((r) => setTimeout(r, 500))
        for (const capture of captures) {
          capture.tcpdump.kill('SIGINT')
          await exited(capture.tcpdump)
        }
        daemon.child.kill('SIGTERM')
        assert.equal(await exited(daemon.child), 0, daemon.stderr())
        assert.doesNotMatch(
          lab.run(lab.hv, ['nft', 'list', 'tables']),
          /flowlog/,
          'the table is removed on exit',
        )
        assert.deepEqual(sysctls(), ['0', '0'], 'the sysctls are restored on exit')

        for (const family of ['v4', 'v6'] as const) {
          const is = (what: string, expected: string | boolean) =>
            assert.equal(outcomes[`${what} ${family}`], expected, `${what} ${family}`)
          // Allowed: arrives.
          is('a ping b', true)
          is('o ping b', true)
          is('p ping b', true)
          is('a tcp b:22', 'ok')
          is('o tcp b:22', 'ok')
          is('a tcp b:80', 'ok')
          is('p tcp b:80', 'ok')
          is('a udp b:53', 'ok')
          is('p udp b:53', 'ok')
          is('a tcp c:80', 'ok')
          // Refused: does not arrive.
          is('b ping a', false)
          is('o tcp b:8080', 'timeout')
          is('o tcp b:80', 'timeout')
          is('p tcp b:8080', 'timeout')
          is('o tcp c:8080', 'timeout')
        }

        const kernelRecords = readJsonlRecords(out)
        const merged = join(dir, 'entry.pcap')
        const merge = spawnSync('mergecap', ['-F', 'pcap', '-w', merged, ...captures.map((c) => c.file)], {
          encoding: 'utf8',
        })
        assert.equal(merge.status, 0, merge.stderr)
        const replayOut = join(dir, 'replay')
        const replay = runFlowlog([
          'replay',
          '--config',
          configPath,
          '--out',
          replayOut,
          '--no-progress',
          merged,
        ])
        assert.equal(replay.code, 0, replay.stderr)
        const kernel = flowVerdicts(kernelRecords)
        const engine = flowVerdicts(readJsonlRecords(replayOut))
        assert.ok(Object.keys(kernel).length >= 60, `enough flows to compare (${Object.keys(kernel).length})`)
        assert.deepEqual(kernel, engine)
      },
    )

    await t.test(
      'after a crash the next start cleans up; SIGHUP keeps tracked connections; a new port is enforced',
      async () => {
        const out = join(dir, 'reload')
        const configPath = join(dir, 'reload.yaml')
        writeFileSync(configPath, config(lab, out))
        const before = sysctlStateFiles()
        const crashed = startDaemon(lab, configPath, true)
        started.push(crashed.child)
        await crashed.started
        crashed.child.kill('SIGKILL')
        await exited(crashed.child)
        assert.match(
          lab.run(lab.hv, ['nft', 'list', 'tables']),
          /table inet flowlog/,
          'SIGKILL leaves the table',
        )
        assert.deepEqual(sysctls(), ['1', '1'], 'and the sysctls')
        const stateFiles = sysctlStateFiles().filter((f) => !before.includes(f))
        assert.equal(stateFiles.length, 1, 'the originals are remembered in a state file')

        const daemon = startDaemon(lab, configPath, true)
        started.push(daemon.child)
        await daemon.started
        const messages = daemon.logs().map((l) => String(l.msg))
        assert.ok(messages.some((m) => m.startsWith('restored the bridge sysctls a previous run left set')))
        assert.ok(messages.some((m) => m.startsWith('removed the ruleset a previous run left behind')))

        // A connection the groups allow, held open across a reload that takes its rule away.
        const go = join(dir, 'go')
        const held = lab.start(o.ns, [process.execPath, '-e', HELD_CLIENT_JS, b.v4, '22', go])
        started.push(held)
        const heldOut = collectOutput(held)
        await waitFor('the first echo', () => (heldOut.stdout().includes('first') ? true : undefined))
        writeFileSync(configPath, config(lab, out, { ssh: false }))
        daemon.child.kill('SIGHUP')
        await waitFor('the reload', () =>
          daemon.logs().some((l) => String(l.msg).startsWith('config reloaded')) ? true : undefined,
        )
        writeFileSync(go, '')
        await exited(held)
        assert.match(heldOut.stdout(), /second/, 'the tracked connection kept its state')
        assert.equal(
          probe(lab, o.ns, [`tcp|${b.v4}|22`])[`tcp|${b.v4}|22`],
          'timeout',
          'a new one is refused',
        )

        // A VM starts: its tap joins the bridge; flowlog sees it and enforces its groups.
        const [d] = lab.later as [Host]
        lab.plug(d)
        const server = lab.start(d.ns, [process.execPath, '-e', DUAL_SERVER_JS, '80', '8080'])
        started.push(server)
        const serverOut = collectOutput(server)
        await waitFor('the servers in d', () => (serverOut.stdout().includes('"8080"') ? true : undefined))
        const moved = await waitFor('the new device in the log', () =>
          daemon.logs().find((l) => l.device === d.device && l.layout === 'port of bridge br0'),
        )
        // Between `ip link add` and `ip link set master` the tap may be seen as routed for a moment.
        assert.ok(moved.was === 'absent' || moved.was === 'routed', String(moved.was))
        await waitFor('the ruleset for it', () =>
          daemon.logs().some((l) => l.msg === 'ruleset replaced for the devices as they are now')
            ? true
            : undefined,
        )
        for (const family of ['v4', 'v6'] as const) {
          assert.equal(
            probe(lab, a.ns, [`tcp|${d[family]}|80`])[`tcp|${d[family]}|80`],
            'ok',
            `a to d:80 ${family}`,
          )
          assert.deepEqual(
            Object.values(probe(lab, o.ns, [`tcp|${d[family]}|80`, `tcp|${d[family]}|8080`])),
            ['timeout', 'timeout'],
            `o to d ${family}`,
          )
        }

        daemon.child.kill('SIGTERM')
        assert.equal(await exited(daemon.child), 0, daemon.stderr())
        assert.doesNotMatch(lab.run(lab.hv, ['nft', 'list', 'tables']), /flowlog/)
        assert.deepEqual(sysctls(), ['0', '0'])
        assert.ok(!sysctlStateFiles().includes(stateFiles[0] ?? ''), 'the state file is gone')
        const records = readJsonlRecords(out)
        const heldRecords = records.filter(
          (r) => r['interface-id'] === 'eni-b' && r.dstport === 22 && r['pkt-srcaddr'] === o.v4,
        )
        assert.ok(heldRecords.some((r) => r.action === 'ACCEPT' && r['rule-id'] === 'sgr-ssh'))
        assert.ok(heldRecords.some((r) => r.action === 'REJECT'))
        assert.ok(existsSync(out))
      },
    )
  } finally {
    for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    // A daemon killed here leaves its table and sysctls in the lab's namespace, which goes with it;
    // its state file would restore them in a namespace that no longer exists, so it goes too.
    lab.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
})

function sysctlStateFiles(): string[] {
  return existsSync(DEFAULT_STATE_DIR)
    ? readdirSync(DEFAULT_STATE_DIR).filter((f) => f.startsWith('bridge-sysctls-'))
    : []
}

/**
 * Connects to HOST:PORT, sends "first" and waits for its echo, then waits for the file GO to
 * exist before sending "second"; prints each echo it gets, then exits.
 */
const HELD_CLIENT_JS = `
const net = require('node:net'), fs = require('node:fs')
const [host, port, go] = process.argv.slice(1)
const s = net.connect({ host, port: Number(port) })
s.on('connect', () => s.write('first\\n'))
s.on('data', (d) => {
  process.stdout.write(d)
  if (d.toString().includes('second')) s.end()
})
s.on('close', () => process.exit(0))
s.on('error', (e) => { process.stdout.write('error ' + e.code + '\\n'); process.exit(1) })
const wait = setInterval(() => { if (fs.existsSync(go)) { clearInterval(wait); s.write('second\\n') } }, 100)
setTimeout(() => { process.stdout.write('timeout\\n'); process.exit(1) }, 15000)
`
