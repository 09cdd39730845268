import { FIELD_CATALOGUE } from '../config/fields.js'

/**
 * One flow-log record as the analysis side sees it, whatever file it came from.
 *
 * Keys are AWS field names, hyphenated as in AWS's `${field}` formats (`srcaddr`, `dstport`,
 * `log-status`, `interface-id`, `flow-direction`, `tcp-flags`, `start`, `end`, `action`, ...), plus
 * flowlog's extras (`rule-id`, `reject-reason-detail`, `start-ms`, ...) and `community-id` when asked
 * for. A row holds only the fields its file has (a custom format with 6 fields gives 6 keys; NHN rows
 * have no `version` or `account-id`). Values: numbers for numeric fields, strings otherwise, and null
 * where the file says "not applicable" (`-` in text, an empty cell in CSV, null in JSON).
 *
 * NHN rows use the AWS names too (see NHN_TO_AWS): `filter` DROP becomes `action` REJECT,
 * `src_addr` becomes `srcaddr` (and `pkt-srcaddr`, since NHN shows the packet's addresses),
 * `timestamp_start` becomes `start`, `status` becomes `log-status`, and so on.
 */
export type FlowValue = string | number | null
export type FlowRow = Record<string, FlowValue>

/** What a field's values are: numbers or strings. */
export type ValueKind = 'number' | 'string'

/**
 * AWS fields flowlog does not write but real AWS files may hold (versions 6-11, reference 2.2).
 * The reader knows them so that their numbers come out as numbers and their names are not typos.
 */
const LATER_AWS_FIELDS: readonly (readonly [string, ValueKind])[] = [
  ['tgw-id', 'string'],
  ['tgw-attachment-id', 'string'],
  ['tgw-src-vpc-account-id', 'string'],
  ['tgw-dst-vpc-account-id', 'string'],
  ['tgw-src-vpc-id', 'string'],
  ['tgw-dst-vpc-id', 'string'],
  ['tgw-src-subnet-id', 'string'],
  ['tgw-dst-subnet-id', 'string'],
  ['tgw-src-eni', 'string'],
  ['tgw-dst-eni', 'string'],
  ['tgw-src-az-id', 'string'],
  ['tgw-dst-az-id', 'string'],
  ['tgw-pair-attachment-id', 'string'],
  ['resource-type', 'string'],
  ['packets-lost-no-route', 'number'],
  ['packets-lost-blackhole', 'number'],
  ['packets-lost-mtu-exceeded', 'number'],
  ['packets-lost-ttl-expired', 'number'],
  ['ecs-cluster-arn', 'string'],
  ['ecs-cluster-name', 'string'],
  ['ecs-container-instance-arn', 'string'],
  ['ecs-container-instance-id', 'string'],
  ['ecs-container-id', 'string'],
  ['ecs-second-container-id', 'string'],
  ['ecs-service-name', 'string'],
  ['ecs-task-definition-arn', 'string'],
  ['ecs-task-arn', 'string'],
  ['ecs-task-id', 'string'],
  ['resource-id', 'string'],
  ['encryption-status', 'number'],
  ['instance-tag', 'string'],
  ['instance-tag-2', 'string'],
  ['interface-tag', 'string'],
  ['interface-tag-2', 'string'],
  ['asg-tag', 'string'],
  ['asg-tag-2', 'string'],
  ['interface-type', 'string'],
  ['next-hop-interface-id', 'string'],
  ['next-hop-subnet-id', 'string'],
  ['next-hop-az-id', 'string'],
  ['next-hop-vpc-id', 'string'],
  ['next-hop-interface-type', 'string'],
]

/**
 * NHN field → AWS field of the same meaning. NHN's `src_addr`/`dst_addr` are the packet's
 * addresses, which AWS calls pkt-srcaddr/pkt-dstaddr; they also fill srcaddr/dstaddr so that a
 * filter or report on srcaddr works on NHN files (NHN has no interface view to put there instead).
 * NHN's `tcp_flag` counts ACK (16) where AWS counts only SYN-ACK (18): same bits, wider set.
 */
export const NHN_TO_AWS: ReadonlyMap<string, readonly string[]> = new Map([
  ['timestamp_start', ['start']],
  ['timestamp_end', ['end']],
  ['interface_id', ['interface-id']],
  ['owner_id', ['instance-id']],
  ['vm_id', ['instance-id']],
  ['subnet_id', ['subnet-id']],
  ['vpc_id', ['vpc-id']],
  ['region', ['region']],
  ['protocol', ['protocol']],
  ['src_addr', ['srcaddr', 'pkt-srcaddr']],
  ['dst_addr', ['dstaddr', 'pkt-dstaddr']],
  ['src_port', ['srcport']],
  ['dst_port', ['dstport']],
  ['tcp_flag', ['tcp-flags']],
  ['packets', ['packets']],
  ['bytes', ['bytes']],
  ['direction', ['flow-direction']],
  ['filter', ['action']],
  ['status', ['log-status']],
  ['traffic_path', ['traffic-path']],
])

/** Every field name a FlowRow may carry that the reader knows, with its kind, in AWS table order. */
export const KNOWN_FIELDS: ReadonlyMap<string, ValueKind> = new Map<string, ValueKind>([
  ...FIELD_CATALOGUE.filter((f) => f.family !== 'nhn').map(
    (f) => [f.name, f.type === 'string' ? 'string' : 'number'] as const,
  ),
  ...LATER_AWS_FIELDS,
  ...FIELD_CATALOGUE.filter((f) => f.family === 'nhn' && !NHN_TO_AWS.has(f.name)).map(
    (f) => [f.name, f.type === 'string' ? 'string' : 'number'] as const,
  ),
  ['community-id', 'string'],
  ['community-id-elastic', 'string'],
])

/** The kind of a field's values; unknown fields are strings. */
export function kindOf(field: string): ValueKind {
  return KNOWN_FIELDS.get(field) ?? 'string'
}

/** The Athena column name of a field: hyphens become underscores (reference 8.1). */
export function columnName(field: string): string {
  return field.replaceAll('-', '_')
}
