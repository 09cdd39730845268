import { FlowTable } from '../aggregate/flow-table.js'
import { type Attribution, Attributor, newAttribution } from '../attribute/attributor.js'
import type { ClosedWindow } from '../core/flow-record.js'
import type { Frame } from '../core/frame.js'
import type { NetworkConfig } from '../core/network.js'
import { DECODE, DECODE_NAMES, type DecodeResult, PacketView } from '../core/packet-view.js'
import { isRecordTime } from '../core/record-time.js'
import { ACTION, DIRECTION, type Direction } from '../core/verdict.js'
import { decodeFrame } from '../decode/decoder.js'
import { FragmentPorts } from '../decode/fragment-ports.js'
import { isNeighbourDiscovery } from '../decode/ip-protocol.js'
import type { CompiledPolicy } from '../policy/compile-policy.js'
import { ConnectionTracker } from '../policy/connection-tracker.js'
import { coverageMask, coveredInterfaces } from './flow-log-coverage.js'

/** What happened to the frames so far. Plain numbers, read by summaries and metrics. */
export interface PipelineCounters {
  frames: number
  /** Per DECODE result code (index = code), including OK and NOT_IP. */
  decodeResults: Float64Array
  /** IP packets that belong to no configured interface. */
  unattributed: number
  /** Packets recorded, per interface index and direction-side (one packet may give two records). */
  recordedPackets: number
  /** Packets that threw inside the pipeline (a bug, never bad input): counted, never fatal. */
  internalErrors: number
  /** IPv6 neighbour discovery (ICMPv6 133-137): the link layer, as ARP is, never a flow. */
  neighbourDiscovery: number
}

export interface PipelineOptions {
  /** Seconds a window stays open after its end for slightly out-of-order packets. */
  lateness: number
  /** Called with each closed window, per aggregation interval (its buffer may come back: recycle). */
  onWindow: (interval: number, window: ClosedWindow) => void
}

/** An aggregation table and its interfaces as a mask (a constant-time check per packet). */
export interface PipelineTable {
  readonly table: FlowTable
  readonly covered: Uint8Array
}

/**
 * decode → attribute → verdict → aggregate, for one frame at a time. Allocation-free per packet
 * and never throws: bad packets are counted by reason (DESIGN 9).
 */
export class PacketPipeline {
  readonly counters: PipelineCounters = {
    frames: 0,
    decodeResults: new Float64Array(DECODE_NAMES.length),
    unattributed: 0,
    recordedPackets: 0,
    internalErrors: 0,
    neighbourDiscovery: 0,
  }
  readonly tracker: ConnectionTracker
  /** Packets recorded per interface and action: index iface * 2 + action (for live metrics). */
  readonly byInterface: Float64Array
  /**
   * One table per distinct aggregation interval, with the interfaces its flow logs cover. Replaced
   * whole when the flow logs change (setFlowLogs), so the packet path reads it as before.
   */
  tables: readonly PipelineTable[]
  private readonly view = new PacketView()
  private readonly fragments = new FragmentPorts()
  private readonly attributor: Attributor
  private readonly attribution: Attribution = newAttribution()
  private lastTime = 0
  private firstError: unknown = null
  /** The window clocks run (start): tables added later start at once too. */
  private started = false

  constructor(
    network: NetworkConfig,
    policy: CompiledPolicy,
    private readonly options: PipelineOptions,
  ) {
    this.attributor = new Attributor(network)
    this.tracker = new ConnectionTracker(policy, network.limits.connectionTableCapacity)
    this.byInterface = new Float64Array(network.interfaces.length * 2)
    this.tables = []
    this.setFlowLogs(network, 0)
  }

  /**
   * Aggregates for the flow logs of `network` from now on (a flow log added or removed live; the
   * interfaces must be those the pipeline was built with). A table whose interval stays keeps its
   * open windows and takes the new coverage; a new interval gets a new table, whose clock starts
   * at `time` when the others run; a table no flow log needs any more is dropped with its open
   * windows (take them first: openWindows). Nothing changes per packet.
   */
  setFlowLogs(network: NetworkConfig, time: number): void {
    const intervals = [...new Set(network.flowLogs.map((f) => f.aggregationInterval))].sort((a, b) => a - b)
    this.tables = intervals.map((interval) => {
      const interfaces = [
        ...new Set(
          network.flowLogs
            .filter((f) => f.aggregationInterval === interval)
            .flatMap((f) => coveredInterfaces(network, f)),
        ),
      ].sort((a, b) => a - b)
      const covered = coverageMask(network, interfaces)
      const kept = this.tables.find((t) => t.table.interval === interval)
      if (kept !== undefined) {
        kept.table.setCoverage(interfaces)
        return { table: kept.table, covered }
      }
      const table = new FlowTable({
        interval,
        capacity: network.limits.flowTableCapacity,
        coveredInterfaces: interfaces,
        lateness: this.options.lateness,
        onWindow: (window) => this.options.onWindow(interval, window),
      })
      if (this.started) table.begin(time)
      return { table, covered }
    })
  }

  /**
   * Copies of the windows of `interval` not closed yet at `time` (see FlowTable.openWindows), for
   * writing a removed flow log's last, partial window; none when no table has that interval.
   */
  openWindows(interval: number, time: number): ClosedWindow[] {
    return this.tables.find((t) => t.table.interval === interval)?.table.openWindows(time) ?? []
  }

  /** The interface a capture device is attributed to, or -1 (for checking --device). */
  interfaceOfDevice(device: string): number {
    return this.attributor.interfaceOfDevice(device)
  }

  /** The time of the latest frame seen (unix seconds). */
  get time(): number {
    return this.lastTime
  }

  /** The first internal error, for a report; the pipeline itself carries on. */
  get firstInternalError(): unknown {
    return this.firstError
  }

  process(frame: Frame): void {
    this.counters.frames++
    try {
      if (!this.decode(frame)) return
      const time = frame.time
      const who = this.attribution
      this.attributor.attribute(this.view, frame.device, who)
      if (who.egress >= 0) {
        // The receiver sees the packet only if the sender's outbound groups let it out.
        if (this.record(who.egress, DIRECTION.EGRESS, time) === ACTION.REJECT) return
      } else if (who.unknown >= 0) {
        this.record(who.unknown, DIRECTION.UNKNOWN, time)
        return
      }
      if (who.ingress >= 0) this.record(who.ingress, DIRECTION.INGRESS, time)
      else if (who.egress < 0) this.counters.unattributed++
    } catch (error) {
      this.internalError(error)
    }
  }

  /**
   * Starts every table's window clock at `time` (a live daemon at start-up), so interfaces that
   * stay idle from the first window on get NODATA records.
   */
  start(time: number): void {
    this.started = true
    for (const { table } of this.tables) table.begin(time)
  }

  /**
   * A frame whose verdict was already given (enforce mode: the kernel judged it and said so in
   * the NFLOG prefix): decoded and aggregated for `iface` and `direction` with `cause`, without
   * attribution or connection tracking. Allocation-free and never throws, like `process`.
   */
  processJudged(frame: Frame, iface: number, direction: Direction, cause: number): void {
    this.counters.frames++
    try {
      if (this.decode(frame)) this.aggregate(iface, direction, cause, frame.time)
    } catch (error) {
      this.internalError(error)
    }
  }

  /** Packets of `iface` lost before capture (kernel drops): SKIPDATA in the window of `time`. */
  skipPackets(iface: number, packets: number, bytes: number, time: number): void {
    for (const { table, covered } of this.tables) {
      if (covered[iface] === 1) table.skipPackets(iface, packets, bytes, time)
    }
  }

  /** Gives a closed window's emptied table buffer back to the flow table of its interval. */
  recycle(interval: number, buffer: ArrayBuffer): void {
    for (const { table } of this.tables) if (table.interval === interval) table.recycle(buffer)
  }

  /** Closes windows that the clock has moved past (live capture calls it when idle). */
  advance(time: number): void {
    for (const { table } of this.tables) table.advance(time)
  }

  /** Closes every open window (end of the captures, or shutdown). */
  finish(time = this.lastTime): void {
    for (const { table } of this.tables) table.closeAll(time)
  }

  /**
   * Decodes into the view and counts the result; false when it is not a flow packet. A flow packet
   * whose capture time no flow log can carry (a corrupt timestamp) is `bad-timestamp`: its time
   * must never become a window, a record's start or end, or an object key.
   */
  private decode(frame: Frame): boolean {
    const view = this.view
    let result: DecodeResult = decodeFrame(frame, view)
    if (result === DECODE.OK && !isRecordTime(frame.time)) result = DECODE.BAD_TIMESTAMP
    this.counters.decodeResults[result]!++
    if (result !== DECODE.OK) return false
    if (isNeighbourDiscovery(view.protocol, view.icmpType)) {
      // IPv6's ARP: security groups never filter it and flow logs never record it (reference
      // 2.5 for ARP); enforce mode's ruleset accepts it before any group is consulted.
      this.counters.neighbourDiscovery++
      return false
    }
    if (frame.time > this.lastTime) this.lastTime = frame.time
    if (view.fragment !== 0) this.fragments.apply(view, frame.time)
    return true
  }

  /** Judges the packet for one interface and direction, aggregates it, and returns the action. */
  private record(iface: number, direction: Direction, time: number): number {
    return this.aggregate(iface, direction, this.tracker.judge(iface, direction, this.view, time), time)
  }

  private aggregate(iface: number, direction: Direction, cause: number, time: number): number {
    const view = this.view
    const action = cause >= 0 ? ACTION.ACCEPT : ACTION.REJECT
    const tables = this.tables
    for (let i = 0; i < tables.length; i++) {
      const t = tables[i]!
      if (t.covered[iface] === 1) t.table.add(iface, direction, action, cause, view, time)
    }
    this.counters.recordedPackets++
    this.byInterface[iface * 2 + action]!++
    return action
  }

  private internalError(error: unknown): void {
    this.counters.internalErrors++
    if (this.firstError === null) this.firstError = error
  }
}
