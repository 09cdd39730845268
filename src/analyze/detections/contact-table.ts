import { type Contact, portLabel } from './finding.js'

/** One source's contacts: all of them and those on each port, each in the order first seen. */
export interface SourceContacts {
  readonly contacts: Contact[]
  /** Port (`tcp/22`, `icmp`) → its contacts, one per host; ports in the order first seen. */
  readonly ports: Map<string, Contact[]>
  /** The same lists by protocol and port number (-1 for a protocol without ports), found without making a label. */
  readonly byNumber: Map<number | null, Map<number, Contact[]>>
}

/**
 * Every request a source made, by target (host and port), shared by the port-scan and sweep
 * detections, which count the same thing two ways: distinct ports per source, distinct hosts per
 * source and port. The contacts come grouped by source, host and port (contact-store.ts), one each,
 * so a source's distinct ports are its port lists and a port's distinct hosts its contacts: nothing
 * is keyed per contact (a busy source has hundreds of thousands).
 */
export class ContactTable {
  /** Source → its contacts; sources in the order first seen. */
  readonly sources = new Map<string, SourceContacts>()

  /** A contact grouped elsewhere (contact-store.ts), the only one of its source, host and port. */
  add(contact: Contact): void {
    const source = contact.source ?? ''
    let of = this.sources.get(source)
    if (of === undefined) {
      of = { contacts: [], ports: new Map(), byNumber: new Map() }
      this.sources.set(source, of)
    }
    of.contacts.push(contact)
    // portLabel's cases: the protocols with ports tell them apart (a missing one is 0).
    const protocol = contact.protocol
    const number = protocol === 6 || protocol === 17 || protocol === 132 ? (contact.dstport ?? 0) : -1
    let numbers = of.byNumber.get(protocol)
    if (numbers === undefined) {
      numbers = new Map()
      of.byNumber.set(protocol, numbers)
    }
    const hosts = numbers.get(number)
    if (hosts !== undefined) {
      hosts.push(contact)
      return
    }
    const list = [contact]
    numbers.set(number, list)
    of.ports.set(portLabel(protocol, contact.dstport), list)
  }
}
