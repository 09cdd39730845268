import type { Lab } from './netns.js'
import { labShell } from './netns.js'

/**
 * A host laid out as libvirt, Proxmox and OpenStack's linuxbridge agent lay out VM ports, for live
 * tests of enforce and observe mode (issue 16), IPv4 and IPv6:
 *
 * - the "hypervisor" namespace plays the host's root namespace: a Linux bridge `br0` with the
 *   host's address on it (10.77.2.1, fd77:2::1), forwarding on;
 * - each instance namespace is joined by a veth pair whose host end (`tap-NAME`) is a port of
 *   the bridge, with a fixed MAC (the config's `mac`) and a default route to the bridge's address;
 * - an "outside host" on the same bridge that the config does not know (a router, a physical
 *   machine on the segment);
 * - a routed peer on a tap of its own (no bridge) with an address in another subnet, which the
 *   instances reach through the bridge's address, and which is a configured interface too.
 *
 * Duplicate address detection is off (addresses are usable at once); neighbour discovery works
 * as on any host. The host-side ports have no IPv6 of their own (as libvirt sets them up), so only
 * the instances talk on them.
 */
export interface Host {
  name: string
  ns: string
  /** Host-side device in the hypervisor namespace. */
  device: string
  mac: string
  v4: string
  v6: string
}

export interface BridgedLab extends Lab {
  bridge: string
  bridgeV4: string
  bridgeV6: string
  /** Instances on the bridge, in the order given. */
  ports: Host[]
  /** On the bridge, in no config. */
  outside: Host
  /** On a routed tap, another subnet. */
  routed: Host
  /** Instances planned for later (createBridgedLab's `later`): addresses known, not plugged in yet. */
  later: Host[]
  /** Creates a planned instance and plugs its tap into the bridge (a VM started while flowlog runs). */
  plug(host: Host): void
}

const BRIDGE_V4 = '10.77.2'
const BRIDGE_V6 = 'fd77:2:'
const ROUTED_V4 = '10.77.3'
const ROUTED_V6 = 'fd77:3:'

const mac = (subnet: number, host: number) => `02:77:0${subnet}:00:00:${host.toString(16).padStart(2, '0')}`

export function createBridgedLab(
  tag: string,
  names: readonly string[],
  later: readonly string[] = [],
): BridgedLab {
  const id = `${tag}${process.pid}`
  const { lab: shell, namespaces, ip, sysctl } = labShell(id)
  const hv = shell.hv
  const lab: BridgedLab = {
    ...shell,
    bridge: 'br0',
    bridgeV4: `${BRIDGE_V4}.1`,
    bridgeV6: `${BRIDGE_V6}:1`,
    ports: [],
    outside: { name: 'o', ns: '', device: '', mac: '', v4: '', v6: '' },
    routed: { name: 'p', ns: '', device: '', mac: '', v4: '', v6: '' },
    later: [],
    plug: (h) => {
      onBridge(host(h.name, Number(h.v4.split('.').at(-1)), 2))
    },
  }
  const quiet = ['net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']
  const host = (name: string, hostPart: number, subnet: 2 | 3): Host => {
    const ns = `fl-${id}-${name}`
    const device = `tap-${name}`
    const v4 = `${subnet === 2 ? BRIDGE_V4 : ROUTED_V4}.${hostPart}`
    const v6 = `${subnet === 2 ? BRIDGE_V6 : ROUTED_V6}:${hostPart}`
    ip('netns', 'add', ns)
    namespaces.push(ns)
    sysctl(ns, ...quiet)
    ip('-n', hv, 'link', 'add', device, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
    const hostMac = mac(subnet, hostPart)
    ip('-n', ns, 'link', 'set', 'eth0', 'address', hostMac)
    ip('-n', ns, 'addr', 'add', `${v4}/24`, 'dev', 'eth0')
    ip('-n', ns, 'addr', 'add', `${v6}/64`, 'dev', 'eth0', 'nodad')
    ip('-n', ns, 'link', 'set', 'eth0', 'up')
    ip('-n', ns, 'link', 'set', 'lo', 'up')
    const gateway = subnet === 2 ? [lab.bridgeV4, lab.bridgeV6] : [`${ROUTED_V4}.1`, `${ROUTED_V6}:1`]
    ip('-n', ns, 'route', 'add', 'default', 'via', gateway[0]!)
    ip('-n', ns, '-6', 'route', 'add', 'default', 'via', gateway[1]!)
    return { name, ns, device, mac: hostMac, v4, v6 }
  }
  const onBridge = (h: Host) => {
    sysctl(hv, `net.ipv6.conf.${h.device}.disable_ipv6=1`)
    ip('-n', hv, 'link', 'set', h.device, 'master', lab.bridge)
    ip('-n', hv, 'link', 'set', h.device, 'up')
    return h
  }
  try {
    ip('netns', 'add', hv)
    sysctl(hv, 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', ...quiet)
    ip('-n', hv, 'link', 'set', 'lo', 'up')
    ip('-n', hv, 'link', 'add', lab.bridge, 'type', 'bridge')
    ip('-n', hv, 'addr', 'add', `${lab.bridgeV4}/24`, 'dev', lab.bridge)
    ip('-n', hv, 'addr', 'add', `${lab.bridgeV6}/64`, 'dev', lab.bridge, 'nodad')
    ip('-n', hv, 'link', 'set', lab.bridge, 'up')
    names.forEach((name, i) => {
      lab.ports.push(onBridge(host(name, 10 + i, 2)))
    })
    lab.later = later.map((name, i) => {
      const hostPart = 10 + names.length + i
      return {
        name,
        ns: `fl-${id}-${name}`,
        device: `tap-${name}`,
        mac: mac(2, hostPart),
        v4: `${BRIDGE_V4}.${hostPart}`,
        v6: `${BRIDGE_V6}:${hostPart}`,
      }
    })
    lab.outside = onBridge(host('o', 200, 2))
    lab.routed = host('p', 10, 3)
    ip('-n', hv, 'addr', 'add', `${ROUTED_V4}.1/24`, 'dev', lab.routed.device)
    ip('-n', hv, 'addr', 'add', `${ROUTED_V6}:1/64`, 'dev', lab.routed.device, 'nodad')
    ip('-n', hv, 'link', 'set', lab.routed.device, 'up')
  } catch (error) {
    lab.destroy()
    throw error
  }
  return lab
}

/**
 * A Node program for a host: TCP servers on the given ports (dual stack, counting connections)
 * and, for `udp:PORT`, a UDP echo server on both families, until killed. It prints the counts as
 * one JSON line every 200 ms.
 */
export const DUAL_SERVER_JS = `
const net = require('node:net'), dgram = require('node:dgram')
const counts = {}
for (const arg of process.argv.slice(1)) {
  if (arg.startsWith('udp:')) {
    const s = dgram.createSocket({ type: 'udp6', ipv6Only: false })
    s.on('message', (m, r) => s.send(m, r.port, r.address))
    s.bind(Number(arg.slice(4)), '::')
  } else {
    const port = Number(arg); counts[port] = 0
    net.createServer((c) => { counts[port]++; c.on('data', (d) => c.write(d)); c.on('end', () => c.end()); c.on('error', () => {}) }).listen(port, '::')
  }
}
setInterval(() => process.stdout.write(JSON.stringify(counts) + '\\n'), 200)
`

/**
 * A Node program for a host: each argument is an action "tcp|HOST|PORT" or "udp|HOST|PORT", all
 * run at once, each bounded (1.5 s); prints one JSON object of outcomes by action: "ok",
 * "refused", "timeout" or an error code. TCP connects, sends a line, reads the echo and closes.
 */
export const DUAL_CLIENT_JS = `
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
  const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4')
  const t = setTimeout(() => { s.close(); done('timeout') }, 1500)
  s.on('message', () => { clearTimeout(t); s.close(); done('ok') })
  s.send('ping', port, host)
})
Promise.all(process.argv.slice(1).map(async (a) => {
  const [kind, host, port] = a.split('|')
  return [a, await (kind === 'tcp' ? tcp : udp)(host, Number(port))]
})).then((pairs) => process.stdout.write(JSON.stringify(Object.fromEntries(pairs))))
`

/** Runs DUAL_CLIENT_JS in `ns` with the actions; outcomes by action. */
export function probe(lab: Lab, ns: string, actions: readonly string[]): Record<string, string> {
  return JSON.parse(lab.run(ns, [process.execPath, '-e', DUAL_CLIENT_JS, ...actions])) as Record<
    string,
    string
  >
}

/** Whether `count` pings from `ns` to `address` were answered (ping -6 for IPv6). */
export function pings(lab: Lab, ns: string, address: string, count = 2): boolean {
  try {
    lab.run(ns, [
      'ping',
      ...(address.includes(':') ? ['-6'] : []),
      '-c',
      String(count),
      '-i',
      '0.2',
      '-W',
      '1',
      address,
    ])
    return true
  } catch {
    return false
  }
}
