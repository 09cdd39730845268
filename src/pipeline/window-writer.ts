import type { FlowRecord, RecordBatch } from '../core/flow-record.js'
import type { FlowLogSpec, NetworkConfig } from '../core/network.js'
import type { Destination, Formatter } from '../core/stages.js'
import { ACTION, LOG_STATUS } from '../core/verdict.js'
import { compress } from '../deliver/compression.js'
import { objectKey } from '../deliver/object-key.js'
import { destinationFor } from '../deliver/registry.js'
import { expandBatch } from '../format/expand-batch.js'
import { formatterFor } from '../format/registry.js'
import { coverageMask, coveredInterfaces } from './flow-log-coverage.js'

/** One file written for one flow log and window. */
export interface WrittenFile {
  flowLogId: string
  windowStart: number
  key: string
  location: string
  records: number
  bytes: number
}

/** What a writer needs: plain data, so it can be sent to a worker thread as is. */
export interface WriterSetup {
  network: NetworkConfig
  ruleIds: readonly string[]
}

interface FlowLogOutput {
  flowLog: FlowLogSpec
  covered: Uint8Array
  formatter: Formatter
  destination: Destination
}

/**
 * Turns a closed window into the files of every flow log with that interval: expand, filter by
 * coverage and traffic type, format, compress, deliver. Runs on the writer thread, off the
 * packet path.
 */
export class WindowWriter {
  private readonly outputs: FlowLogOutput[]

  constructor(private setup: WriterSetup) {
    const { network } = setup
    this.outputs = network.flowLogs.map((flowLog) => ({
      flowLog,
      covered: coverageMask(network, coveredInterfaces(network, flowLog)),
      formatter: formatterFor(flowLog.fileFormat),
      destination: destinationFor(flowLog.destination),
    }))
  }

  /** A reloaded policy's rule list (it only ever appends, so earlier causes keep their names). */
  setRuleIds(ruleIds: readonly string[]): void {
    this.setup = { ...this.setup, ruleIds }
  }

  async write(interval: number, batch: RecordBatch): Promise<WrittenFile[]> {
    const { network, ruleIds } = this.setup
    const records = expandBatch(batch, network, ruleIds)
    const written: WrittenFile[] = []
    for (const output of this.outputs) {
      const { flowLog } = output
      if (flowLog.aggregationInterval !== interval) continue
      const selected = records.filter((r) => output.covered[r.iface] === 1 && passesTrafficType(flowLog, r))
      const encoded = await output.formatter.encode(selected, { flowLog, network })
      const body = compress(encoded, flowLog.compression)
      const key = objectKey(flowLog, network, batch.windowStart, batch.windowEnd, output.formatter.extension)
      await output.destination.put(key, body)
      written.push({
        flowLogId: flowLog.id,
        windowStart: batch.windowStart,
        key,
        location: output.destination.locate(key),
        records: selected.length,
        bytes: body.length,
      })
    }
    return written
  }
}

/** trafficType ACCEPT/REJECT keeps records of that verdict; status records always stay. */
function passesTrafficType(flowLog: FlowLogSpec, record: FlowRecord): boolean {
  if (flowLog.trafficType === 'ALL' || record.status !== LOG_STATUS.OK) return true
  return (record.action === ACTION.ACCEPT) === (flowLog.trafficType === 'ACCEPT')
}
