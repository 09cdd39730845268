import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { DIRECTION_NAMES } from '../core/verdict.js'
import { liveScratchDirs } from '../ops/scratch-dirs.js'
import { ChangedFlows } from './changed-flows.js'
import { protocolName } from './detections/finding.js'
import type { Flow } from './flow.js'
import type { PlacedFlow } from './rejudge.js'
import type { FlowChange, Verdict } from './what-if.js'

/**
 * ChangedFlows must give exactly what what-if's in-memory map gave before it: one flow per
 * interface, direction, protocol, addresses, ports and (rule, reason) of both verdicts; records,
 * packets and bytes summed; first time and recorded action of its first record; latest end; flows
 * in first time order, ties in the order their first record came (a stable sort of the map).
 */

const T0 = 1717243200
const verdicts: Verdict[] = [
  { action: 'ACCEPT', rule: 'a-ssh', reason: null },
  { action: 'ACCEPT', rule: 'b-web', reason: null },
  { action: 'ACCEPT', rule: null, reason: null },
  { action: 'REJECT', rule: null, reason: 'no-matching-rule' },
  { action: 'REJECT', rule: null, reason: 'connection-cut' },
  // Another object with the same rule and reason: the same flow, as the map's text key made it.
  { action: 'REJECT', rule: null, reason: 'no-matching-rule' },
]
const responsible = (a: Verdict, b: Verdict) => `${a.rule ?? a.reason} -> ${b.rule ?? b.reason}`

interface Change {
  iface: string
  p: PlacedFlow
  current: Verdict
  proposed: Verdict
}

/** what-if's grouping before ChangedFlows, as it was written. */
function inMemory(changed: readonly Change[]): FlowChange[] {
  const changes = new Map<string, FlowChange>()
  for (const { iface, p, current: a, proposed: b } of changed) {
    const f = p.flow
    const key = [
      iface,
      p.direction,
      f.protocol,
      f.srcaddr,
      f.srcport,
      f.dstaddr,
      f.dstport,
      a.rule,
      a.reason,
      b.rule,
      b.reason,
    ].join(' ')
    let change = changes.get(key)
    if (change === undefined) {
      change = {
        interfaceId: iface,
        direction: DIRECTION_NAMES[p.direction],
        protocol: protocolName(f.protocol),
        srcaddr: f.srcaddr ?? '-',
        srcport: f.srcport,
        dstaddr: f.dstaddr ?? '-',
        dstport: f.dstport,
        records: 0,
        packets: 0,
        bytes: 0,
        first: p.time,
        last: f.end ?? p.time,
        recorded: f.action,
        current: a,
        proposed: b,
        responsible: responsible(a, b),
      }
      changes.set(key, change)
    }
    change.records++
    change.packets += f.packets
    change.bytes += f.bytes
    change.last = Math.max(change.last, f.end ?? p.time)
  }
  return [...changes.values()].sort((x, y) => x.first - y.first)
}

/**
 * ChangedFlows fed the changes (in replay order, their seq their index) in the order a replay of
 * conversation groups meets them: grouped by ports (a stable sort), or, with `grouped` false, as they are.
 */
async function staged(changed: readonly Change[], grouped = true): Promise<FlowChange[]> {
  const flows = new ChangedFlows(responsible)
  for (const [seq, c] of changed.entries()) c.p.seq = seq
  const groupOf = (c: Change) => (c.p.flow.srcport ?? 0) * 65536 + (c.p.flow.dstport ?? 0)
  const order = grouped ? [...changed].sort((a, b) => groupOf(a) - groupOf(b)) : changed
  for (const c of order) flows.add(c.iface, c.p, c.current, c.proposed)
  const list = await flows.finish()
  try {
    const out: FlowChange[] = []
    for await (const batch of list.batches()) out.push(...batch)
    assert.equal(list.count, out.length)
    // Read twice (the table's widths, then its lines): the same flows in the same order.
    const again: FlowChange[] = []
    for await (const batch of list.batches()) again.push(...batch)
    assert.deepEqual(again, out)
    return out
  } finally {
    list.close()
  }
}

/** A changed record of few distinct values, so that flows repeat and first times tie. */
const change = fc
  .record({
    iface: fc.constantFrom('eni-1', 'eni-2'),
    direction: fc.constantFrom(0, 1, 2),
    protocol: fc.constantFrom(6, 17, 1, null),
    src: fc.constantFrom('203.0.113.10', '198.51.100.7', '10.0.0.1'),
    srcport: fc.constantFrom(50000, 443, 0, null),
    dst: fc.constantFrom('10.0.0.1', '10.0.0.2'),
    dstport: fc.constantFrom(22, 443, null),
    time: fc.integer({ min: 0, max: 5 }),
    duration: fc.option(fc.integer({ min: 0, max: 120 }), { nil: null }),
    packets: fc.integer({ min: 0, max: 1_000_000 }),
    bytes: fc.integer({ min: 0, max: 2 ** 40 }),
    action: fc.constantFrom('ACCEPT', 'REJECT', null),
    current: fc.integer({ min: 0, max: verdicts.length - 1 }),
    proposed: fc.integer({ min: 0, max: verdicts.length - 1 }),
  })
  .map(
    (c): Change => ({
      iface: c.iface,
      current: verdicts[c.current] ?? verdicts[0]!,
      proposed: verdicts[c.proposed] ?? verdicts[0]!,
      p: placed({
        direction: c.direction as PlacedFlow['direction'],
        time: T0 + c.time,
        flow: {
          protocol: c.protocol,
          srcaddr: c.src,
          srcport: c.srcport,
          dstaddr: c.dst,
          dstport: c.dstport,
          end: c.duration === null ? null : T0 + c.time + c.duration,
          packets: c.packets,
          bytes: c.bytes,
          action: c.action as Flow['action'],
        },
      }),
    }),
  )

function placed(spec: { direction: PlacedFlow['direction']; time: number; flow: Partial<Flow> }): PlacedFlow {
  const flow: Flow = {
    interfaceId: null,
    instanceId: null,
    subnetId: null,
    vpcId: null,
    srcaddr: null,
    dstaddr: null,
    ifSrcaddr: null,
    ifDstaddr: null,
    srcport: null,
    dstport: null,
    protocol: null,
    packets: 0,
    bytes: 0,
    start: spec.time,
    end: null,
    action: null,
    logStatus: null,
    direction: null,
    tcpFlags: null,
    ruleId: null,
    rejectReason: null,
    ...spec.flow,
  }
  return {
    flow,
    iface: 0,
    direction: spec.direction,
    time: spec.time,
    rank: 0,
    words: new Uint32Array(8),
    group: 0,
    seq: 0,
  }
}

test('changed flows are grouped, summed and ordered as the in-memory map and its stable sort did', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(change, { maxLength: 300 }), async (changed) => {
      assert.deepEqual(await staged(changed), inMemory(changed))
      assert.deepEqual(await staged(changed, false), inMemory(changed))
    }),
    { numRuns: 40 },
  )
  assert.deepEqual(liveScratchDirs(), [])
})

test('thousands of changed flows, over several DuckDB chunks, in the same order', async () => {
  // 12,000 records of 4,000 flows whose first times tie in runs of 7 (the order within a run is
  // the order their first record came), records of one flow far apart.
  const changed: Change[] = []
  for (let i = 0; i < 12_000; i++) {
    const flow = (i * 7919) % 4000
    changed.push({
      iface: flow % 3 === 0 ? 'eni-2' : 'eni-1',
      current: verdicts[0]!,
      proposed: verdicts[3 + (flow % 2)]!,
      p: placed({
        direction: (flow % 2) as PlacedFlow['direction'],
        time: T0 + Math.floor(i / 7),
        flow: {
          protocol: 6,
          srcaddr: `198.51.${flow >> 8}.${flow & 255}`,
          srcport: 40000 + (flow % 97),
          dstaddr: '10.0.0.1',
          dstport: 22,
          end: T0 + Math.floor(i / 7) + (i % 5),
          packets: i % 13,
          bytes: 60 * (i % 29),
          action: i % 3 === 0 ? 'REJECT' : 'ACCEPT',
        },
      }),
    })
  }
  const out = await staged(changed)
  assert.equal(out.length, 4000)
  assert.deepEqual(out, inMemory(changed))
})

test('no changed record: nothing staged, nothing to remove', async () => {
  const list = await new ChangedFlows(responsible).finish()
  assert.equal(list.count, 0)
  for await (const _ of list.batches()) assert.fail('a batch of no changes')
  list.close()
  assert.deepEqual(liveScratchDirs(), [])
})
