import { execFileSync, spawnSync } from 'node:child_process'
import { createLab, type Lab } from './netns.js'

/**
 * Hosts of a fleet for end-to-end tests (docs/fleet.md): one namespace lab per host (its own
 * "hypervisor" namespace, devices and instances, test/support/netns.ts), instances of all hosts in
 * one VPC subnet with distinct addresses, and a management network: a namespace with a bridge
 * that every host's hypervisor namespace joins by a veth (`mgmt0`, 10.78.0.<10+k>). etcd runs
 * in the management namespace on 10.78.0.1 (EtcdTestCluster's netns option). Each host routes the
 * other hosts' instance addresses over the management network, so an instance can reach another
 * host's instance as in a VPC spanning hypervisors. Everything is in namespaces the lab creates.
 */
export interface FleetHost {
  name: string
  lab: Lab
  /** The hypervisor namespace's address on the management network. */
  mgmtAddress: string
}

export interface FleetLab {
  hosts: FleetHost[]
  /** The management namespace (etcd runs there). */
  mgmt: string
  /** etcd's address in the management namespace. */
  etcdAddress: string
  destroy(): void
}

const MGMT = '10.78.0'

/** `hosts`: per host its name and its instances' names; host k's instances get 10.77.1.<10+20k…>. */
export function createFleetLab(
  tag: string,
  hosts: ReadonlyArray<{ name: string; instances: readonly string[] }>,
): FleetLab {
  const id = `${tag}${process.pid}`
  const mgmt = `fl-${id}-mg`
  const labs: Lab[] = []
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const fleet: FleetLab = {
    hosts: [],
    mgmt,
    etcdAddress: `${MGMT}.1`,
    destroy() {
      for (const lab of labs) lab.destroy()
      spawnSync('ip', ['netns', 'del', mgmt], { stdio: 'ignore' })
    },
  }
  try {
    ip('netns', 'add', mgmt)
    ip('-n', mgmt, 'link', 'set', 'lo', 'up')
    ip('-n', mgmt, 'link', 'add', 'br0', 'type', 'bridge')
    ip('-n', mgmt, 'addr', 'add', `${MGMT}.1/24`, 'dev', 'br0')
    ip('-n', mgmt, 'link', 'set', 'br0', 'up')
    hosts.forEach((host, k) => {
      const lab = createLab(`${tag}${host.name}`, host.instances, { firstAddress: 10 + 20 * k })
      labs.push(lab)
      const mgmtAddress = `${MGMT}.${10 + k}`
      const port = `mg${k}`
      ip('-n', mgmt, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'mgmt0', 'netns', lab.hv)
      ip('-n', mgmt, 'link', 'set', port, 'master', 'br0')
      ip('-n', mgmt, 'link', 'set', port, 'up')
      ip('-n', lab.hv, 'addr', 'add', `${mgmtAddress}/24`, 'dev', 'mgmt0')
      ip('-n', lab.hv, 'link', 'set', 'mgmt0', 'up')
      fleet.hosts.push({ name: host.name, lab, mgmtAddress })
    })
    // Each host reaches the others' instances through their hypervisors.
    for (const host of fleet.hosts) {
      for (const other of fleet.hosts) {
        if (other === host) continue
        for (const instance of other.lab.instances) {
          ip('-n', host.lab.hv, 'route', 'add', `${instance.address}/32`, 'via', other.mgmtAddress)
        }
      }
    }
  } catch (error) {
    fleet.destroy()
    throw error
  }
  return fleet
}
