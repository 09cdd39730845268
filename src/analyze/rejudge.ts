import type { NetworkConfig } from '../core/network.js'
import { PacketView } from '../core/packet-view.js'
import { DIRECTION, type Direction } from '../core/verdict.js'
import type { CompiledPolicy } from '../policy/compile-policy.js'
import { ConnectionTracker } from '../policy/connection-tracker.js'
import { isReply } from './detections/traffic-roles.js'
import type { Flow } from './flow.js'
import { flowToView, type InterfaceIndex, indexInterfaces, parseWords, placeFlow } from './flow-view.js'

/**
 * Re-judges recorded flows with the policy engine, as if each record were one packet at its start
 * time: audit uses it when the records do not carry `rule-id`, what-if to compare the current
 * groups with proposed ones. Records go through one ConnectionTracker in time order, both
 * directions, so an answer is accepted by the connection its request opened, as on the wire.
 *
 * Records lose the order of packets within a second. When records tie on start time, the opener
 * goes first: a SYN without ACK, or a record whose rule-id is a rule of its own direction; then
 * records with nothing to say; answers last (SYN-ACK, a rule of the other direction, or a
 * client-to-service port pattern). Both sides of a what-if use the same order, so an order the
 * heuristics get wrong shows up in both and changes nothing.
 */

export interface PlacedFlow {
  flow: Flow
  iface: number
  direction: Direction
  /** The record's start, seconds. */
  time: number
  /** Tie-break within one start time: 0 opener ... 3 answer (see rankOf). */
  rank: number
  /** Source and destination address words, parsed once. */
  words: Uint32Array
}

export interface Placement {
  /** Records that can be re-judged, in replay order. */
  placed: PlacedFlow[]
  /** Records the config cannot place: interface not in it, no start time, or no addresses. */
  skipped: { unknownInterface: number; noTime: number; noAddresses: number }
  index: InterfaceIndex
}

const SYN = 0x02
const SYN_ACK = 0x12

/**
 * Tie-break rank (lower goes first). Without flags or rule-id, a record the rules allow as new
 * traffic goes before one they do not (if both were accepted, the allowed one must have opened the
 * connection), and ingress before egress when both are allowed (an inbound rule written for it is
 * then the one credited, as a person reading the config would expect).
 */
function rankOf(
  p: Omit<PlacedFlow, 'rank'>,
  ruleDirection: ReadonlyMap<string, string>,
  allowedAsNew: (p: Omit<PlacedFlow, 'rank'>) => boolean,
): number {
  const flow = p.flow
  if (flow.protocol === 6 && flow.tcpFlags !== null) {
    if ((flow.tcpFlags & SYN_ACK) === SYN) return 0
    // SYN-ACK with FIN is both sides of a short NHN connection (see traffic-roles.ts).
    if ((flow.tcpFlags & (SYN_ACK | 0x01)) === SYN_ACK) return 3
  }
  const named = flow.ruleId === null ? undefined : ruleDirection.get(flow.ruleId)
  if (named !== undefined)
    return named === (p.direction === DIRECTION.EGRESS ? 'outbound' : 'inbound') ? 0 : 3
  if (isReply(flow)) return 3
  if (!allowedAsNew(p)) return 2
  return p.direction === DIRECTION.EGRESS ? 1.5 : 1
}

/** Places every traffic record on its interface and sorts them for replay. */
export function placeFlows(flows: Iterable<Flow>, network: NetworkConfig, policy: CompiledPolicy): Placement {
  const index = indexInterfaces(network)
  const view = new PacketView()
  const allowedAsNew = (p: Omit<PlacedFlow, 'rank'>) =>
    flowToView(p.flow, view, index, 0, p.words) && policy.evaluate(p.iface, p.direction, view) >= 0
  const ruleDirection = new Map<string, string>()
  for (const g of network.securityGroups) {
    for (const r of g.inbound) ruleDirection.set(r.id, 'inbound')
    for (const r of g.outbound) ruleDirection.set(r.id, 'outbound')
  }
  const placed: PlacedFlow[] = []
  const skipped = { unknownInterface: 0, noTime: 0, noAddresses: 0 }
  for (const flow of flows) {
    if (flow.start === null) {
      skipped.noTime++
      continue
    }
    const words = flow.protocol === null ? null : parseWords(flow)
    if (words === null) {
      skipped.noAddresses++
      continue
    }
    const place = placeFlow(flow, index)
    if (place === null) {
      skipped.unknownInterface++
      continue
    }
    const unranked = { flow, ...place, time: flow.start, words }
    placed.push({ ...unranked, rank: rankOf(unranked, ruleDirection, allowedAsNew) })
  }
  // Array.prototype.sort is stable: equal records keep the order they were read in.
  placed.sort((a, b) => a.time - b.time || a.rank - b.rank)
  return { placed, skipped, index }
}

const FIN_OR_RST = 0x05

/**
 * The cause of every placed record under `policy` (≥ 0: index of the accepting rule in
 * policy.rules; < 0: -(REJECT_REASON + 1)), in placement order.
 *
 * A record lasted until its end, so its connection is touched again then (a UDP stream logged in
 * 600-second windows outlives the 180 s idle timeout only if its packets are seen). The touches are
 * merged into the replay in time order, so a short record never shortens a long one's connection.
 */
/** Told how far a replay is (records judged of all), every JUDGE_STEP records. */
export type JudgeProgress = (done: number, total: number) => void
const JUDGE_STEP = 1 << 16

export function judgeAll(
  placement: Placement,
  policy: CompiledPolicy,
  capacity: number,
  onProgress?: JudgeProgress,
): Int32Array {
  const { placed, index } = placement
  const tracker = new ConnectionTracker(policy, Math.max(16, Math.min(capacity, placed.length + 16)))
  const view = new PacketView()
  const causes = new Int32Array(placed.length)
  // A recorded reject of ICMP cannot be the answer to an accepted ping (that would have been
  // accepted by the connection); keyed apart, it is judged as the new traffic it was.
  const load = (p: PlacedFlow) => flowToView(p.flow, view, index, p.flow.action === 'REJECT' ? 1 : 0, p.words)
  const touches = placed
    .map((p, i) => ({ i, time: p.flow.end ?? p.time }))
    .filter(({ i, time }) => {
      const p = placed[i]
      if (p === undefined || time <= p.time) return false
      return !(p.flow.protocol === 6 && ((p.flow.tcpFlags ?? 0) & FIN_OR_RST) !== 0)
    })
    .sort((a, b) => a.time - b.time || a.i - b.i)
  let t = 0
  const touchUntil = (time: number) => {
    for (; t < touches.length && (touches[t]?.time ?? 0) < time; t++) {
      const { i, time: at } = touches[t] ?? { i: 0, time: 0 }
      const p = placed[i]
      if (p !== undefined && (causes[i] ?? -1) >= 0 && load(p)) tracker.judge(p.iface, p.direction, view, at)
    }
  }
  placed.forEach((p, i) => {
    touchUntil(p.time)
    causes[i] = load(p) ? tracker.judge(p.iface, p.direction, view, p.time) : -1
    if (onProgress !== undefined && (i + 1) % JUDGE_STEP === 0) onProgress(i + 1, placed.length)
  })
  onProgress?.(placed.length, placed.length)
  touchUntil(Number.POSITIVE_INFINITY)
  return causes
}
