import { type Contact, portLabel } from './finding.js'

/** One source's contacts: all of them and those on each port, each in the order first seen. */
export interface SourceContacts {
  readonly contacts: Contact[]
  /** Port (`tcp/22`, `icmp`) → its contacts, one per host; ports in the order first seen. */
  readonly ports: Map<string, Contact[]>
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
      of = { contacts: [], ports: new Map() }
      this.sources.set(source, of)
    }
    of.contacts.push(contact)
    const port = portLabel(contact.protocol, contact.dstport)
    const hosts = of.ports.get(port)
    if (hosts === undefined) of.ports.set(port, [contact])
    else hosts.push(contact)
  }
}
