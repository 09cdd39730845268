import type { FileFormat } from '../core/network.js'

/**
 * The flow-log field catalogue: every name a flow log's `logFormat` or `fields` may use.
 * The config loader validates names against it; formats read it to know each field's family,
 * AWS version and Parquet type. Names and meanings follow reference/cloud-flowlog-spec.md 2.2 and 5.2.
 */

/** aws: AWS VPC flow log fields; nhn: NHN Cloud flow log fields; flowlog: our own extras. */
export type FieldFamily = 'aws' | 'nhn' | 'flowlog'

/** Column type in Parquet (and JSON: int32/int64 are numbers, string is a string). */
export type FieldType = 'string' | 'int32' | 'int64'

export interface FieldInfo {
  readonly name: string
  readonly family: FieldFamily
  /** AWS record-format version that introduced the field; null outside the aws family. */
  readonly version: number | null
  readonly type: FieldType
  readonly description: string
}

const aws = (version: number, name: string, type: FieldType, description: string): FieldInfo => ({
  name,
  family: 'aws',
  version,
  type,
  description,
})
const nhn = (name: string, type: FieldType, description: string): FieldInfo => ({
  name,
  family: 'nhn',
  version: null,
  type,
  description,
})
const extra = (name: string, type: FieldType, description: string): FieldInfo => ({
  name,
  family: 'flowlog',
  version: null,
  type,
  description,
})

/** In AWS table order (versions 2-5, then 8), NHN table order, then flowlog's extras. */
export const FIELD_CATALOGUE: readonly FieldInfo[] = [
  aws(2, 'version', 'int32', 'Highest record-format version among the fields of the format'),
  aws(2, 'account-id', 'string', 'Account that owns the interface'),
  aws(2, 'interface-id', 'string', 'Interface id'),
  aws(2, 'srcaddr', 'string', "Source address; the interface's primary address for its own side"),
  aws(2, 'dstaddr', 'string', "Destination address; the interface's primary address for its own side"),
  aws(2, 'srcport', 'int32', 'Source port (0 for port-less protocols)'),
  aws(2, 'dstport', 'int32', 'Destination port (0 for port-less protocols)'),
  aws(2, 'protocol', 'int32', 'IANA protocol number'),
  aws(2, 'packets', 'int64', 'Packets of the record in the window'),
  aws(2, 'bytes', 'int64', 'Bytes (IP total length) of the record in the window'),
  aws(2, 'start', 'int64', 'First packet time in the window, unix seconds'),
  aws(2, 'end', 'int64', 'Last packet time in the window, unix seconds'),
  aws(2, 'action', 'string', 'ACCEPT or REJECT'),
  aws(2, 'log-status', 'string', 'OK, NODATA or SKIPDATA'),
  aws(3, 'vpc-id', 'string', 'VPC of the interface'),
  aws(3, 'subnet-id', 'string', 'Subnet of the interface'),
  aws(3, 'instance-id', 'string', 'Instance of the interface'),
  aws(3, 'tcp-flags', 'int32', 'OR over the window of FIN 1, SYN 2, RST 4, SYN-ACK 18'),
  aws(3, 'type', 'string', 'IPv4 or IPv6'),
  aws(3, 'pkt-srcaddr', 'string', 'Source address of the packet'),
  aws(3, 'pkt-dstaddr', 'string', 'Destination address of the packet'),
  aws(4, 'region', 'string', 'Region of the interface'),
  aws(4, 'az-id', 'string', 'Availability zone of the subnet'),
  aws(4, 'sublocation-type', 'string', 'wavelength, outpost or localzone; - otherwise'),
  aws(4, 'sublocation-id', 'string', 'Sublocation id; - otherwise'),
  aws(5, 'pkt-src-aws-service', 'string', 'AWS service of the packet source address; - otherwise'),
  aws(5, 'pkt-dst-aws-service', 'string', 'AWS service of the packet destination address; - otherwise'),
  aws(5, 'flow-direction', 'string', 'ingress or egress relative to the interface'),
  aws(5, 'traffic-path', 'int32', 'Path of egress traffic (1-8); - for ingress'),
  aws(8, 'reject-reason', 'string', 'BPA or EC for those rejects; - for other records'),

  nhn('timestamp_start', 'int64', 'First time the 5-tuple was seen in the window, unix seconds'),
  nhn('timestamp_end', 'int64', 'Last time the 5-tuple was seen in the window, unix seconds'),
  nhn('interface_id', 'string', 'Interface id'),
  nhn('owner_type', 'string', 'Kind of the interface owner (instance)'),
  nhn('owner_id', 'string', 'Owner (instance) id'),
  nhn('vm_id', 'string', 'Instance id (older name of owner_id)'),
  nhn('subnet_id', 'string', 'Subnet of the interface'),
  nhn('vpc_id', 'string', 'VPC of the interface'),
  nhn('region', 'string', 'Region of the interface'),
  nhn('protocol', 'int32', 'IANA protocol number'),
  nhn('src_addr', 'string', 'Source address'),
  nhn('dst_addr', 'string', 'Destination address'),
  nhn('src_port', 'int32', 'Source port (0 for port-less protocols)'),
  nhn('dst_port', 'int32', 'Destination port (0 for port-less protocols)'),
  nhn('tcp_flag', 'int32', 'OR over SYN/FIN/RST packets of FIN 1, SYN 2, RST 4, ACK 16'),
  nhn('packets', 'int64', 'Packets of the record in the window'),
  nhn('bytes', 'int64', 'Bytes (IP total length) of the record in the window'),
  nhn('direction', 'string', 'ingress, egress or unknown'),
  nhn('filter', 'string', 'ACCEPT or DROP'),
  nhn('transithub_drop_no_route_packets', 'int64', 'Transit hub only; -1 for interfaces'),
  nhn('transithub_drop_no_route_bytes', 'int64', 'Transit hub only; -1 for interfaces'),
  nhn('transithub_drop_black_hole_packets', 'int64', 'Transit hub only; -1 for interfaces'),
  nhn('transithub_drop_black_hole_bytes', 'int64', 'Transit hub only; -1 for interfaces'),
  nhn('status', 'string', 'OK, NODATA or SKIPDATA'),
  nhn('traffic_path', 'int32', 'Path of the traffic (1-7)'),

  extra('rule-id', 'string', 'Id of the security-group rule that accepted the connection; - if rejected'),
  extra(
    'reject-reason-detail',
    'string',
    'Why it was rejected: no-matching-rule or not-established; - if accepted',
  ),
  extra('start-ms', 'int64', 'First packet time in the window, unix milliseconds'),
  extra('end-ms', 'int64', 'Last packet time in the window, unix milliseconds'),
  extra('skipped-packets', 'int64', 'SKIPDATA records: packets that could not be tracked; 0 otherwise'),
  extra('skipped-bytes', 'int64', 'SKIPDATA records: bytes that could not be tracked; 0 otherwise'),
  extra(
    'community-id',
    'string',
    'Community ID v1 of the 5-tuple (packet addresses), as Zeek, Suricata and Elastic write it; - for ICMP and status records',
  ),
]

/** Which families each file format takes (flowlog's extras go everywhere). */
export const FORMAT_FAMILIES: Readonly<Record<FileFormat, readonly FieldFamily[]>> = {
  text: ['aws', 'flowlog'],
  parquet: ['aws', 'flowlog'],
  jsonl: ['aws', 'flowlog'],
  'nhn-csv': ['nhn', 'flowlog'],
}

/** The field of `family` named `name`, if any (region, protocol, packets and bytes are in aws and nhn). */
export function findField(name: string, family: FieldFamily): FieldInfo | undefined {
  return FIELD_CATALOGUE.find((f) => f.name === name && f.family === family)
}

/** The fields a file format accepts, in catalogue order. */
export function fieldsOfFormat(format: FileFormat): readonly FieldInfo[] {
  const families = FORMAT_FAMILIES[format]
  return FIELD_CATALOGUE.filter((f) => families.includes(f.family))
}

/** AWS's own default format (version 2), which `text` and `parquet` flow logs use unless told. */
export const DEFAULT_LOG_FORMAT =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: AWS's own ${field} syntax, not a template
  '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}'

/**
 * NHN's basic set, the default of nhn-csv flow logs: the 18 fields of the project's seed, in its
 * order, with `vm_id` (NHN's API example, reference 5.2, names the instance so) as field 4 and
 * `direction` before `filter`. `owner_type` and `owner_id` (NHN's current names) stay available
 * by name.
 */
export const DEFAULT_NHN_FIELDS: readonly string[] = [
  'timestamp_start',
  'timestamp_end',
  'interface_id',
  'vm_id',
  'subnet_id',
  'vpc_id',
  'region',
  'protocol',
  'src_addr',
  'dst_addr',
  'src_port',
  'dst_port',
  'tcp_flag',
  'packets',
  'bytes',
  'direction',
  'filter',
  'status',
]

/** JSONL default: every AWS field of versions 2-5, then who accepted or why it was rejected. */
export const DEFAULT_JSONL_FIELDS: readonly string[] = [
  ...FIELD_CATALOGUE.filter((f) => f.family === 'aws' && (f.version ?? 0) <= 5).map((f) => f.name),
  'rule-id',
  'reject-reason-detail',
]

/**
 * The value of the AWS `version` field for a format: the highest AWS version among its fields
 * (AWS rule), at least 2. flowlog's extras carry no version.
 */
export function awsVersionOf(fields: readonly string[]): number {
  let version = 2
  for (const name of fields) {
    const v = findField(name, 'aws')?.version ?? 0
    if (v > version) version = v
  }
  return version
}
