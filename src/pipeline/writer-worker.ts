import { parentPort, workerData } from 'node:worker_threads'
import { windowBatch } from '../aggregate/closed-window.js'
import type { ClosedWindow } from '../core/flow-record.js'
import type { NetworkConfig } from '../core/network.js'
import { WindowWriter, type WriterSetup } from './window-writer.js'

/**
 * The writer thread: formatting and gzip cost as much as the packet path (DESIGN 8), so they run
 * here while the main thread keeps reading packets. Windows are written in the order received.
 */
const writer = new WindowWriter(workerData as WriterSetup, (o) =>
  parentPort?.postMessage({
    outcome: {
      flowLogId: o.entry.flowLogId,
      key: o.entry.key,
      delivered: o.delivered,
      error: o.error ?? null,
    },
  }),
)
let chain: Promise<void> = Promise.resolve()

parentPort?.on(
  'message',
  (message: {
    id: number
    interval: number
    window: ClosedWindow
    only?: string[]
    ruleIds?: string[]
    settle?: number
    update?: { network: NetworkConfig; ruleIds: string[]; starts: Record<string, number> }
  }) => {
    if (message.settle !== undefined) {
      // After every window submitted so far: wait for their deliveries, up to the deadline.
      const { id, settle } = message
      chain = chain.then(async () => {
        const settled = await writer.settleDelivery(settle)
        parentPort?.postMessage({ id, settled })
      })
      return
    }
    if (message.update !== undefined) {
      // The flow logs changed live; queued so windows already submitted go to the flow logs then.
      const { network, ruleIds, starts } = message.update
      chain = chain.then(() => writer.update(network, ruleIds, starts))
      return
    }
    if (message.ruleIds !== undefined) {
      // A live reload's rule list; queued so windows already submitted are named as before.
      const ruleIds = message.ruleIds
      chain = chain.then(() => writer.setRuleIds(ruleIds))
      return
    }
    chain = chain.then(async () => {
      try {
        const { interval, window } = message
        const batch = windowBatch(window)
        // The window's table, read and emptied: back to the packet thread for a later window.
        if (window.slots !== null) {
          parentPort?.postMessage({ recycle: { interval, buffer: window.slots } }, [window.slots])
        }
        const files = await writer.write(interval, batch, message.only)
        parentPort?.postMessage({ id: message.id, files })
      } catch (error) {
        parentPort?.postMessage({
          id: message.id,
          error:
            error instanceof Error
              ? { message: error.message, code: (error as { code?: string }).code }
              : { message: String(error) },
        })
      }
    })
  },
)
