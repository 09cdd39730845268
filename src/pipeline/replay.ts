import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { mergeReaders, openCapture } from '../capture/open-capture.js'
import { DEFAULT_DELIVERY_TIMEOUT } from '../config/schema.js'
import type { FrameReader } from '../core/frame.js'
import { newFrame } from '../core/frame.js'
import type { NetworkConfig } from '../core/network.js'
import { DECODE_NAMES } from '../core/packet-view.js'
import { isRecordTime } from '../core/record-time.js'
import { fileCompression } from '../deliver/compression.js'
import { deliverySetupFor } from '../deliver/delivery.js'
import type { DeliveryStatsSnapshot } from '../deliver/delivery-stats.js'
import { fastGzipStatus } from '../deliver/fast-gzip.js'
import type { SpoolEntry } from '../deliver/spool.js'
import { compilePolicy } from '../policy/compile-policy.js'
import { PacketPipeline } from './packet-pipeline.js'
import { InlineWindowSink, type WindowSink, WorkerWindowSink } from './window-sink.js'
import type { WrittenFile } from './window-writer.js'

export interface ReplayOptions {
  network: NetworkConfig
  captures: readonly string[]
  /** The whole of every capture was taken on this device (--device). */
  device?: string
  /** Format and write on a worker thread (default true). */
  worker?: boolean
  /** Called now and then with the bytes of capture consumed so far. */
  onProgress?: (progress: { packets: number; bytes: number }) => void
  /** Where undelivered files wait (--spool); else the config's spoolDir, else the default. */
  spoolDir?: string
  /** Seconds to keep retrying after the last window (--delivery-timeout); else the config's. */
  deliveryTimeout?: number
}

/** What became of the files after the last window: delivered, or left in the spool. */
export interface ReplayDelivery {
  spoolDir: string
  /** Files still in the spool when the replay gave up waiting, with their last error. */
  waiting: SpoolEntry[]
  stats: DeliveryStatsSnapshot
}

export interface ReplaySummary {
  captures: number
  packets: number
  /** Count per decode result name (ok, not-ip, truncated-ip-header, ...), zeros left out. */
  decode: Record<string, number>
  unattributed: number
  /** IPv6 neighbour discovery (ICMPv6 133-137): the link layer, as ARP is, never a flow. */
  neighbourDiscovery: number
  internalErrors: number
  /** Capture-file problems (truncated-record, bad-record-length, ...). */
  readProblems: Record<string, number>
  latePackets: number
  skippedPackets: number
  peakFlowRecords: number
  peakConnections: number
  firstPacketTime: number | null
  lastPacketTime: number | null
  seconds: number
  flowLogs: { id: string; files: number; records: number; bytes: number; locations: string[] }[]
  /** Which gzip the files got ("ISA-L igzip", or "zlib (why)"); null when no flow log gzips. */
  gzip: string | null
  files: WrittenFile[]
  delivery: ReplayDelivery
}

/** How many closed windows may wait for the writer before reading pauses. */
const MAX_BACKLOG = 4
/** Frames between looks at the event loop (progress, writer messages). */
const FRAMES_PER_TURN = 1 << 16

/**
 * Replays capture files through the whole pipeline (DESIGN 1) and writes the flow-log files of
 * every flow log. Captures are merged in time order, so several files of one network give the
 * same records as one file would.
 */
export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  const started = performance.now()
  const { network } = options
  const policy = compilePolicy(network)
  const delivery = deliverySetupFor(network, { spoolDir: options.spoolDir })
  const setup = { network, ruleIds: policy.ruleIds, delivery }
  const sink: WindowSink =
    options.worker === false ? new InlineWindowSink(setup) : new WorkerWindowSink(setup)
  const pipeline = new PacketPipeline(network, policy, {
    lateness: 2,
    onWindow: (interval, window) => sink.submit(interval, window),
  })
  sink.onRecycle = (interval, buffer) => pipeline.recycle(interval, buffer)
  const readers: FrameReader[] = []
  let firstTime: number | null = null
  let waiting: SpoolEntry[] = []
  try {
    for (const path of options.captures) {
      readers.push(openCapture(path, options.device === undefined ? {} : { device: options.device }))
    }
    const reader = readers.length === 1 ? readers[0]! : mergeReaders(readers)
    const frame = newFrame()
    let bytes = 0
    let untilTurn = FRAMES_PER_TURN
    while (reader.next(frame)) {
      if (firstTime === null && isRecordTime(frame.time)) firstTime = frame.time
      pipeline.process(frame)
      bytes += frame.capturedLength + 16
      if (--untilTurn === 0) {
        untilTurn = FRAMES_PER_TURN
        options.onProgress?.({ packets: pipeline.counters.frames, bytes })
        await sink.waitBelow(MAX_BACKLOG)
        await yieldToEventLoop()
      }
    }
    options.onProgress?.({ packets: pipeline.counters.frames, bytes })
    pipeline.finish()
    await sink.drain()
    // Files that met a failing destination wait in the spool; give them a bounded time.
    const timeout = options.deliveryTimeout ?? network.delivery?.timeout ?? DEFAULT_DELIVERY_TIMEOUT
    waiting = await sink.settleDelivery(Date.now() + timeout * 1000)
  } finally {
    for (const r of readers) r.close()
    await sink.close()
  }
  const summary = summarize(
    options,
    pipeline,
    readers,
    sink.files,
    firstTime,
    (performance.now() - started) / 1000,
  )
  return {
    ...summary,
    delivery: { spoolDir: delivery.spoolDir, waiting, stats: sink.deliveryStats.snapshot() },
  }
}

function summarize(
  options: ReplayOptions,
  pipeline: PacketPipeline,
  readers: FrameReader[],
  files: readonly WrittenFile[],
  firstTime: number | null,
  seconds: number,
): Omit<ReplaySummary, 'delivery'> {
  const c = pipeline.counters
  const decode: Record<string, number> = {}
  c.decodeResults.forEach((n, code) => {
    if (n > 0) decode[DECODE_NAMES[code] ?? `code-${code}`] = n
  })
  const readProblems: Record<string, number> = {}
  for (const r of readers) for (const [k, n] of r.problems) readProblems[k] = (readProblems[k] ?? 0) + n
  const tables = pipeline.tables.map((t) => t.table)
  return {
    captures: options.captures.length,
    packets: c.frames,
    decode,
    unattributed: c.unattributed,
    neighbourDiscovery: c.neighbourDiscovery,
    internalErrors: c.internalErrors,
    readProblems,
    latePackets: tables.reduce((n, t) => n + t.latePackets, 0),
    skippedPackets: tables.reduce((n, t) => n + t.skippedPackets, 0),
    peakFlowRecords: tables.reduce((n, t) => n + t.peakRecords, 0),
    peakConnections: pipeline.tracker.size,
    firstPacketTime: firstTime,
    lastPacketTime: firstTime === null ? null : pipeline.time,
    seconds,
    flowLogs: options.network.flowLogs.map((f) => {
      const mine = files.filter((w) => w.flowLogId === f.id)
      return {
        id: f.id,
        files: mine.length,
        records: mine.reduce((n, w) => n + w.records, 0),
        bytes: mine.reduce((n, w) => n + w.bytes, 0),
        locations: mine.map((w) => w.location),
      }
    }),
    gzip: options.network.flowLogs.some((f) => fileCompression(f) === 'gzip') ? fastGzipStatus() : null,
    files: [...files],
  }
}
