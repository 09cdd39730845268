/**
 * Named field lists for header-less AWS text files (`--log-format v5`): AWS's documented orders.
 * `v2` is AWS's default format; each later version adds its fields to the one before, in the order
 * of AWS's field table (reference/cloud-flowlog-spec.md 2.2), which is the order the console lists
 * them in for "all fields of version N". `tgw` is the default format of Transit Gateway flow logs,
 * `ecs` the v5 fields plus the ECS fields of version 7.
 */
const V2 = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
]
const V3 = [...V2, 'vpc-id', 'subnet-id', 'instance-id', 'tcp-flags', 'type', 'pkt-srcaddr', 'pkt-dstaddr']
const V4 = [...V3, 'region', 'az-id', 'sublocation-type', 'sublocation-id']
const V5 = [...V4, 'pkt-src-aws-service', 'pkt-dst-aws-service', 'flow-direction', 'traffic-path']
const ECS = [
  'ecs-cluster-arn',
  'ecs-cluster-name',
  'ecs-container-instance-arn',
  'ecs-container-instance-id',
  'ecs-container-id',
  'ecs-second-container-id',
  'ecs-service-name',
  'ecs-task-definition-arn',
  'ecs-task-arn',
  'ecs-task-id',
]
const TGW = [
  'version',
  'resource-type',
  'account-id',
  'tgw-id',
  'tgw-attachment-id',
  'tgw-src-vpc-account-id',
  'tgw-dst-vpc-account-id',
  'tgw-src-vpc-id',
  'tgw-dst-vpc-id',
  'tgw-src-subnet-id',
  'tgw-dst-subnet-id',
  'tgw-src-eni',
  'tgw-dst-eni',
  'tgw-src-az-id',
  'tgw-dst-az-id',
  'tgw-pair-attachment-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'log-status',
  'type',
  'packets-lost-no-route',
  'packets-lost-blackhole',
  'packets-lost-mtu-exceeded',
  'packets-lost-ttl-expired',
  'tcp-flags',
  'region',
  'flow-direction',
  'pkt-src-aws-service',
  'pkt-dst-aws-service',
]

export const LOG_FORMAT_PRESETS: ReadonlyMap<string, readonly string[]> = new Map([
  ['v2', V2],
  ['v3', V3],
  ['v4', V4],
  ['v5', V5],
  ['v8', [...V5, 'reject-reason']],
  ['ecs', [...V5, ...ECS]],
  ['tgw', TGW],
])

/** The field names of a `--log-format`: a preset's, or the names written (`${a} ${b}`, `a b`, `a,b`). */
export function logFormatNames(format: string): string[] {
  const preset = LOG_FORMAT_PRESETS.get(format.trim().toLowerCase())
  if (preset !== undefined) return [...preset]
  return format
    .replace(/\$\{([^}]*)\}/g, ' $1 ')
    .split(/[\s,]+/)
    .filter((n) => n !== '')
}
