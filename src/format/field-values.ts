import { communityId } from '../community-id/community-id.js'
import { parseAddress } from '../core/address.js'
import type { FlowRecord } from '../core/flow-record.js'
import { ACTION, DIRECTION, DIRECTION_NAMES, LOG_STATUS, LOG_STATUS_NAMES } from '../core/verdict.js'
import type { InterfaceDirectory, InterfaceEntry } from './interface-directory.js'
import { insideAny } from './interface-directory.js'

/**
 * The value of every field flowlog can write, by field name, format-neutral: a string, a number,
 * or null where the value does not apply (`-` in text, an empty cell in CSV, null in JSON).
 * Formats differ only in how they spell these three cases; docs/formats.md is the user-facing
 * version of this file.
 *
 * Value functions are plain module-level functions (no closures built per file) so a compiled
 * field list is an array the inner loop indexes.
 */
export type FieldValue = string | number | null
export type ValueOf = (record: FlowRecord, scope: FileScope) => FieldValue

/** What the value functions read besides the record: fixed for one file. */
export class FileScope {
  readonly account: string
  readonly region: string
  /** NHN shows regions upper-case (KR1). */
  readonly regionUpper: string
  /** AWS `version`: the highest AWS version among the file's fields. */
  readonly version: number
  readonly directory: InterfaceDirectory
  /** Per VPC: address text → inside the VPC's CIDRs. Addresses repeat a lot within a window. */
  private readonly vpcLocal: Map<string, boolean>[]
  private readonly words = new Uint32Array(4)

  constructor(account: string, region: string, version: number, directory: InterfaceDirectory) {
    this.account = account
    this.region = region
    this.regionUpper = region.toUpperCase()
    this.version = version
    this.directory = directory
    this.vpcLocal = directory.vpcCidrs.map(() => new Map())
  }

  entry(record: FlowRecord): InterfaceEntry | undefined {
    return this.directory.interfaces[record.iface]
  }

  /** True when `address` lies in the CIDRs of the record's interface's VPC. */
  inVpc(record: FlowRecord, address: string): boolean {
    const vpcIndex = this.entry(record)?.vpcIndex ?? -1
    const cache = this.vpcLocal[vpcIndex]
    if (cache === undefined) return false
    let inside = cache.get(address)
    if (inside === undefined) {
      inside =
        parseAddress(address, this.words) && insideAny(this.directory.vpcCidrs[vpcIndex] ?? [], this.words)
      cache.set(address, inside)
    }
    return inside
  }
}

const OK = LOG_STATUS.OK
const NODATA = LOG_STATUS.NODATA

/**
 * Whole seconds, kept inside the window [windowStart, windowEnd): `start` and `end` floor, and a
 * NODATA/SKIPDATA record's end (the window end, exclusive) shows as the window's last second.
 */
export function seconds(time: number, record: FlowRecord): number {
  return Math.min(Math.max(Math.floor(time), record.windowStart), record.windowEnd - 1)
}

/**
 * Whole milliseconds inside the window. The half-microsecond nudge undoes the binary rounding of
 * `seconds + micros / 1e6` (x.123 * 1000 may come out as 122.99999), which would lose a millisecond.
 */
export function milliseconds(time: number, record: FlowRecord): number {
  return Math.min(
    Math.max(Math.floor(time * 1000 + 0.0005), record.windowStart * 1000),
    record.windowEnd * 1000 - 1,
  )
}

// Fields of the interface and the file: present on every record, NODATA and SKIPDATA included.
const version: ValueOf = (_, s) => s.version
const accountId: ValueOf = (_, s) => s.account
const interfaceId: ValueOf = (r, s) => s.entry(r)?.id ?? null
const vpcId: ValueOf = (r, s) => s.entry(r)?.vpc ?? null
const subnetId: ValueOf = (r, s) => s.entry(r)?.subnet ?? null
const instanceId: ValueOf = (r, s) => s.entry(r)?.instance ?? null
const region: ValueOf = (_, s) => s.region
const regionUpper: ValueOf = (_, s) => s.regionUpper
const azId: ValueOf = (r, s) => s.entry(r)?.az ?? null
const start: ValueOf = (r) => seconds(r.start, r)
const end: ValueOf = (r) => seconds(r.end, r)
const startMs: ValueOf = (r) => milliseconds(r.start, r)
const endMs: ValueOf = (r) => milliseconds(r.end, r)
const logStatus: ValueOf = (r) => LOG_STATUS_NAMES[r.status]
const ownerType: ValueOf = (r, s) => (s.entry(r)?.instance == null ? null : 'instance')
const notApplicable: ValueOf = () => null
const minusOne: ValueOf = () => -1

// Flow fields: only OK records describe a flow.
const srcAddr: ValueOf = (r) => (r.status === OK ? r.srcAddr : null)
const dstAddr: ValueOf = (r) => (r.status === OK ? r.dstAddr : null)
const pktSrcAddr: ValueOf = (r) => (r.status === OK ? r.pktSrcAddr : null)
const pktDstAddr: ValueOf = (r) => (r.status === OK ? r.pktDstAddr : null)
const srcPort: ValueOf = (r) => (r.status === OK ? r.srcPort : null)
const dstPort: ValueOf = (r) => (r.status === OK ? r.dstPort : null)
const protocol: ValueOf = (r) => (r.status === OK ? r.protocol : null)
const awsTcpFlags: ValueOf = (r) => (r.status === OK ? r.awsTcpFlags : null)
const nhnTcpFlags: ValueOf = (r) => (r.status === OK ? r.nhnTcpFlags : null)
const type: ValueOf = (r) => (r.status === OK ? (r.ipVersion === 6 ? 'IPv6' : 'IPv4') : null)
const ruleId: ValueOf = (r) => (r.status === OK ? r.ruleId : null)
const rejectReasonDetail: ValueOf = (r) => (r.status === OK ? r.rejectReason : null)
const awsAction: ValueOf = (r) =>
  r.status === OK ? (r.action === ACTION.ACCEPT ? 'ACCEPT' : 'REJECT') : null
const nhnFilter: ValueOf = (r) => (r.status === OK ? (r.action === ACTION.ACCEPT ? 'ACCEPT' : 'DROP') : null)
// AWS has no third direction: an unknown one is "not computable", `-`. NHN names it.
const flowDirection: ValueOf = (r) =>
  r.status === OK && r.direction !== DIRECTION.UNKNOWN ? DIRECTION_NAMES[r.direction] : null
const nhnDirection: ValueOf = (r) => (r.status === OK ? DIRECTION_NAMES[r.direction] : null)

// SKIPDATA carries what it could not track (DESIGN 2); NODATA has nothing to count.
const packets: ValueOf = (r) => (r.status === NODATA ? null : r.packets)
const bytes: ValueOf = (r) => (r.status === NODATA ? null : r.bytes)
// The skipped-* extras count only SKIPDATA's untracked traffic, so a plain sum over them is the total.
const skippedPackets: ValueOf = (r) => (r.status === LOG_STATUS.SKIPDATA ? r.packets : 0)
const skippedBytes: ValueOf = (r) => (r.status === LOG_STATUS.SKIPDATA ? r.bytes : 0)

/**
 * AWS traffic-path is egress-only; flowlog knows no gateways, so it can only tell "1: another
 * resource in the same VPC" (the packet's destination is inside the VPC's CIDRs) and shows `-` for
 * everything else rather than guess a gateway number.
 */
const awsTrafficPath: ValueOf = (r, s) =>
  r.status === OK && r.direction === DIRECTION.EGRESS && s.inVpc(r, r.pktDstAddr) ? 1 : null

/** NHN traffic_path 1 (VPC local) in both directions: the peer, not the interface, decides. */
const nhnTrafficPath: ValueOf = (r, s) => {
  if (r.status !== OK || r.direction === DIRECTION.UNKNOWN) return null
  return s.inVpc(r, r.direction === DIRECTION.EGRESS ? r.pktDstAddr : r.pktSrcAddr) ? 1 : null
}

/**
 * Community ID v1 from the packet's own addresses, so it equals the id Zeek or Suricata give the same
 * connection. ICMP and ICMPv6 records have no type or code (ports 0): no id rather than a wrong one.
 */
const communityIdValue: ValueOf = (r) =>
  r.status === OK && r.protocol !== 1 && r.protocol !== 58
    ? communityId({
        protocol: r.protocol,
        srcAddr: r.pktSrcAddr,
        dstAddr: r.pktDstAddr,
        srcPort: r.srcPort,
        dstPort: r.dstPort,
      })
    : null

/** flowlog's own fields, valid in every format. */
const EXTRAS = {
  'rule-id': ruleId,
  'reject-reason-detail': rejectReasonDetail,
  'start-ms': startMs,
  'end-ms': endMs,
  'skipped-packets': skippedPackets,
  'skipped-bytes': skippedBytes,
  'community-id': communityIdValue,
}

/**
 * flowlog's own fields (valid in every format), by name. Maps, not objects: a field named
 * `constructor` must not find Object.prototype's.
 */
export const EXTRA_FIELD_VALUES: ReadonlyMap<string, ValueOf> = new Map(Object.entries(EXTRAS))

/** AWS fields flowlog can fill (versions 2–5 and 8), plus the extras. */
export const AWS_FIELD_VALUES: ReadonlyMap<string, ValueOf> = new Map(
  Object.entries({
    version,
    'account-id': accountId,
    'interface-id': interfaceId,
    srcaddr: srcAddr,
    dstaddr: dstAddr,
    srcport: srcPort,
    dstport: dstPort,
    protocol,
    packets,
    bytes,
    start,
    end,
    action: awsAction,
    'log-status': logStatus,
    'vpc-id': vpcId,
    'subnet-id': subnetId,
    'instance-id': instanceId,
    'tcp-flags': awsTcpFlags,
    type,
    'pkt-srcaddr': pktSrcAddr,
    'pkt-dstaddr': pktDstAddr,
    region,
    'az-id': azId,
    // No Wavelength, Outposts or Local Zones here.
    'sublocation-type': notApplicable,
    'sublocation-id': notApplicable,
    // flowlog does not carry AWS's ip-ranges.json.
    'pkt-src-aws-service': notApplicable,
    'pkt-dst-aws-service': notApplicable,
    'flow-direction': flowDirection,
    'traffic-path': awsTrafficPath,
    // AWS fills it only for Block Public Access and Encryption Controls rejects, never for security
    // groups; flowlog's own reasons go to reject-reason-detail.
    'reject-reason': notApplicable,
    ...EXTRAS,
  }),
)

/** NHN Cloud fields (reference §5.2), plus the extras. */
export const NHN_FIELD_VALUES: ReadonlyMap<string, ValueOf> = new Map(
  Object.entries({
    timestamp_start: start,
    timestamp_end: end,
    interface_id: interfaceId,
    owner_type: ownerType,
    owner_id: instanceId,
    vm_id: instanceId,
    subnet_id: subnetId,
    vpc_id: vpcId,
    region: regionUpper,
    protocol,
    // NHN rows show the packet's addresses (it has no interface view).
    src_addr: pktSrcAddr,
    dst_addr: pktDstAddr,
    src_port: srcPort,
    dst_port: dstPort,
    tcp_flag: nhnTcpFlags,
    packets,
    bytes,
    direction: nhnDirection,
    filter: nhnFilter,
    // Transit-hub counters: NHN writes -1 for every other owner type.
    transithub_drop_no_route_packets: minusOne,
    transithub_drop_no_route_bytes: minusOne,
    transithub_drop_black_hole_packets: minusOne,
    transithub_drop_black_hole_bytes: minusOne,
    status: logStatus,
    traffic_path: nhnTrafficPath,
    ...EXTRAS,
  }),
)
