import type { FlowLogSpec, SecurityGroup } from '../core/network.js'

/**
 * The control plane's one resource model (DESIGN 10). Every API (EC2 Query, NHN REST, the
 * console) is a thin adapter onto these types; the store keeps them as JSON; the daemon turns
 * them, together with the topology of the config file, into the NetworkConfig the pipeline runs.
 * AWS semantics win where the clouds differ: ids `fl-…`, `sg-…`, `sgr-…`; a flow log is
 * immutable but for its tags (and NHN's name, description and pause switch).
 */

/** Tags in the order they were set; keys are unique. */
export type Tags = Record<string, string>

export type FlowLogResourceType = 'VPC' | 'Subnet' | 'NetworkInterface'

export interface FlowLogResource {
  /** What the pipeline runs: id, covered resource, traffic type, interval, fields, destination. */
  spec: FlowLogSpec
  resourceType: FlowLogResourceType
  /** The `${field}` text the caller gave (AWS LogFormat), or null when the format's default was taken. */
  logFormat: string | null
  /** NHN's logger name and description (AWS has neither; its console shows the Name tag). */
  name: string | null
  description: string | null
  /** NHN `admin_state_up`: false pauses the flow log (no files) without deleting it. */
  enabled: boolean
  tags: Tags
  /** ISO 8601, UTC, milliseconds. */
  createdAt: string
  updatedAt: string
}

export interface SecurityGroupResource {
  /** What the policy engine runs: id, VPC, description, rules with their `sgr-…` ids. */
  group: SecurityGroup
  /** AWS GroupName: unique within the VPC. */
  name: string
  tags: Tags
}

/**
 * Everything the control plane owns. Topology (account, region, VPCs, subnets, interfaces and
 * their devices and hosts) is not here: it comes from the config file (single host) or from the
 * fleet's topology (etcd), and the daemon joins the two.
 */
export interface ControlState {
  flowLogs: FlowLogResource[]
  securityGroups: SecurityGroupResource[]
  /** Interface id → its security groups, for interfaces whose groups were changed through an API. */
  attachments: Record<string, string[]>
}

/** How a flow log's files are getting to their destination (AWS DeliverLogsStatus). */
export interface DeliveryStatus {
  status: 'SUCCESS' | 'FAILED'
  /** Why delivery fails now (the destination's last error), or null. */
  error: string | null
  /** The last file written, its time (ISO 8601), and files waiting in the spool. */
  lastFile: string | null
  lastFileAt: string | null
  spooled: number
}
