import { formatAddress, isV4Mapped } from '../core/address.js'
import type { FlowRecord, RecordBatch } from '../core/flow-record.js'
import type { NetworkConfig } from '../core/network.js'
import {
  type Action,
  DIRECTION,
  type Direction,
  LOG_STATUS,
  type LogStatus,
  REJECT_REASON_NAMES,
} from '../core/verdict.js'
import { type InterfaceEntry, interfaceDirectory } from './interface-directory.js'

/**
 * Turns the aggregator's columnar batch into the records formats see (DESIGN 2).
 *
 * srcAddr/dstAddr are AWS's interface view: the interface's own side shows its primary address of
 * the packet's family (the packet's own address when it has none of that family), so traffic to a
 * secondary address reads as traffic to the primary, as on AWS. pktSrcAddr/pktDstAddr are always the
 * packet's. `ruleIds` is the compiled policy's rule list that `cause` indexes.
 *
 * NODATA and SKIPDATA records span the whole window (start = windowStart, end = windowEnd); a
 * SKIPDATA record keeps the packets and bytes of the traffic that could not be tracked.
 */
export function expandBatch(
  batch: RecordBatch,
  network: NetworkConfig,
  ruleIds: readonly string[],
): FlowRecord[] {
  const { interfaces } = interfaceDirectory(network)
  const records = new Array<FlowRecord>(batch.count)
  const names = new AddressNames()
  for (let i = 0; i < batch.count; i++) records[i] = recordAt(batch, i, interfaces, ruleIds, names)
  return records
}

/** Record `i` of the batch, as `expandBatch` makes it (the column encoder's fallback for a field it cannot read). */
export function recordAt(
  batch: RecordBatch,
  i: number,
  interfaces: readonly InterfaceEntry[],
  ruleIds: readonly string[],
  names: AddressNames,
): FlowRecord {
  const { windowStart, windowEnd } = batch
  const iface = batch.iface[i] ?? 0
  const status = (batch.status[i] ?? 0) as LogStatus
  const direction = (batch.direction[i] ?? 0) as Direction
  const cause = batch.cause[i] ?? 0
  const o = 4 * i
  if (status !== LOG_STATUS.OK) {
    return {
      status,
      iface,
      windowStart,
      windowEnd,
      direction,
      action: (batch.action[i] ?? 0) as Action,
      protocol: 0,
      ipVersion: 4,
      srcAddr: '',
      dstAddr: '',
      pktSrcAddr: '',
      pktDstAddr: '',
      srcPort: 0,
      dstPort: 0,
      packets: status === LOG_STATUS.SKIPDATA ? (batch.packets[i] ?? 0) : 0,
      bytes: status === LOG_STATUS.SKIPDATA ? (batch.bytes[i] ?? 0) : 0,
      start: windowStart,
      end: windowEnd,
      awsTcpFlags: 0,
      nhnTcpFlags: 0,
      ruleId: null,
      rejectReason: null,
    }
  }
  const v4 = isV4Mapped(batch.src, o)
  const pktSrcAddr = names.of(batch.src, o, v4)
  const pktDstAddr = names.of(batch.dst, o, v4)
  const entry = interfaces[iface]
  const primary = entry === undefined ? null : v4 ? entry.primaryV4 : entry.primaryV6
  return {
    status,
    iface,
    windowStart,
    windowEnd,
    direction,
    action: (batch.action[i] ?? 0) as Action,
    protocol: batch.protocol[i] ?? 0,
    ipVersion: v4 ? 4 : 6,
    srcAddr: direction === DIRECTION.EGRESS && primary !== null ? primary : pktSrcAddr,
    dstAddr: direction === DIRECTION.INGRESS && primary !== null ? primary : pktDstAddr,
    pktSrcAddr,
    pktDstAddr,
    srcPort: batch.srcPort[i] ?? 0,
    dstPort: batch.dstPort[i] ?? 0,
    packets: batch.packets[i] ?? 0,
    bytes: batch.bytes[i] ?? 0,
    start: batch.first[i] ?? windowStart,
    end: batch.last[i] ?? windowStart,
    awsTcpFlags: batch.awsTcpFlags[i] ?? 0,
    nhnTcpFlags: batch.nhnTcpFlags[i] ?? 0,
    ruleId: cause >= 0 ? (ruleIds[cause] ?? null) : null,
    rejectReason: cause < 0 ? (REJECT_REASON_NAMES[-cause - 1] ?? null) : null,
  }
}

/**
 * IPv4 addresses as text, each formatted once per batch: a window's records repeat the same few
 * addresses (the interface's own on every record), and formatting is most of this function's cost.
 */
export class AddressNames {
  private readonly v4 = new Map<number, string>()

  of(words: Uint32Array, offset: number, v4: boolean): string {
    if (!v4) return formatAddress(words, offset)
    const key = words[offset + 3] ?? 0
    let name = this.v4.get(key)
    if (name === undefined) {
      name = formatAddress(words, offset)
      this.v4.set(key, name)
    }
    return name
  }
}
