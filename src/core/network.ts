/**
 * The validated configuration (DESIGN 4): what the config loader returns and every stage reads.
 * Optional fields are filled with their defaults by the loader, so stages never guess.
 */
export interface NetworkConfig {
  account: string
  region: string
  vpcs: Vpc[]
  securityGroups: SecurityGroup[]
  interfaces: NetworkInterface[]
  flowLogs: FlowLogSpec[]
  /** Bounds of the in-memory tables (SKIPDATA when the flow table is full). */
  limits: Limits
  /**
   * Spool and object-storage settings (config `spoolDir`, `deliveryTimeout`, `s3`). The loader
   * always fills it; configs built in code may leave it out and get the defaults.
   */
  delivery?: DeliverySettings
  /**
   * The host name of the agent that runs this network when it is one of a fleet's
   * (`--datastore etcd://…`): its files' object keys carry it, so two hosts writing the same flow
   * log's window never overwrite each other. Absent on a single host (keys as they always were).
   */
  agentHost?: string
}

/** How finished files reach their destinations (DESIGN 5, 9). */
export interface DeliverySettings {
  /** Local spool directory; null for the default (deliver/default-spool-dir.ts). */
  spoolDir: string | null
  /** Seconds a replay keeps retrying undelivered files before it leaves them in the spool. */
  timeout: number
  s3: S3Settings
}

/** Connection settings of every s3:// destination. Credentials never appear here: the AWS chain. */
export interface S3Settings {
  /** http(s) URL of an S3-compatible store; null: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS. */
  endpoint: string | null
  /** Signing region; null: the AWS chain (AWS_REGION, profile), else us-east-1. */
  region: string | null
  /** Path-style URLs (endpoint/bucket/key), as MinIO and Ceph usually need. */
  forcePathStyle: boolean
}

export interface Limits {
  /** Records one aggregation table may hold across its open windows. */
  flowTableCapacity: number
  /** Connections the connection tracker may hold. */
  connectionTableCapacity: number
}

export interface Vpc {
  id: string
  cidrs: string[]
  subnets: Subnet[]
}

export interface Subnet {
  id: string
  cidrs: string[]
  az: string | null
}

export type Protocol = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'all' | number

export interface SecurityGroupRule {
  /** The rule id; the loader gives rules without one `{group}-in-{n}` / `{group}-out-{n}` (n from 1). */
  id: string
  protocol: Protocol
  /** "22", "80-443"; null for all ports. */
  ports: string | null
  /** ICMP type and code; -1 means any. */
  icmpType: number
  icmpCode: number
  /** An IPv4/IPv6 CIDR or a security-group id (the private addresses of its members). */
  peer: string
  description: string | null
}

export interface SecurityGroup {
  id: string
  vpc: string | null
  description: string | null
  inbound: SecurityGroupRule[]
  outbound: SecurityGroupRule[]
}

export interface NetworkInterface {
  id: string
  instance: string | null
  subnet: string
  /** Lower-case colon form, or null. */
  mac: string | null
  /** IPv4 and IPv6 addresses; the first of each family is that family's primary address. */
  addresses: string[]
  device: string | null
  /**
   * The host the interface is on, in a fleet (`flowlog run --host-name`); absent (or null) for
   * "this host". An agent captures only its own interfaces' devices; the others still resolve
   * group references.
   */
  host?: string | null
  securityGroups: string[]
}

export type TrafficType = 'ALL' | 'ACCEPT' | 'REJECT'
export type FileFormat = 'text' | 'nhn-csv' | 'jsonl' | 'parquet'
export type KeyLayout = 'aws' | 'aws-hive' | 'nhn'

export interface FlowLogSpec {
  id: string
  /** A VPC, subnet or interface id. */
  resource: string
  trafficType: TrafficType
  /** Seconds, 1..900. */
  aggregationInterval: number
  /** Field names in output order, parsed from logFormat (text) or fields (nhn-csv, jsonl). */
  fields: string[]
  fileFormat: FileFormat
  /** file:///dir or s3://bucket/prefix. */
  destination: string
  layout: KeyLayout
  perHourPartition: boolean
  compression: 'gzip' | 'none'
  /** NHN layout: file name template with #{logger_id} #{year} #{month} #{day} #{hour} #{minute} #{second}. */
  fileNameTemplate: string
  /**
   * Traffic between an interface and the cloud's own services (its DNS resolver, instance
   * metadata, time sync, DHCP): `exclude` leaves it out, as AWS's flow logs do (platform-traffic.ts).
   */
  platformTraffic: 'include' | 'exclude'
}
