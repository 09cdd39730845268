import type { Flow } from '../flow.js'
import type { NamedRule } from './rule-namer.js'

/** What `flowlog detect` reports: who, what was seen, and what to do about it. */

export type DetectionName =
  | 'port-scan'
  | 'ssh-brute-force'
  | 'rdp-brute-force'
  | 'sweep'
  | 'reject-burst'
  | 'egress-volume'

export const DETECTION_NAMES: readonly DetectionName[] = [
  'port-scan',
  'ssh-brute-force',
  'rdp-brute-force',
  'sweep',
  'reject-burst',
  'egress-volume',
]

export type Severity = 'low' | 'medium' | 'high'

/** One record shown as evidence, in the words of the flow log. */
export interface SampleRecord {
  start: number | null
  interfaceId: string | null
  srcaddr: string | null
  srcport: number | null
  dstaddr: string | null
  dstport: number | null
  protocol: number | null
  packets: number
  bytes: number
  action: string | null
}

export interface Evidence {
  /** Time span of the evidence, unix seconds. */
  first: number
  last: number
  records: number
  packets: number
  bytes: number
  /** Named counts, e.g. { ports: 40, hosts: 1, attempts: 25, rejectedShare: 0.98 }. */
  counts: Record<string, number>
  /** The ports, hosts or peers involved (the first ones when there are many). */
  ports?: string[]
  hosts?: string[]
  samples: SampleRecord[]
}

export interface Suggestion {
  /** security-group: change a rule; nacl: an AWS network ACL deny entry; nftables: a host firewall line. */
  kind: 'security-group' | 'nacl' | 'nftables'
  text: string
}

export interface Finding {
  detection: DetectionName
  severity: Severity
  /** The suspicious source address (or, for egress volume, the sending host). */
  source: string
  /** One line that says what was seen. */
  summary: string
  evidence: Evidence
  suggestions: Suggestion[]
}

/**
 * A detection judged record by record: fed the records it counts, in read order, then asked for
 * its findings.
 */
export interface Detector {
  readonly name: DetectionName | 'brute-force'
  observe(flow: Flow): void
  finish(): Finding[]
}

export function sampleOf(flow: Flow): SampleRecord {
  return {
    start: flow.start,
    interfaceId: flow.interfaceId,
    srcaddr: flow.srcaddr,
    srcport: flow.srcport,
    dstaddr: flow.dstaddr,
    dstport: flow.dstport,
    protocol: flow.protocol,
    packets: flow.packets,
    bytes: flow.bytes,
    action: flow.action,
  }
}

/**
 * One source's dealings with one target (a host and port, a connection attempt, ...): the unit a
 * detection counts. Kept lean (no per-contact objects beyond itself), since every client of a busy
 * service makes one. Its sample is its earliest record, field for field: records arrive in file
 * order, not time order, so the one seen first is not always the earliest, and a sample mixing the
 * earliest time with another record's ports would show a record that does not exist.
 */
export class Contact {
  first: number
  last: number
  records = 0
  packets = 0
  bytes = 0
  rejected = false
  accepted = false
  readonly source: string | null
  readonly host: string | null
  readonly protocol: number | null
  readonly dstport: number | null
  /** The earliest record's own fields (its start is `first`). */
  interfaceId: string | null
  srcport: number | null
  firstPackets: number
  firstBytes: number
  firstAction: string | null
  /** The rule that accepted its first accepted record, when something names it. */
  rule: NamedRule | null = null

  constructor(flow: Flow) {
    this.first = flow.start ?? 0
    this.last = flow.end ?? this.first
    this.source = flow.srcaddr
    this.host = flow.dstaddr
    this.interfaceId = flow.interfaceId
    this.protocol = flow.protocol
    this.srcport = flow.srcport
    this.dstport = flow.dstport
    this.firstPackets = flow.packets
    this.firstBytes = flow.bytes
    this.firstAction = flow.action
  }

  add(flow: Flow): void {
    const start = flow.start ?? 0
    if (start < this.first) {
      this.first = start
      this.interfaceId = flow.interfaceId
      this.srcport = flow.srcport
      this.firstPackets = flow.packets
      this.firstBytes = flow.bytes
      this.firstAction = flow.action
    }
    const end = flow.end ?? start
    if (end > this.last) this.last = end
    this.records++
    this.packets += flow.packets
    this.bytes += flow.bytes
    if (flow.action === 'REJECT') this.rejected = true
    else if (flow.action === 'ACCEPT') this.accepted = true
  }

  /** Its earliest record, as evidence. */
  get sample(): SampleRecord {
    return {
      start: this.first,
      interfaceId: this.interfaceId,
      srcaddr: this.source,
      srcport: this.srcport,
      dstaddr: this.host,
      dstport: this.dstport,
      protocol: this.protocol,
      packets: this.firstPackets,
      bytes: this.firstBytes,
      action: this.firstAction,
    }
  }
}

/** Running totals of the records behind a finding. */
export class Tally {
  first = Number.POSITIVE_INFINITY
  last = Number.NEGATIVE_INFINITY
  records = 0
  packets = 0
  bytes = 0
  rejectedRecords = 0
  readonly samples: SampleRecord[] = []

  constructor(private readonly maxSamples: number) {}

  add(flow: Flow): void {
    const start = flow.start ?? 0
    if (start < this.first) this.first = start
    const end = flow.end ?? start
    if (end > this.last) this.last = end
    this.records++
    this.packets += flow.packets
    this.bytes += flow.bytes
    if (flow.action === 'REJECT') this.rejectedRecords++
    if (this.samples.length < this.maxSamples) this.samples.push(sampleOf(flow))
  }

  addContact(contact: Contact): void {
    this.first = Math.min(this.first, contact.first)
    this.last = Math.max(this.last, contact.last)
    this.records += contact.records
    this.packets += contact.packets
    this.bytes += contact.bytes
    if (contact.rejected) this.rejectedRecords++
    if (this.samples.length < this.maxSamples) this.samples.push(contact.sample)
  }

  merge(other: Tally): void {
    this.first = Math.min(this.first, other.first)
    this.last = Math.max(this.last, other.last)
    this.records += other.records
    this.packets += other.packets
    this.bytes += other.bytes
    this.rejectedRecords += other.rejectedRecords
    for (const s of other.samples) if (this.samples.length < this.maxSamples) this.samples.push(s)
  }

  evidence(counts: Record<string, number>, lists: { ports?: string[]; hosts?: string[] } = {}): Evidence {
    const samples = [...this.samples].sort((a, b) => (a.start ?? 0) - (b.start ?? 0))
    return {
      first: this.first,
      last: this.last,
      records: this.records,
      packets: this.packets,
      bytes: this.bytes,
      counts,
      ...lists,
      samples,
    }
  }
}

/**
 * A list for display: at most `max` items, then how many were cut (`tcp/1, tcp/2 (+64 more)`), so a
 * shortened list never reads as the whole. `total` is the full count when `items` is already cut.
 */
export function listText(items: readonly string[], max: number, total = items.length): string {
  const shown = items.slice(0, max)
  const more = Math.max(0, total - shown.length)
  return more > 0 ? `${shown.join(', ')} (+${more} more)` : shown.join(', ')
}

/** At most `max` items of a list, for evidence that stays readable. */
export function firstOf<T>(items: Iterable<T>, max: number): T[] {
  const out: T[] = []
  for (const item of items) {
    if (out.length >= max) break
    out.push(item)
  }
  return out
}

export const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  1: 'icmp',
  6: 'tcp',
  17: 'udp',
  58: 'icmpv6',
  132: 'sctp',
}

export function protocolName(protocol: number | null): string {
  return protocol === null ? '-' : (PROTOCOL_NAMES[protocol] ?? String(protocol))
}

/** `tcp/22`, `udp/53`, `icmp`. */
export function portLabel(protocol: number | null, port: number | null): string {
  const name = protocolName(protocol)
  return protocol === 6 || protocol === 17 || protocol === 132 ? `${name}/${port ?? 0}` : name
}
