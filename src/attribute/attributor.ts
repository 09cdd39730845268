import { parseAddress, parseMac } from '../core/address.js'
import type { NetworkConfig } from '../core/network.js'
import type { PacketView } from '../core/packet-view.js'
import { AddressIndex } from './address-index.js'

/** Which configured interfaces a packet belongs to. Reused for every packet. */
export interface Attribution {
  /** The interface that sent it (egress record), or -1. */
  egress: number
  /** The interface that receives it (ingress record), or -1. */
  ingress: number
  /** A device capture whose interface neither sent nor receives it (direction unknown), or -1. */
  unknown: number
}

export function newAttribution(): Attribution {
  return { egress: -1, ingress: -1, unknown: -1 }
}

/**
 * Attributes packets to interfaces (DESIGN 2, issue "Attribution").
 *
 * Whole-network captures attribute by address: the interface owning the source address sends
 * (egress), the one owning the destination receives (ingress). When an address belongs to no
 * interface, the Ethernet address decides instead, so an instance that forwards or NATs traffic
 * is still seen on its own interface.
 *
 * A capture taken on one interface's device (a pcapng interface name or --device equal to its
 * `device`) is attributed to that interface only: egress when it sent the packet, ingress when
 * it is the receiver, and direction unknown when the packet matches none of its addresses or MAC
 * (broadcasts, traffic for other hosts on a shared segment).
 */
export class Attributor {
  private readonly byAddress: AddressIndex
  private readonly byMac: AddressIndex
  private readonly byDevice = new Map<string, number>()
  private readonly macWords = new Uint32Array(4)
  private lastDevice: string | null = null
  private lastDeviceIface = -1

  constructor(network: NetworkConfig) {
    const count = network.interfaces.reduce((n, i) => n + i.addresses.length, 0)
    this.byAddress = new AddressIndex(count)
    this.byMac = new AddressIndex(network.interfaces.length)
    const words = new Uint32Array(4)
    network.interfaces.forEach((iface, index) => {
      for (const address of iface.addresses)
        if (parseAddress(address, words)) this.byAddress.set(words, 0, index)
      if (iface.mac !== null) {
        const mac = parseMac(iface.mac)
        if (mac >= 0) this.byMac.set(this.macKey(mac), 0, index)
      }
      if (iface.device !== null) this.byDevice.set(iface.device, index)
    })
  }

  /** The interface whose `device` is this capture device, or -1. */
  interfaceOfDevice(device: string): number {
    return this.byDevice.get(device) ?? -1
  }

  attribute(view: PacketView, device: string | null, out: Attribution): void {
    out.egress = -1
    out.ingress = -1
    out.unknown = -1
    const onDevice = device === null ? -1 : this.deviceInterface(device)
    const sender = this.owner(view.src, view.srcMac)
    const receiver = this.owner(view.dst, view.dstMac)
    if (onDevice < 0) {
      out.egress = sender
      out.ingress = receiver
    } else if (sender === onDevice) {
      out.egress = onDevice
    } else if (receiver === onDevice) {
      out.ingress = onDevice
    } else {
      out.unknown = onDevice
    }
  }

  private deviceInterface(device: string): number {
    if (device !== this.lastDevice) {
      this.lastDevice = device
      this.lastDeviceIface = this.byDevice.get(device) ?? -1
    }
    return this.lastDeviceIface
  }

  private owner(address: Uint32Array, mac: number): number {
    const byAddress = this.byAddress.get(address, 0)
    if (byAddress >= 0 || mac < 0) return byAddress
    return this.byMac.get(this.macKey(mac), 0)
  }

  private macKey(mac: number): Uint32Array {
    const w = this.macWords
    w[0] = 0xffffffff // never a valid IPv4-mapped or realistic IPv6 prefix in this index
    w[1] = 0
    w[2] = Math.floor(mac / 0x100000000)
    w[3] = mac >>> 0
    return w
  }
}
