import { closestName } from '../config/closest-name.js'
import { InputError } from '../core/errors.js'
import { KNOWN_FIELDS, NHN_TO_AWS } from '../read/flow-row.js'

/**
 * Field names as users type them, resolved to FlowRow names. Case, hyphens and underscores do not
 * matter, so AWS's `log-status`, Athena's `log_status`, CloudWatch Insights' `logStatus` and NHN's
 * `status` all name one field; NHN names (`src_addr`, `filter`, `timestamp_start`) mean their AWS
 * fields. A few short names are "either side" pseudo-fields: `addr` (srcaddr or dstaddr), `port`
 * (srcport or dstport), and `time` (the record's span, start..end).
 */
export type PseudoField = 'addr' | 'port' | 'time'

export interface ResolvedField {
  /** The FlowRow fields the name stands for: one, or two for addr/port, start and end for time. */
  fields: readonly string[]
  pseudo: PseudoField | null
  /** The name as the user wrote it, for messages. */
  written: string
}

const squash = (name: string) => name.toLowerCase().replace(/[-_]/g, '')

const ALIASES: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>()
  for (const field of KNOWN_FIELDS.keys()) map.set(squash(field), field)
  for (const [nhn, aws] of NHN_TO_AWS) if (!map.has(squash(nhn))) map.set(squash(nhn), aws[0] ?? nhn)
  // Short names people type (CloudWatch Insights and tcpdump habits).
  for (const [alias, field] of [
    ['direction', 'flow-direction'],
    ['proto', 'protocol'],
    ['eni', 'interface-id'],
    ['interface', 'interface-id'],
    ['instance', 'instance-id'],
    ['status', 'log-status'],
    ['flags', 'tcp-flags'],
    ['src', 'srcaddr'],
    ['dst', 'dstaddr'],
    ['sport', 'srcport'],
    ['dport', 'dstport'],
    ['account', 'account-id'],
    ['vpc', 'vpc-id'],
    ['subnet', 'subnet-id'],
    ['communityid', 'community-id'],
    ['communityidelastic', 'community-id-elastic'],
  ] as const) {
    map.set(alias, field)
  }
  return map
})()

const PSEUDO: ReadonlyMap<string, { pseudo: PseudoField; fields: readonly string[] }> = new Map([
  ['addr', { pseudo: 'addr', fields: ['srcaddr', 'dstaddr'] }],
  ['host', { pseudo: 'addr', fields: ['srcaddr', 'dstaddr'] }],
  ['ip', { pseudo: 'addr', fields: ['srcaddr', 'dstaddr'] }],
  ['port', { pseudo: 'port', fields: ['srcport', 'dstport'] }],
  ['time', { pseudo: 'time', fields: ['start', 'end'] }],
])

/** The FlowRow field a name means, or null. */
export function fieldNamed(name: string): string | null {
  return ALIASES.get(squash(name)) ?? null
}

/** Resolves a name typed in a filter; an unknown name is bad input, with the nearest known name. */
export function resolveField(name: string, where: string): ResolvedField {
  const key = squash(name)
  const pseudo = PSEUDO.get(key)
  if (pseudo !== undefined) return { ...pseudo, written: name }
  const field = ALIASES.get(key)
  if (field !== undefined) return { fields: [field], pseudo: null, written: name }
  const near = closestName(name, [...KNOWN_FIELDS.keys(), ...PSEUDO.keys()])
  throw new InputError(
    `${where}: "${name}" is not a flow-log field${near === null ? '' : ` (did you mean "${near}"?)`}; ` +
      'fields are AWS names (srcaddr, dstport, action, log-status, ...), NHN names, or addr, port, time',
  )
}
