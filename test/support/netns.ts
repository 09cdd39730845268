import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import type { TestContext } from 'node:test'
import { loadPacketRing, PACKET_RING_INSTALL_HINT } from '../../src/live/packet-ring.js'
import { requireBuilt, requireCommands, requireRoot, STRICT } from './requirements.js'

/**
 * A small virtual network for live tests (DESIGN 7): a "hypervisor" namespace that routes between
 * instance namespaces, each joined to it by a veth pair whose host-side end is the device the
 * config names. Everything lives in namespaces this lab creates, so nothing touches the real host
 * (forwarding, proxy ARP, nftables and NFLOG groups are per namespace), and deleting the
 * namespaces removes every link, route and table. Names carry the pid and a tag, so parallel
 * tests do not clash.
 */
export interface Instance {
  /** Short name in the test ("a", "b", ...). */
  name: string
  ns: string
  /** Host-side device in the hypervisor namespace (the config's `device`). */
  device: string
  address: string
}

export interface Lab {
  hv: string
  instances: Instance[]
  /** Runs a command in a namespace and waits (bounded); returns stdout. Throws on failure. */
  run(ns: string, command: readonly string[], timeoutMs?: number): string
  /** Starts a command in a namespace; it is killed by destroy() if still running. */
  start(ns: string, command: readonly string[], env?: Record<string, string>): ChildProcess
  destroy(): void
}

const SUBNET = '10.77.1'

/**
 * True when live tests can run: root, ip/nft/tcpdump/ping, and the libpcap binding unless
 * `libpcap: false` (the default tcpdump backend does not need it). Otherwise the test skips
 * loudly (or fails under FLOWLOG_TEST_STRICT=1).
 */
export function requireLab(t: TestContext, options: { libpcap?: boolean } = {}): boolean {
  if (!requireRoot(t, 'network namespaces, nftables and packet capture')) return false
  if (
    !requireCommands(
      t,
      'apt-get install iproute2 nftables tcpdump iputils-ping',
      'ip',
      'nft',
      'tcpdump',
      'ping',
    )
  ) {
    return false
  }
  if (options.libpcap === false) return true
  try {
    createRequire(import.meta.url)('cap')
    return true
  } catch {
    const reason =
      'SKIPPED: needs the libpcap binding (install: apt-get install libpcap-dev, then npm rebuild cap)'
    if (STRICT) throw new Error(`${reason}, and FLOWLOG_TEST_STRICT=1 forbids skipping`)
    console.warn(`\n*** ${reason} ***\n`)
    t.skip(reason)
    return false
  }
}

/**
 * True when the af-packet backend's addon is built (npm install builds it on Linux); otherwise
 * skips loudly, or fails under FLOWLOG_TEST_STRICT=1 (CI builds it with npm ci).
 */
export function requirePacketRing(t: TestContext): boolean {
  return requireBuilt(
    t,
    loadPacketRing() !== null,
    'the packet-ring addon of the af-packet backend',
    PACKET_RING_INSTALL_HINT,
  )
}

/** A lab's namespaces and processes, and the commands that build it; destroy() removes them all. */
export function labShell(id: string): {
  lab: Lab
  namespaces: string[]
  ip: (...args: string[]) => void
  sysctl: (ns: string, ...settings: string[]) => void
} {
  const hv = `fl-${id}-hv`
  const children: ChildProcess[] = []
  const namespaces = [hv]
  const ip = (...args: string[]) => {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  }
  const lab: Lab = {
    hv,
    instances: [],
    run(ns, command, timeoutMs = 30_000) {
      const result = spawnSync('ip', ['netns', 'exec', ns, ...command], {
        encoding: 'utf8',
        timeout: timeoutMs,
      })
      if (result.status !== 0) {
        throw new Error(
          `in ${ns}: ${command.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr}`,
        )
      }
      return result.stdout
    },
    start(ns, command, env = {}) {
      const child = spawn('ip', ['netns', 'exec', ns, ...command], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...env },
      })
      children.push(child)
      return child
    },
    destroy() {
      for (const c of children)
        if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) c.kill('SIGKILL')
      for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' })
    },
  }
  const sysctl = (ns: string, ...settings: string[]) => {
    lab.run(ns, ['sysctl', '-qw', ...settings])
  }
  return { lab, namespaces, ip, sysctl }
}

/**
 * `firstAddress` numbers the instances from `10.77.1.<firstAddress>` (default 10): the labs of a
 * fleet test (test/support/fleet-lab.ts) are hosts of one VPC, so their addresses must differ.
 */
export function createLab(
  tag: string,
  names: readonly string[],
  options: { firstAddress?: number } = {},
): Lab {
  const id = `${tag}${process.pid}`
  const { lab, namespaces, ip, sysctl } = labShell(id)
  const hv = lab.hv
  try {
    ip('netns', 'add', hv)
    sysctl(
      hv,
      'net.ipv4.ip_forward=1',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    )
    ip('-n', hv, 'link', 'set', 'lo', 'up')
    names.forEach((name, i) => {
      const ns = `fl-${id}-${name}`
      // Device names are at most 15 characters.
      const device = `f${id}${name}`.slice(0, 15)
      const address = `${SUBNET}.${(options.firstAddress ?? 10) + i}`
      ip('netns', 'add', ns)
      namespaces.push(ns)
      // No IPv6 in the lab: link-local chatter (router solicitations, MLD) would add traffic
      // that belongs to no configured address.
      sysctl(ns, 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1')
      ip('-n', hv, 'link', 'add', device, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
      ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0')
      ip('-n', ns, 'link', 'set', 'eth0', 'up')
      ip('-n', ns, 'link', 'set', 'lo', 'up')
      ip('-n', hv, 'link', 'set', device, 'up')
      // The hypervisor answers ARP for the other instances and routes to each by its device.
      // proxy_delay 0: the kernel otherwise delays proxy ARP answers up to 0.8 s, enough for the
      // first pings of a fresh lab to go unanswered on a busy machine.
      sysctl(hv, `net.ipv4.conf.${device}.proxy_arp=1`, `net.ipv4.neigh.${device}.proxy_delay=0`)
      ip('-n', hv, 'route', 'add', `${address}/32`, 'dev', device)
      lab.instances.push({ name, ns, device, address })
    })
  } catch (error) {
    lab.destroy()
    throw error
  }
  return lab
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown = null
  for (;;) {
    // A check that throws (say, a folder that does not exist yet) means "not yet", until the deadline.
    try {
      const value = check()
      if (value !== undefined) return value
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError })
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Collects a child's stdout as text, for polling its JSON log lines. */
export function collectOutput(child: ChildProcess): { stdout: () => string; stderr: () => string } {
  let out = ''
  let err = ''
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString('utf8')
  })
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString('utf8')
  })
  return { stdout: () => out, stderr: () => err }
}

/** The JSON log lines of a flowlog daemon's stdout. */
export function logLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>]
      } catch {
        return []
      }
    })
}

/**
 * A Node program for an instance: TCP servers (counting connections) and a UDP echo server,
 * until killed. Ports as arguments: tcp ports, then `udp:PORT`.
 */
export const SERVER_JS = `
const net = require('node:net'), dgram = require('node:dgram')
const counts = {}
for (const arg of process.argv.slice(1)) {
  if (arg.startsWith('udp:')) {
    const s = dgram.createSocket('udp4')
    s.on('message', (m, r) => s.send(m, r.port, r.address))
    s.bind(Number(arg.slice(4)))
  } else {
    const port = Number(arg); counts[port] = 0
    net.createServer((c) => { counts[port]++; c.on('data', (d) => c.write(d)); c.on('end', () => c.end()); c.on('error', () => {}) }).listen(port)
  }
}
setInterval(() => process.stdout.write(JSON.stringify(counts) + '\\n'), 200)
`

/**
 * Starts SERVER_JS in `instance` on `ports` (its arguments: tcp ports, then `udp:PORT`) and waits
 * until it reports its TCP ports. The lab kills it with the rest of its processes.
 */
export async function startServer(
  lab: Lab,
  instance: Instance,
  ports: readonly string[],
): Promise<ChildProcess> {
  const server = lab.start(instance.ns, [process.execPath, '-e', SERVER_JS, ...ports])
  const output = collectOutput(server)
  const tcp = ports.filter((p) => !p.startsWith('udp:'))
  await waitFor(`the servers in ${instance.name}`, () =>
    tcp.every((p) => output.stdout().includes(`"${p}"`)) ? true : undefined,
  )
  return server
}

/**
 * A Node program for an instance: each argument is one action, run in order, each bounded in
 * time; prints one JSON object of outcomes. tcp:HOST:PORT connects, sends a line, reads the echo
 * and closes (outcome "ok", "refused" or "timeout"); udp:HOST:PORT sends one datagram and waits
 * for the echo ("ok" or "timeout"); scan:HOST:FROM-TO tries each port once.
 */
export const CLIENT_JS = `
const net = require('node:net'), dgram = require('node:dgram')
const tcp = (host, port) => new Promise((done) => {
  const s = net.connect({ host, port })
  const t = setTimeout(() => { s.destroy(); done('timeout') }, 1500)
  s.on('connect', () => s.write('hello\\n'))
  s.on('data', () => s.end())
  s.on('close', () => { clearTimeout(t); done('ok') })
  s.on('error', (e) => { clearTimeout(t); s.destroy(); done(e.code === 'ECONNREFUSED' ? 'refused' : e.code) })
})
const udp = (host, port) => new Promise((done) => {
  const s = dgram.createSocket('udp4')
  const t = setTimeout(() => { s.close(); done('timeout') }, 1500)
  s.on('message', () => { clearTimeout(t); s.close(); done('ok') })
  s.send('ping', port, host)
})
;(async () => {
  const out = {}
  for (const a of process.argv.slice(1)) {
    const [kind, host, spec] = a.split(':')
    if (kind === 'tcp') out[a] = await tcp(host, Number(spec))
    else if (kind === 'udp') out[a] = await udp(host, Number(spec))
    else if (kind === 'scan') {
      const [from, to] = spec.split('-').map(Number)
      const r = await Promise.all(Array.from({ length: to - from + 1 }, (_, i) => tcp(host, from + i)))
      out[a] = r
    }
  }
  process.stdout.write(JSON.stringify(out))
})()
`

/**
 * The lab's usual probe of a server, by CLIENT_JS from `ns`: TCP to 80 (served), 81 (closed) and 22,
 * a UDP request to 53, then a scan of `scanPorts` ports from 1000. The outcome of each, by action.
 */
export function probeServer(
  lab: Lab,
  ns: string,
  address: string,
  scanPorts: number,
): Record<string, unknown> {
  const actions = [80, 81, 22].map((port) => `tcp:${address}:${port}`)
  actions.push(`udp:${address}:53`, `scan:${address}:1000-${999 + scanPorts}`)
  return JSON.parse(lab.run(ns, [process.execPath, '-e', CLIENT_JS, ...actions])) as Record<string, unknown>
}

/**
 * A lab config: eni-a (client group), eni-b and eni-c (server group), one JSONL flow log, and a
 * spool of its own beside `out` (a daemon resumes what waits in its spool: the user's must not
 * leak into a test, nor a test's into it).
 */
export function labConfig(
  lab: Lab,
  out: string,
  options: { extraInbound?: string; interval?: number } = {},
): string {
  const nic = (i: Instance, groups: string) =>
    `  - { id: eni-${i.name}, instance: i-${i.name}, subnet: subnet-lab, addresses: [${i.address}], device: ${i.device}, securityGroups: [${groups}] }`
  const [a, ...servers] = lab.instances
  return `account: "123456789012"
region: kr1
spoolDir: ${out}-spool
vpcs:
  - id: vpc-lab
    cidrs: [10.77.0.0/16]
    subnets:
      - { id: subnet-lab, cidrs: [${SUBNET}.0/24] }
securityGroups:
  - id: sg-client
    outbound:
      - { id: sgr-client-out, protocol: all, destination: 0.0.0.0/0 }
  - id: sg-server
    inbound:
      - { id: sgr-http, protocol: tcp, ports: "80-81", source: 10.77.0.0/16 }
      - { id: sgr-ping, protocol: icmp, icmpType: 8, source: 10.77.0.0/16 }
      - { id: sgr-dns, protocol: udp, ports: "53", source: sg-client }
${options.extraInbound ?? ''}
    outbound:
      - { id: sgr-server-out, protocol: all, destination: 0.0.0.0/0 }
interfaces:
${[nic(a!, 'sg-client'), ...servers.map((s) => nic(s, 'sg-server'))].join('\n')}
flowLogs:
  - id: fl-lab
    resource: vpc-lab
    aggregationInterval: ${options.interval ?? 2}
    fileFormat: jsonl
    fields: [interface-id, flow-direction, pkt-srcaddr, pkt-dstaddr, srcport, dstport, protocol, packets, bytes, start, end, tcp-flags, action, log-status, rule-id, reject-reason-detail]
    destination: file://${out}
    compression: none
`
}
