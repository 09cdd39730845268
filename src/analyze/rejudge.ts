import type { NetworkConfig } from '../core/network.js'
import { PacketView } from '../core/packet-view.js'
import { DIRECTION, type Direction } from '../core/verdict.js'
import type { CompiledPolicy } from '../policy/compile-policy.js'
import { ConnectionTracker } from '../policy/connection-tracker.js'
import { isReply } from './detections/traffic-roles.js'
import type { Flow } from './flow.js'
import { flowToView, type InterfaceIndex, indexInterfaces, parseWords, placeFlow } from './flow-view.js'
import { PendingTouches } from './pending-touches.js'

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
  /** Its conversation group (conversationGroup): a replay may go a group at a time. */
  group: number
  /** Its place in the order the records were read: replay order is (time, rank, seq). */
  seq: number
}

/**
 * The conversation group of a record: every record a connection or a what-if conversation could
 * share (same protocol, the same two ports either way round) has the same one, so a replay that
 * takes the groups one at a time judges each record as a replay of all of them would (Replay).
 * TCP and UDP are grouped by their pair of ports, which spreads a day's connections over many
 * small groups; other protocols, keyed by addresses and ICMP ids, are one group each. A number
 * (exact below 2^53): the same formula in SQL groups Parquet files in DuckDB (parquet-own-scan.ts).
 */
export function conversationGroup(flow: Flow): number {
  const protocol = flow.protocol ?? 0
  if (protocol !== 6 && protocol !== 17) return protocol * 4294967296
  const src = flow.srcport ?? 0
  const dst = flow.dstport ?? 0
  return (protocol * 65536 + Math.min(src, dst)) * 65536 + Math.max(src, dst)
}

/** Replay order, as a comparison: by start time, then rank (opener first), then read order. */
export function replayOrderOf(a: { time: number; rank: number; seq: number }, b: typeof a): number {
  return a.time - b.time || a.rank - b.rank || a.seq - b.seq
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
  p: PlacedFlow,
  ruleDirection: ReadonlyMap<string, string>,
  allowedAsNew: (p: PlacedFlow) => boolean,
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

/**
 * Places records on their interfaces one at a time, counting those it cannot place; each placed
 * record gets its tie-break rank. `placeFlows` keeps them all; a bounded replay (replay-order.ts)
 * writes them out for DuckDB to sort.
 */
export class FlowPlacer {
  readonly index: InterfaceIndex
  readonly skipped = { unknownInterface: 0, noTime: 0, noAddresses: 0 }
  readonly #view = new PacketView()
  readonly #ruleDirection = new Map<string, string>()
  readonly #allowedAsNew: (p: PlacedFlow) => boolean

  constructor(network: NetworkConfig, policy: CompiledPolicy) {
    const index = indexInterfaces(network)
    this.index = index
    this.#allowedAsNew = (p) =>
      flowToView(p.flow, this.#view, index, 0, p.words) &&
      policy.evaluate(p.iface, p.direction, this.#view) >= 0
    for (const g of network.securityGroups) {
      for (const r of g.inbound) this.#ruleDirection.set(r.id, 'inbound')
      for (const r of g.outbound) this.#ruleDirection.set(r.id, 'outbound')
    }
  }

  /** The record placed and ranked, or null (counted in `skipped`). */
  place(flow: Flow): PlacedFlow | null {
    if (flow.start === null) {
      this.skipped.noTime++
      return null
    }
    const words = flow.protocol === null ? null : parseWords(flow)
    if (words === null) {
      this.skipped.noAddresses++
      return null
    }
    const place = placeFlow(flow, this.index)
    if (place === null) {
      this.skipped.unknownInterface++
      return null
    }
    const placed: PlacedFlow = {
      flow,
      iface: place.iface,
      direction: place.direction,
      time: flow.start,
      rank: 0,
      words,
      group: conversationGroup(flow),
      seq: 0,
    }
    placed.rank = rankOf(placed, this.#ruleDirection, this.#allowedAsNew)
    return placed
  }
}

/** Places every traffic record on its interface and sorts them for replay. */
export function placeFlows(flows: Iterable<Flow>, network: NetworkConfig, policy: CompiledPolicy): Placement {
  const placer = new FlowPlacer(network, policy)
  const placed: PlacedFlow[] = []
  let seq = 0
  for (const flow of flows) {
    const p = placer.place(flow)
    if (p !== null) {
      p.seq = seq
      placed.push(p)
    }
    seq++
  }
  // Array.prototype.sort is stable: equal records keep the order they were read in.
  placed.sort(replayOrder)
  return { placed, skipped: placer.skipped, index: placer.index }
}

/** Replay order: by start time, then rank (opener first); equal records keep their read order. */
export function replayOrder(a: PlacedFlow, b: PlacedFlow): number {
  return a.time - b.time || a.rank - b.rank
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
export const PROGRESS_STEP = 1 << 16

export function judgeAll(
  placement: Placement,
  policy: CompiledPolicy,
  onProgress?: JudgeProgress,
): Int32Array {
  const { placed, index } = placement
  const replay = new Replay(index, [policy])
  const causes = new Int32Array(placed.length)
  placed.forEach((p, i) => {
    causes[i] = replay.judge(p)
    if (onProgress !== undefined && (i + 1) % PROGRESS_STEP === 0) onProgress(i + 1, placed.length)
  })
  onProgress?.(placed.length, placed.length)
  replay.finish()
  return causes
}

/**
 * Replays of one or more policies, fed the placed records in replay order one at a time (judgeAll,
 * or a stream sorted by DuckDB): each policy has its own connection table, and they share the
 * record's packet and the end-of-record touches still ahead, never the records behind. The
 * touches replay exactly as a sort of all of them by (time, record order) would: a touch is later
 * than its own record, so it is always waiting before any record it must precede.
 *
 * The tables remember every connection (ConnectionTracker's `remember`): a record is judged by
 * the records and touches of its own connection alone, never by how full a table is. A live host's
 * table is bounded, and a full one leaves new connections untracked; but a VPC's day of records is
 * not one host's table, and a verdict that depended on unrelated traffic elsewhere would be an
 * artefact of the replay. So the records may come a conversation group at a time (replay-order.ts:
 * every record of a connection in one group, in replay order within it), with `clear` between
 * groups, and each is judged exactly as in one replay of all of them in time order.
 */
export class Replay {
  /** The cause of each policy for the last record judged (judge returns the first's). */
  readonly causes: Int32Array
  readonly #trackers: ConnectionTracker[]
  readonly #view = new PacketView()
  readonly #index: InterfaceIndex
  readonly #touches = new PendingTouches()
  /** Where a popped touch's interface, direction and replays go. */
  readonly #touched = { iface: 0, direction: DIRECTION.UNKNOWN as Direction, mask: 0 }

  constructor(index: InterfaceIndex, policies: readonly CompiledPolicy[]) {
    if (policies.length < 1 || policies.length > 30) throw new Error('a replay judges by 1 to 30 policies')
    this.#index = index
    this.#trackers = policies.map((policy) => new ConnectionTracker(policy, 0, { remember: true }))
    this.causes = new Int32Array(policies.length)
  }

  /**
   * Forgets every connection and the touches still ahead: the next records are another group's.
   * (The touches dropped could only have touched the connections forgotten.)
   */
  clear(): void {
    for (const tracker of this.#trackers) tracker.clear()
    this.#touches.clear()
  }

  /** The cause of the next record in replay order under the first policy (see judgeAll); all in `causes`. */
  judge(p: PlacedFlow): number {
    this.#touchUntil(p.time)
    const view = this.#view
    const loaded = this.#load(p)
    const causes = this.causes
    let mask = 0
    for (let k = 0; k < causes.length; k++) {
      const cause = loaded ? (this.#trackers[k]?.judge(p.iface, p.direction, view, p.time) ?? -1) : -1
      causes[k] = cause
      if (cause >= 0) mask |= 1 << k
    }
    const end = p.flow.end ?? p.time
    const closes = p.flow.protocol === 6 && ((p.flow.tcpFlags ?? 0) & FIN_OR_RST) !== 0
    // The tracker reads the view and never writes it: the touch judges the packet the record was.
    if (mask !== 0 && end > p.time && !closes) this.#touches.push(end, p.iface, p.direction, view, mask)
    return causes[0] ?? -1
  }

  /** Replays the touches left (the connection tables' state at the end of the input). */
  finish(): void {
    this.#touchUntil(Number.POSITIVE_INFINITY)
  }

  // A recorded reject of ICMP cannot be the answer to an accepted ping (that would have been
  // accepted by the connection); keyed apart, it is judged as the new traffic it was.
  #load(p: PlacedFlow): boolean {
    return flowToView(p.flow, this.#view, this.#index, p.flow.action === 'REJECT' ? 1 : 0, p.words)
  }

  #touchUntil(time: number): void {
    const touches = this.#touches
    const touched = this.#touched
    const trackers = this.#trackers
    while (touches.nextTime < time) {
      const at = touches.pop(this.#view, touched)
      for (let k = 0; k < trackers.length; k++)
        if ((touched.mask & (1 << k)) !== 0)
          trackers[k]?.judge(touched.iface, touched.direction, this.#view, at)
    }
  }
}
