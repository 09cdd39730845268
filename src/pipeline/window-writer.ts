import type { FlowRecord, RecordBatch } from '../core/flow-record.js'
import type { FlowLogSpec, NetworkConfig } from '../core/network.js'
import type { Destination, Formatter } from '../core/stages.js'
import { ACTION, LOG_STATUS } from '../core/verdict.js'
import { compress, fileCompression } from '../deliver/compression.js'
import { Delivery, type DeliverySetup, deliverySetupFor } from '../deliver/delivery.js'
import { objectKey } from '../deliver/object-key.js'
import type { SpoolEntry } from '../deliver/spool.js'
import type { AttemptOutcome } from '../deliver/spool-deliverer.js'
import { expandBatch } from '../format/expand-batch.js'
import { formatterFor } from '../format/registry.js'
import { coverageMask, coveredInterfaces } from './flow-log-coverage.js'
import { PlatformTraffic } from './platform-traffic.js'

/** One file written for one flow log and window. */
export interface WrittenFile {
  flowLogId: string
  windowStart: number
  key: string
  location: string
  records: number
  bytes: number
  /** The file waits in the spool for its destination (always so for s3://, at first). */
  spooled: boolean
}

/** What a writer needs: plain data, so it can be sent to a worker thread as is. */
export interface WriterSetup {
  network: NetworkConfig
  ruleIds: readonly string[]
  /** Spool and s3 settings; the config's (or the defaults) when absent. */
  delivery?: DeliverySetup
}

interface FlowLogOutput {
  flowLog: FlowLogSpec
  /** The first window (its start, unix seconds) written for it: a flow log added live starts at a boundary. */
  from: number
  covered: Uint8Array
  /** Set when the flow log leaves out platform traffic. */
  platform: PlatformTraffic | null
  formatter: Formatter
  destination: Destination
}

/**
 * Turns a closed window into the files of every flow log with that interval: expand, filter by
 * coverage, traffic type and platform traffic, format, compress, deliver. Runs on the writer thread, off the
 * packet path.
 */
export class WindowWriter {
  private outputs: FlowLogOutput[] = []
  /** Spool, retries and their counters: files leave this writer durable, delivered or not. */
  readonly delivery: Delivery

  constructor(
    private setup: WriterSetup,
    onOutcome?: (outcome: AttemptOutcome) => void,
  ) {
    this.delivery = new Delivery(setup.delivery ?? deliverySetupFor(setup.network), onOutcome)
    // A broken spool shows at the first file written, with its reason; nothing to add here.
    if (setup.delivery?.resume === true) this.delivery.resume().catch(() => {})
    this.update(setup.network, setup.ruleIds, {})
  }

  /**
   * The flow logs of `network` from now on (a live change: windows submitted before it were
   * written by the flow logs then). One kept unchanged goes on as it was; a new one (or one whose
   * spec changed) is written from the window starting at `starts[id]` on, unix seconds (all
   * windows when absent); one no longer there writes nothing more.
   */
  update(network: NetworkConfig, ruleIds: readonly string[], starts: Readonly<Record<string, number>>): void {
    this.setup = { ...this.setup, network, ruleIds }
    const platform = new PlatformTraffic(network)
    const before = new Map(this.outputs.map((o) => [o.flowLog.id, o]))
    this.outputs = network.flowLogs.map((flowLog) => {
      const kept = before.get(flowLog.id)
      const same = kept !== undefined && JSON.stringify(kept.flowLog) === JSON.stringify(flowLog)
      return {
        flowLog,
        from: same ? kept.from : (starts[flowLog.id] ?? Number.NEGATIVE_INFINITY),
        covered: coverageMask(network, coveredInterfaces(network, flowLog)),
        platform: flowLog.platformTraffic === 'exclude' ? platform : null,
        formatter: formatterFor(flowLog.fileFormat),
        destination: this.delivery.destinationFor(flowLog.destination),
      }
    })
  }

  /** Waits for the files still waiting, at most until `deadline` (epoch ms); answers those left. */
  settleDelivery(deadline: number): Promise<SpoolEntry[]> {
    return this.delivery.settle(deadline)
  }

  /** A reloaded policy's rule list (it only ever appends, so earlier causes keep their names). */
  setRuleIds(ruleIds: readonly string[]): void {
    this.setup = { ...this.setup, ruleIds }
  }

  /**
   * Writes the files of a closed window: one per flow log of that interval that has begun by then,
   * or only those named in `only` (the last window of flow logs removed live).
   */
  async write(interval: number, batch: RecordBatch, only?: readonly string[]): Promise<WrittenFile[]> {
    const { network, ruleIds } = this.setup
    // Records as objects only for a format that cannot read the columns (Parquet): once per window.
    let records: FlowRecord[] | null = null
    const written: WrittenFile[] = []
    for (const output of this.outputs) {
      const { flowLog, formatter } = output
      if (flowLog.aggregationInterval !== interval || batch.windowStart < output.from) continue
      if (only !== undefined && !only.includes(flowLog.id)) continue
      const selection = selectRecords(batch, output)
      const count = selection === null ? batch.count : selection.length
      let encoded: Uint8Array
      if (formatter.encodeBatch !== undefined) {
        encoded = await formatter.encodeBatch(batch, selection, { flowLog, network, ruleIds })
      } else {
        records ??= expandBatch(batch, network, ruleIds)
        encoded = await formatter.encode(pick(records, selection), { flowLog, network })
      }
      const body = compress(encoded, fileCompression(flowLog))
      const key = objectKey(flowLog, network, batch.windowStart, batch.windowEnd, output.formatter.extension)
      const state = await this.delivery.deliver({
        url: flowLog.destination,
        key,
        body,
        flowLogId: flowLog.id,
        windowStart: batch.windowStart,
      })
      written.push({
        flowLogId: flowLog.id,
        windowStart: batch.windowStart,
        key,
        location: output.destination.locate(key),
        records: count,
        bytes: body.length,
        spooled: state === 'spooled',
      })
    }
    return written
  }
}

/**
 * The batch rows a flow log keeps, read from the columns: those of the interfaces it covers, of
 * its traffic type (ACCEPT/REJECT keep records of that verdict; status records always stay), and
 * not platform traffic when it leaves that out. Null when that is every row (one flow log on the
 * whole VPC, the usual case).
 */
function selectRecords(batch: RecordBatch, output: FlowLogOutput): Uint32Array | null {
  const { covered, flowLog, platform } = output
  const everyVerdict = flowLog.trafficType === 'ALL'
  const accepted = flowLog.trafficType === 'ACCEPT'
  const { iface, status, action } = batch
  const selection = new Uint32Array(batch.count)
  let n = 0
  for (let i = 0; i < batch.count; i++) {
    if (covered[iface[i]!] !== 1) continue
    if (!everyVerdict && status[i] === LOG_STATUS.OK && (action[i] === ACTION.ACCEPT) !== accepted) continue
    if (platform?.isPlatform(batch, i)) continue
    selection[n++] = i
  }
  return n === batch.count ? null : selection.subarray(0, n)
}

/** The rows `selection` names, or all of them when it is null. */
function pick<T>(rows: T[], selection: Uint32Array | null): T[] {
  return selection === null ? rows : Array.from(selection, (i) => rows[i]!)
}
