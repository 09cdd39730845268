import { type Contact, portLabel } from './finding.js'

/**
 * Every request a source made, by target (host and port), shared by the port-scan and sweep
 * detections, which count the same thing two ways: distinct ports per source, distinct hosts per
 * source and port. One flat map and two counters instead of a map per source: a busy service has a
 * source per client, and each costs a few hundred bytes this way.
 */
export class ContactTable {
  /** `source \t host \t port` → the contact. */
  readonly contacts = new Map<string, Contact>()
  /** `source \t port` → distinct hosts. */
  readonly hostsPerPort = new Map<string, number>()
  /** source → distinct ports. */
  readonly portsPerSource = new Map<string, number>()

  /** A contact grouped elsewhere (contact-store.ts), taken as it is. */
  add(contact: Contact): void {
    const source = contact.source ?? ''
    const port = portLabel(contact.protocol, contact.dstport)
    const key = `${source}\t${contact.host ?? ''}\t${port}`
    if (this.contacts.has(key)) return
    this.contacts.set(key, contact)
    const pair = `${source}\t${port}`
    const hosts = this.hostsPerPort.get(pair) ?? 0
    this.hostsPerPort.set(pair, hosts + 1)
    if (hosts === 0) this.portsPerSource.set(source, (this.portsPerSource.get(source) ?? 0) + 1)
  }

  /** The contacts of the sources (or source-port pairs) a detection asks for, by that key. */
  select(keyOf: (source: string, port: string) => string | null): Map<string, Contact[]> {
    const out = new Map<string, Contact[]>()
    for (const [key, contact] of this.contacts) {
      const [source = '', , port = ''] = key.split('\t')
      const group = keyOf(source, port)
      if (group === null) continue
      const list = out.get(group)
      if (list === undefined) out.set(group, [contact])
      else list.push(contact)
    }
    return out
  }
}
