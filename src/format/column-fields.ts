import { DIRECTION_NAMES, LOG_STATUS_NAMES, REJECT_REASON_NAMES } from '../core/verdict.js'
import type { FieldValue, FileScope } from './field-values.js'
import type { InterfaceEntry } from './interface-directory.js'

/**
 * How the column encoder reads each field from a RecordBatch: the column twin of field-values.ts,
 * which stays the definition (docs/formats.md documents it; JSONL's objects and Parquet use it).
 * A field has a kind the encoder's switch knows and, for values that are strings, a table spelled
 * once per file. A field missing here (a newly added one) is read through field-values.ts on a
 * FlowRecord built for that record, so it is always right, only slower; column-encoder.test.ts
 * compares both paths on every field of both tables.
 */
export const KIND = {
  // Written value by value (the separator first): addresses, numbers, and the fallback.
  SRC_ADDR: 0,
  DST_ADDR: 1,
  PKT_SRC_ADDR: 2,
  PKT_DST_ADDR: 3,
  SRC_PORT: 4,
  DST_PORT: 5,
  PROTOCOL: 6,
  AWS_TCP_FLAGS: 7,
  NHN_TCP_FLAGS: 8,
  PACKETS: 9,
  BYTES: 10,
  SKIPPED_PACKETS: 11,
  SKIPPED_BYTES: 12,
  START: 13,
  END: 14,
  START_MS: 15,
  END_MS: 16,
  /** Through field-values.ts on a FlowRecord. */
  FALLBACK: 17,
  // Chosen from a table spelled once per file, the separator included.
  /** table[0] on every record. */
  CONSTANT: 18,
  /** table[interface], with one more entry (not applicable) for an unknown interface index. */
  PER_INTERFACE: 19,
  /** table[0] IPv4, table[1] IPv6. */
  IP_TYPE: 20,
  /** table[0] accept, table[1] reject. */
  ACTION: 21,
  /** table[status]. */
  LOG_STATUS: 22,
  /** table[direction]. */
  DIRECTION: 23,
  /** table[cause]: the accepting rule's id. */
  RULE_ID: 24,
  /** table[-cause - 1]: the reject reason. */
  REJECT_DETAIL: 25,
  /** table[0] when the egress destination is inside the interface's VPC. */
  AWS_TRAFFIC_PATH: 26,
  /** table[0] when the peer (egress: destination, ingress: source) is inside the interface's VPC. */
  NHN_TRAFFIC_PATH: 27,
} as const

export interface ColumnField {
  kind: number
  /** The strings and numbers the kind chooses from, before the format spells them. */
  table?: (scope: FileScope, ruleIds: readonly string[]) => readonly FieldValue[]
}

const plain = (kind: number): ColumnField => ({ kind })
const constant = (value: (scope: FileScope) => FieldValue): ColumnField => ({
  kind: KIND.CONSTANT,
  table: (scope) => [value(scope)],
})
const perInterface = (value: (entry: InterfaceEntry) => FieldValue): ColumnField => ({
  kind: KIND.PER_INTERFACE,
  table: (scope) => scope.directory.interfaces.map(value),
})
const withTable = (kind: number, values: readonly FieldValue[]): ColumnField => ({
  kind,
  table: () => values,
})

const interfaceId = perInterface((e) => e.id)
const vpcId = perInterface((e) => e.vpc)
const subnetId = perInterface((e) => e.subnet)
const instanceId = perInterface((e) => e.instance)
const notApplicable = constant(() => null)

const EXTRAS: Record<string, ColumnField> = {
  'rule-id': { kind: KIND.RULE_ID, table: (_, ruleIds) => ruleIds },
  'reject-reason-detail': withTable(KIND.REJECT_DETAIL, REJECT_REASON_NAMES),
  'start-ms': plain(KIND.START_MS),
  'end-ms': plain(KIND.END_MS),
  'skipped-packets': plain(KIND.SKIPPED_PACKETS),
  'skipped-bytes': plain(KIND.SKIPPED_BYTES),
}

/** The fields of AWS_FIELD_VALUES the encoder reads from the columns. */
export const AWS_COLUMN_FIELDS: ReadonlyMap<string, ColumnField> = new Map(
  Object.entries({
    version: constant((s) => s.version),
    'account-id': constant((s) => s.account),
    'interface-id': interfaceId,
    srcaddr: plain(KIND.SRC_ADDR),
    dstaddr: plain(KIND.DST_ADDR),
    srcport: plain(KIND.SRC_PORT),
    dstport: plain(KIND.DST_PORT),
    protocol: plain(KIND.PROTOCOL),
    packets: plain(KIND.PACKETS),
    bytes: plain(KIND.BYTES),
    start: plain(KIND.START),
    end: plain(KIND.END),
    action: withTable(KIND.ACTION, ['ACCEPT', 'REJECT']),
    'log-status': withTable(KIND.LOG_STATUS, LOG_STATUS_NAMES),
    'vpc-id': vpcId,
    'subnet-id': subnetId,
    'instance-id': instanceId,
    'tcp-flags': plain(KIND.AWS_TCP_FLAGS),
    type: withTable(KIND.IP_TYPE, ['IPv4', 'IPv6']),
    'pkt-srcaddr': plain(KIND.PKT_SRC_ADDR),
    'pkt-dstaddr': plain(KIND.PKT_DST_ADDR),
    region: constant((s) => s.region),
    'az-id': perInterface((e) => e.az),
    'sublocation-type': notApplicable,
    'sublocation-id': notApplicable,
    'pkt-src-aws-service': notApplicable,
    'pkt-dst-aws-service': notApplicable,
    // AWS has no third direction: unknown is `-`.
    'flow-direction': withTable(KIND.DIRECTION, [DIRECTION_NAMES[0], DIRECTION_NAMES[1], null]),
    'traffic-path': withTable(KIND.AWS_TRAFFIC_PATH, [1]),
    'reject-reason': notApplicable,
    ...EXTRAS,
  }),
)

/** The fields of NHN_FIELD_VALUES the encoder reads from the columns. */
export const NHN_COLUMN_FIELDS: ReadonlyMap<string, ColumnField> = new Map(
  Object.entries({
    timestamp_start: plain(KIND.START),
    timestamp_end: plain(KIND.END),
    interface_id: interfaceId,
    owner_type: perInterface((e) => (e.instance == null ? null : 'instance')),
    owner_id: instanceId,
    vm_id: instanceId,
    subnet_id: subnetId,
    vpc_id: vpcId,
    region: constant((s) => s.regionUpper),
    protocol: plain(KIND.PROTOCOL),
    src_addr: plain(KIND.PKT_SRC_ADDR),
    dst_addr: plain(KIND.PKT_DST_ADDR),
    src_port: plain(KIND.SRC_PORT),
    dst_port: plain(KIND.DST_PORT),
    tcp_flag: plain(KIND.NHN_TCP_FLAGS),
    packets: plain(KIND.PACKETS),
    bytes: plain(KIND.BYTES),
    direction: withTable(KIND.DIRECTION, DIRECTION_NAMES),
    filter: withTable(KIND.ACTION, ['ACCEPT', 'DROP']),
    transithub_drop_no_route_packets: constant(() => -1),
    transithub_drop_no_route_bytes: constant(() => -1),
    transithub_drop_black_hole_packets: constant(() => -1),
    transithub_drop_black_hole_bytes: constant(() => -1),
    status: withTable(KIND.LOG_STATUS, LOG_STATUS_NAMES),
    traffic_path: withTable(KIND.NHN_TRAFFIC_PATH, [1]),
    ...EXTRAS,
  }),
)
