import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { parseAddress } from '../core/address.js'
import { type Frame, LINKTYPE } from '../core/frame.js'
import type { FlowLogSpec, NetworkConfig } from '../core/network.js'
import { testFlowLog, testInterface, testNetwork } from '../format/test-fixtures.js'
import { compilePolicy } from '../policy/compile-policy.js'
import { flowLogChanges, nextBoundary, switchFlowLogs } from './flow-log-switch.js'
import { PacketPipeline } from './packet-pipeline.js'
import { InlineWindowSink } from './window-sink.js'
import type { WrittenFile } from './window-writer.js'

const dir = mkdtempSync(join(tmpdir(), 'flowlog-switch-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const A = '10.0.1.10'
const B = '10.0.1.11'
const FIELDS = ['interface-id', 'srcport', 'dstport', 'packets', 'action', 'log-status', 'rule-id']

/** A raw IPv4 UDP packet from A to B (20 + 8 bytes), source port `port`. */
function udp(port: number, time: number): Frame {
  const data = new Uint8Array(28)
  const view = new DataView(data.buffer)
  data[0] = 0x45
  view.setUint16(2, 28)
  data[8] = 64
  data[9] = 17
  const src = new Uint32Array(4)
  const dst = new Uint32Array(4)
  parseAddress(A, src)
  parseAddress(B, dst)
  view.setUint32(12, src[3]!)
  view.setUint32(16, dst[3]!)
  view.setUint16(20, port)
  view.setUint16(22, 53)
  view.setUint16(24, 8)
  return {
    data,
    offset: 0,
    capturedLength: 28,
    originalLength: 28,
    time,
    linkType: LINKTYPE.RAW,
    device: null,
  }
}

function flowLog(id: string, interval: number, resource = 'vpc-0a1'): FlowLogSpec {
  return testFlowLog({
    id,
    resource,
    aggregationInterval: interval,
    fields: FIELDS,
    fileFormat: 'jsonl',
    compression: 'none',
    destination: pathToFileURL(join(dir, id)).href,
  })
}

function network(flowLogs: FlowLogSpec[], inbound: NetworkConfig['securityGroups'][0]['inbound'] = []) {
  return testNetwork(
    [
      testInterface('eni-a', [A], { securityGroups: ['sg-1'] }),
      testInterface('eni-b', [B], { securityGroups: ['sg-1'] }),
    ],
    {
      flowLogs,
      securityGroups: [
        {
          id: 'sg-1',
          vpc: 'vpc-0a1',
          description: null,
          inbound,
          outbound: [
            {
              id: 'sgr-out',
              protocol: 'all',
              ports: null,
              icmpType: -1,
              icmpCode: -1,
              peer: '0.0.0.0/0',
              description: null,
            },
          ],
        },
      ],
    },
  )
}

/** A pipeline and an inline sink wired as the live daemon wires them, its clock started at `start`. */
function running(first: NetworkConfig, start: number) {
  let policy = compilePolicy(first)
  let current = first
  const sink = new InlineWindowSink({ network: first, ruleIds: policy.ruleIds })
  const pipeline = new PacketPipeline(first, policy, {
    lateness: 1,
    onWindow: (interval, window) => sink.submit(interval, window),
  })
  sink.onRecycle = (interval, buffer) => pipeline.recycle(interval, buffer)
  pipeline.start(start)
  return {
    pipeline,
    sink,
    apply(next: NetworkConfig, time: number) {
      policy = compilePolicy(next, policy)
      const changes = switchFlowLogs(pipeline, sink, current, next, policy.ruleIds, time)
      pipeline.tracker.setPolicy(policy)
      current = next
      return changes
    },
  }
}

type Row = Record<string, unknown>

function rowsOf(file: WrittenFile): Row[] {
  return readFileSync(file.location, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Row)
}

/** Each file of a flow log as window start → the source ports of its OK records (per interface). */
function ports(files: readonly WrittenFile[], id: string): Record<number, string[]> {
  const out: Record<number, string[]> = {}
  for (const f of files.filter((x) => x.flowLogId === id)) {
    assert.equal(out[f.windowStart], undefined, `${id}: one file per window (${f.windowStart})`)
    out[f.windowStart] = rowsOf(f)
      .filter((r) => r['log-status'] === 'OK')
      .map((r) => `${r['interface-id']}:${r.srcport}`)
      .sort()
  }
  return out
}

describe('switchFlowLogs: flow logs added and removed while packets flow', () => {
  test('an added flow log starts at its next window boundary; a removed one writes its open window once, partial, and nothing after', async () => {
    const flA = flowLog('fl-a', 10)
    const flB = flowLog('fl-b', 10, 'eni-b')
    const flC = flowLog('fl-c', 5)
    const live = running(network([flA]), 1000)
    const { pipeline, sink } = live
    pipeline.process(udp(1001, 1001))
    pipeline.process(udp(1003, 1003))

    // fl-b shares fl-a's interval (its table); fl-c has an interval of its own (a new table).
    const first = live.apply(network([flA, flB, flC]), 1004)
    assert.deepEqual(
      first.added.map((f) => f.id),
      ['fl-b', 'fl-c'],
    )
    assert.deepEqual(first.removed, [])
    pipeline.process(udp(1006, 1006))
    pipeline.process(udp(1012, 1012))

    // Both removed mid-window: their open windows go out at once, partial.
    const second = live.apply(network([flA]), 1013)
    assert.deepEqual(
      second.removed.map((f) => f.id),
      ['fl-b', 'fl-c'],
    )
    await sink.drain()
    const atRemoval = ports(sink.files, 'fl-b')
    assert.deepEqual(atRemoval, { 1010: ['eni-b:1012'] }, "fl-b's partial window is written at its removal")

    pipeline.process(udp(1014, 1014))
    pipeline.process(udp(1016, 1016))
    pipeline.advance(1031)
    pipeline.finish(1031)
    await sink.drain()
    const files = sink.files

    assert.deepEqual(
      ports(files, 'fl-a'),
      {
        1000: ['eni-a:1001', 'eni-a:1003', 'eni-a:1006', 'eni-b:1001', 'eni-b:1003', 'eni-b:1006'],
        1010: ['eni-a:1012', 'eni-a:1014', 'eni-a:1016', 'eni-b:1012', 'eni-b:1014', 'eni-b:1016'],
        1020: [],
        1030: [],
      },
      'the flow log that stayed runs on undisturbed',
    )
    assert.deepEqual(
      ports(files, 'fl-b'),
      { 1010: ['eni-b:1012'] },
      'fl-b: nothing before its first boundary (1010), only its interface, its last window exactly once',
    )
    assert.deepEqual(
      ports(files, 'fl-c'),
      { 1005: ['eni-a:1006', 'eni-b:1006'], 1010: ['eni-a:1012', 'eni-b:1012'] },
      'fl-c: from 1005 on, its last window cut at the removal (1013)',
    )
    await sink.close()
  })

  test('a flow log removed and added again in one window starts afresh at the next boundary', async () => {
    const flA = flowLog('fl-r', 10)
    const live = running(network([flA]), 2000)
    live.pipeline.process(udp(2001, 2001))
    live.apply(network([]), 2002)
    live.pipeline.process(udp(2003, 2003))
    live.apply(network([flA]), 2004)
    live.pipeline.process(udp(2005, 2005))
    live.pipeline.process(udp(2011, 2011))
    live.pipeline.finish(2011)
    await live.sink.drain()
    assert.deepEqual(ports(live.sink.files, 'fl-r'), {
      2000: ['eni-a:2001', 'eni-b:2001'],
      2010: ['eni-a:2011', 'eni-b:2011'],
    })
    await live.sink.close()
  })

  test('a rule authorized live accepts new connections at once, and their records name it', async () => {
    const fl = flowLog('fl-g', 10)
    const live = running(network([fl]), 3000)
    live.pipeline.process(udp(3001, 3001))
    const allow = {
      id: 'sgr-dns',
      protocol: 'udp' as const,
      ports: '53',
      icmpType: -1,
      icmpCode: -1,
      peer: '10.0.0.0/16',
      description: null,
    }
    const changes = live.apply(network([fl], [allow]), 3002)
    assert.deepEqual(changes, { added: [], removed: [] })
    live.pipeline.process(udp(3003, 3003))
    live.pipeline.finish(3003)
    await live.sink.drain()
    const rows = live.sink.files.flatMap(rowsOf).filter((r) => r['interface-id'] === 'eni-b')
    const byPort = Object.fromEntries(rows.map((r) => [r.srcport, [r.action, r['rule-id']]]))
    assert.deepEqual(byPort, { 3001: ['REJECT', null], 3003: ['ACCEPT', 'sgr-dns'] })
    await live.sink.close()
  })
})

describe('flowLogChanges and nextBoundary', () => {
  test('a spec changed under the same id is removed and added', () => {
    const before = network([flowLog('fl-1', 10), flowLog('fl-2', 10)])
    const after = network([flowLog('fl-1', 10), flowLog('fl-2', 60)])
    const { added, removed } = flowLogChanges(before, after)
    assert.deepEqual(
      added.map((f) => [f.id, f.aggregationInterval]),
      [['fl-2', 60]],
    )
    assert.deepEqual(
      removed.map((f) => [f.id, f.aggregationInterval]),
      [['fl-2', 10]],
    )
  })

  test('the next boundary is the start of the next window, also on a boundary', () => {
    assert.equal(nextBoundary(1004.5, 10), 1010)
    assert.equal(nextBoundary(1010, 10), 1020)
    assert.equal(nextBoundary(59.999, 60), 60)
  })
})
