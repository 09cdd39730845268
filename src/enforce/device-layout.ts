import { spawnSync } from 'node:child_process'
import { FlowlogError } from '../core/errors.js'

/**
 * Where an interface's device sits on the host, which decides how the ruleset finds its packets:
 *
 * - `routed`: a device of its own (a tap or veth the kernel routes to, as in OpenStack's routed
 *   networks or Calico); the inet hooks see it by name;
 * - `bridged`: a port of a Linux bridge (libvirt, Proxmox, OpenStack's linuxbridge agent); bridged
 *   frames reach the inet hooks through br_netfilter, named after the bridge, so the ruleset tells
 *   the port apart by the interface's MAC or addresses;
 * - `absent`: not there (yet): rendered as routed, looked at again while the daemon runs;
 * - `unsupported`: enslaved to something netfilter cannot see into (Open vSwitch) or that flowlog
 *   does not handle (a bond); enforce mode refuses it.
 */
export type DeviceLayout =
  | { kind: 'routed' }
  | { kind: 'bridged'; bridge: string }
  | { kind: 'absent' }
  | { kind: 'unsupported'; master: string; masterKind: string }

/** The part of `ip -details -json link show` flowlog reads. */
interface IpLink {
  ifname?: string
  master?: string
  linkinfo?: { info_kind?: string; info_slave_kind?: string }
}

/** The layout of each device, from the links `ip -details -json link show` lists. */
export function layoutsFromLinks(
  links: readonly IpLink[],
  devices: readonly string[],
): Map<string, DeviceLayout> {
  const byName = new Map(links.flatMap((l) => (l.ifname === undefined ? [] : [[l.ifname, l] as const])))
  const kindOf = (name: string) => byName.get(name)?.linkinfo?.info_kind
  const layouts = new Map<string, DeviceLayout>()
  for (const device of devices) {
    const link = byName.get(device)
    let layout: DeviceLayout
    if (link === undefined) layout = { kind: 'absent' }
    else if (link.master === undefined) layout = { kind: 'routed' }
    else {
      const masterKind = link.linkinfo?.info_slave_kind ?? kindOf(link.master) ?? 'unknown'
      // A VRF only scopes routing: the kernel still routes to the device by its own name.
      if (masterKind === 'bridge') layout = { kind: 'bridged', bridge: link.master }
      else if (masterKind === 'vrf') layout = { kind: 'routed' }
      else layout = { kind: 'unsupported', master: link.master, masterKind }
    }
    layouts.set(device, layout)
  }
  return layouts
}

/** The devices' layouts in the network namespace flowlog runs in (netlink, through `ip`). */
export function readDeviceLayouts(devices: readonly string[]): Map<string, DeviceLayout> {
  const result = spawnSync('ip', ['-details', '-json', 'link', 'show'], { encoding: 'utf8', timeout: 10_000 })
  if (result.error !== undefined || result.status !== 0) {
    const reason = result.error?.message ?? result.stderr.trim()
    throw new FlowlogError(
      'ERR_DEVICE_LAYOUT',
      `enforce mode reads the devices' bridge ports with "ip -details -json link show" (iproute2): ${reason}`,
    )
  }
  return layoutsFromLinks(JSON.parse(result.stdout) as IpLink[], devices)
}

/** How a layout reads in the log: "routed", "port of bridge br0", "absent". */
export function describeLayout(layout: DeviceLayout): string {
  switch (layout.kind) {
    case 'routed':
      return 'routed'
    case 'bridged':
      return `port of bridge ${layout.bridge}`
    case 'absent':
      return 'absent'
    case 'unsupported':
      return `port of ${layout.masterKind} ${layout.master}`
  }
}

/** Why a layout cannot be enforced, naming the device and what to do, or null when it can. */
export function unsupportedReason(device: string, layout: DeviceLayout): string | null {
  if (layout.kind !== 'unsupported') return null
  if (layout.masterKind === 'openvswitch') {
    return (
      `${device} is a port of the Open vSwitch bridge ${layout.master}: Open vSwitch switches frames in ` +
      'its own datapath, past netfilter, so nftables cannot enforce security groups there ' +
      '(run observe mode, or enforce with OVS flows such as OpenStack\'s "openvswitch" firewall driver)'
    )
  }
  return (
    `${device} is enslaved to ${layout.masterKind} ${layout.master}: enforce mode handles routed ` +
    'devices and ports of a Linux bridge only'
  )
}
