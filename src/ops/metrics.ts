import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { DeliveryStatsSnapshot } from '../deliver/delivery-stats.js'

/** What the daemon reports; read at each scrape, so the packet path never touches prom-client. */
export interface LiveSnapshot {
  /** Packets recorded per configured interface and verdict. */
  interfaces: { id: string; accepted: number; rejected: number }[]
  /** Per capture device (or nflog:N): frames received and packets the kernel dropped before capture. */
  devices: { device: string; frames: number; kernelDrops: number }[]
  /** Frames per decode result that is not a flow packet (not-ip, truncated-ip-header, ...). */
  decode: Record<string, number>
  unattributed: number
  /** IPv6 neighbour discovery packets (never a flow, as ARP). */
  neighbourDiscovery: number
  internalErrors: number
  latePackets: number
  /** Packets counted into SKIPDATA records (flow table full, or kernel drops). */
  skippedPackets: number
  activeFlows: number
  trackedConnections: number
  windowsClosed: number
  /** Flow logs running now (enabled ones: a paused or deleted one is not). */
  flowLogs: number
  /** The spool and deliveries to destinations (the writer thread counts them). */
  delivery: DeliveryStatsSnapshot
}

/**
 * The Prometheus metrics of `flowlog run` (prom-client, text format at /metrics). Counters mirror
 * the daemon's cumulative counts: each scrape adds what grew since the last one.
 */
export class LiveMetrics {
  readonly registry = new Registry()
  private readonly filesWritten: Counter<'flow_log'>
  private readonly writeDelay: Histogram<'flow_log'>
  private readonly reloads: Counter<'result'>
  private readonly changes: Counter<'result'>
  private readonly seen = new Map<string, number>()

  constructor(snapshot: () => LiveSnapshot) {
    const registry = this.registry
    let current: LiveSnapshot | null = null
    // One snapshot per scrape, taken by the first metric collected.
    const take = () => {
      current ??= snapshot()
      queueMicrotask(() => {
        current = null
      })
      return current
    }
    const grow = <L extends string>(counter: Counter<L>, labels: Record<L, string>, total: number) => {
      const key = `${(counter as unknown as { name: string }).name}|${JSON.stringify(labels)}`
      const before = this.seen.get(key) ?? 0
      if (total > before) counter.inc(labels as never, total - before)
      this.seen.set(key, Math.max(before, total))
    }
    const counter = <L extends string>(
      name: string,
      help: string,
      labelNames: L[],
      fill: (s: LiveSnapshot, c: Counter<L>) => void,
    ) =>
      new Counter<L>({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          fill(take(), this)
        },
      })
    const gauge = (name: string, help: string, value: (s: LiveSnapshot) => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(value(take()))
        },
      })

    counter(
      'flowlog_packets_total',
      'Packets recorded, by interface and outcome (accept, reject)',
      ['interface', 'outcome'],
      (s, c) => {
        for (const i of s.interfaces) {
          grow(c, { interface: i.id, outcome: 'accept' }, i.accepted)
          grow(c, { interface: i.id, outcome: 'reject' }, i.rejected)
        }
      },
    )
    counter(
      'flowlog_capture_frames_total',
      'Frames received from libpcap, by capture device',
      ['device'],
      (s, c) => {
        for (const d of s.devices) grow(c, { device: d.device }, d.frames)
      },
    )
    counter(
      'flowlog_kernel_drops_total',
      'Packets the kernel saw on a device but the capture lost',
      ['device'],
      (s, c) => {
        for (const d of s.devices) grow(c, { device: d.device }, d.kernelDrops)
      },
    )
    counter(
      'flowlog_decode_failures_total',
      'Frames that are not flow packets, by reason',
      ['reason'],
      (s, c) => {
        for (const [reason, n] of Object.entries(s.decode)) grow(c, { reason }, n)
      },
    )
    counter('flowlog_unattributed_packets_total', 'IP packets of no configured interface', [], (s, c) =>
      grow(c, {}, s.unattributed),
    )
    counter(
      'flowlog_neighbour_discovery_packets_total',
      'IPv6 neighbour discovery packets (ICMPv6 133-137): the link layer, never a flow',
      [],
      (s, c) => grow(c, {}, s.neighbourDiscovery),
    )
    counter('flowlog_internal_errors_total', 'Packets that hit a bug (counted, never fatal)', [], (s, c) =>
      grow(c, {}, s.internalErrors),
    )
    counter('flowlog_late_packets_total', 'Packets for a window that had already closed', [], (s, c) =>
      grow(c, {}, s.latePackets),
    )
    counter('flowlog_skipdata_packets_total', 'Packets counted into SKIPDATA records', [], (s, c) =>
      grow(c, {}, s.skippedPackets),
    )
    counter(
      'flowlog_windows_closed_total',
      'Aggregation windows closed (one batch per interval)',
      [],
      (s, c) => grow(c, {}, s.windowsClosed),
    )
    counter('flowlog_delivered_files_total', 'Files delivered to their destination', [], (s, c) =>
      grow(c, {}, s.delivery.delivered),
    )
    counter(
      'flowlog_spooled_files_total',
      'Files that went to the spool to wait for their destination',
      [],
      (s, c) => grow(c, {}, s.delivery.spooled),
    )
    counter('flowlog_delivery_retries_total', 'Delivery attempts that retried a spooled file', [], (s, c) =>
      grow(c, {}, s.delivery.retries),
    )
    counter('flowlog_delivery_failures_total', 'Delivery attempts that failed', [], (s, c) =>
      grow(c, {}, s.delivery.failedAttempts),
    )
    counter(
      'flowlog_delivery_latency_seconds_sum',
      'Seconds from a file being finished to its delivery, summed (with _count: the mean)',
      [],
      (s, c) => grow(c, {}, s.delivery.latencySeconds.sum),
    )
    counter('flowlog_delivery_latency_seconds_count', 'Deliveries timed in the latency sum', [], (s, c) =>
      grow(c, {}, s.delivery.latencySeconds.count),
    )
    gauge('flowlog_spool_waiting_files', 'Files waiting in the spool now', (s) => s.delivery.waiting)
    gauge('flowlog_active_flows', 'Flow records held in open windows', (s) => s.activeFlows)
    gauge('flowlog_flow_logs', 'Flow logs running now (paused and deleted ones are not)', (s) => s.flowLogs)
    gauge('flowlog_tracked_connections', 'Connections in the connection tracker', (s) => s.trackedConnections)

    this.filesWritten = new Counter({
      name: 'flowlog_files_written_total',
      help: 'Flow-log files written, by flow log',
      labelNames: ['flow_log'],
      registers: [registry],
    })
    this.writeDelay = new Histogram({
      name: 'flowlog_file_write_delay_seconds',
      help: 'Time from the end of a window to its file being written',
      labelNames: ['flow_log'],
      buckets: [0.5, 1, 2, 3, 5, 10, 30, 60, 300],
      registers: [registry],
    })
    this.reloads = new Counter({
      name: 'flowlog_config_reloads_total',
      help: 'Config reloads (SIGHUP or POST /reload), by result',
      labelNames: ['result'],
      registers: [registry],
    })
    this.changes = new Counter({
      name: 'flowlog_control_changes_total',
      help: 'Control-plane changes (API calls) applied live to the running daemon, by result',
      labelNames: ['result'],
      registers: [registry],
    })
  }

  /** A control-plane change the daemon applied live, or refused. */
  changeApplied(ok: boolean): void {
    this.changes.inc({ result: ok ? 'applied' : 'refused' })
  }

  fileWritten(flowLog: string, delaySeconds: number): void {
    this.filesWritten.inc({ flow_log: flowLog })
    this.writeDelay.observe({ flow_log: flowLog }, Math.max(0, delaySeconds))
  }

  reloaded(ok: boolean): void {
    this.reloads.inc({ result: ok ? 'applied' : 'refused' })
  }

  text(): Promise<string> {
    return this.registry.metrics()
  }
}
