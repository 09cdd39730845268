import type { FlowLogSpec, NetworkConfig } from '../core/network.js'
import type { PacketPipeline } from './packet-pipeline.js'
import type { WindowSink } from './window-sink.js'

/**
 * Changes the flow logs a running pipeline writes, from `current`'s to `next`'s, at `time` (unix
 * seconds), without a restart and without a cost per packet:
 * - windows already due close first, for the flow logs that were running;
 * - a flow log removed has the windows still open written at once, partial, for it alone
 *   (exactly once: the writer forgets it right after), and nothing after;
 * - a flow log added starts at its next window boundary (the writer skips its earlier windows;
 *   a new interval gets its own aggregation table, started now);
 * - a flow log whose spec changed under the same id is both.
 * `ruleIds` is the policy the windows from now on are named by (compilePolicy(next, previous)).
 */
export function switchFlowLogs(
  pipeline: PacketPipeline,
  sink: WindowSink,
  current: NetworkConfig,
  next: NetworkConfig,
  ruleIds: readonly string[],
  time: number,
): { added: FlowLogSpec[]; removed: FlowLogSpec[] } {
  pipeline.advance(time)
  const { added, removed } = flowLogChanges(current, next)
  for (const interval of new Set(removed.map((f) => f.aggregationInterval))) {
    const ids = removed.filter((f) => f.aggregationInterval === interval).map((f) => f.id)
    for (const window of pipeline.openWindows(interval, time)) sink.submit(interval, window, ids)
  }
  const starts: Record<string, number> = {}
  for (const f of added) starts[f.id] = nextBoundary(time, f.aggregationInterval)
  sink.update(next, ruleIds, starts)
  pipeline.setFlowLogs(next, time)
  return { added, removed }
}

/** The start of the first window after the one holding `time` (unix seconds). */
export function nextBoundary(time: number, interval: number): number {
  return (Math.floor(time / interval) + 1) * interval
}

/** Flow logs that start and stop between two networks (one whose spec changed does both). */
export function flowLogChanges(
  current: NetworkConfig,
  next: NetworkConfig,
): { added: FlowLogSpec[]; removed: FlowLogSpec[] } {
  const before = new Map(current.flowLogs.map((f) => [f.id, JSON.stringify(f)]))
  const after = new Map(next.flowLogs.map((f) => [f.id, JSON.stringify(f)]))
  return {
    added: next.flowLogs.filter((f) => before.get(f.id) !== after.get(f.id)),
    removed: current.flowLogs.filter((f) => after.get(f.id) !== before.get(f.id)),
  }
}
