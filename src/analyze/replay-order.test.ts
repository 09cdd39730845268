import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compilePolicy } from '../policy/compile-policy.js'
import { makeNetwork } from '../policy/test-kit.js'
import { toFlow } from './flow.js'
import type { FlowRow } from './flow-row.js'
import { judgeAll, type PlacedFlow, placeFlows, Replay } from './rejudge.js'
import { stageForReplay } from './replay-order.js'
import { row } from './test-rows.js'

const network = makeNetwork(
  {
    'sg-web': {
      inbound: [{ id: 'web-https', protocol: 'tcp', ports: '443', peer: '0.0.0.0/0' }],
      outbound: [{ id: 'web-dns', protocol: 'udp', ports: '53', peer: '10.0.0.2/32' }],
    },
  },
  [
    { id: 'eni-web', addresses: ['10.0.1.10'], groups: ['sg-web'] },
    { id: 'eni-db', addresses: ['10.0.2.20'], groups: ['sg-web'] },
  ],
)
const policy = compilePolicy(network)

/** A small deterministic generator, so a failure replays. */
function random(seed: number): () => number {
  let s = seed
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648
    return s / 2147483648
  }
}

/** Records with many ties on start time, both sides of connections, unknown interfaces, some with no time. */
function records(n: number, seed: number): FlowRow[] {
  const next = random(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T
  return Array.from({ length: n }, () => {
    const inbound = next() < 0.5
    const web = pick(['10.0.1.10', '10.0.2.20'])
    const peer = pick(['203.0.113.5', '198.51.100.7', '10.0.0.2', '192.0.2.1'])
    const service = pick([443, 53, 22])
    const client = 40000 + Math.floor(next() * 4)
    const r = row({
      iface: pick(['eni-web', 'eni-db', 'eni-other']),
      src: inbound ? peer : web,
      dst: inbound ? web : peer,
      sport: inbound ? client : service,
      dport: inbound ? service : client,
      proto: service === 53 ? 17 : 6,
      at: Math.floor(next() * 20) + (next() < 0.3 ? 0.5 : 0),
      duration: Math.floor(next() * 300),
      action: next() < 0.8 ? 'ACCEPT' : 'REJECT',
      ...(next() < 0.5 ? { flags: pick([2, 18, 19, 16, 1, 4]) } : {}),
      direction: inbound ? 'ingress' : 'egress',
      ...(next() < 0.2 ? { rule: pick(['web-https', 'web-dns']) } : {}),
    })
    if (next() < 0.05) r.start = '-'
    return r
  })
}

const shape = (p: PlacedFlow) => ({
  iface: p.iface,
  direction: p.direction,
  rank: p.rank,
  time: p.time,
  words: [...p.words],
  flow: { ...p.flow, instanceId: null, subnetId: null, vpcId: null, logStatus: null, rejectReason: null },
})

test('DuckDB sorts the staged records into the order of the in-memory sort, fields intact', async () => {
  for (const seed of [1, 2, 3]) {
    const rows = records(3000, seed)
    const expected = placeFlows(rows.map(toFlow), network, policy)
    const source = await stageForReplay(rows, network, policy)
    try {
      const got: PlacedFlow[] = []
      for await (const batch of source.batches()) got.push(...batch)
      assert.equal(source.placed, expected.placed.length)
      assert.deepEqual(source.skipped, expected.skipped)
      assert.equal(source.records, rows.length)
      assert.deepEqual(got.map(shape), expected.placed.map(shape), `seed ${seed}`)
      // And a streamed replay judges them as the replay of the whole array does.
      const replay = new Replay(source.index, [{ policy, capacity: 1000 }])
      const streamed = Int32Array.from(got, (p) => replay.judge(p))
      assert.deepEqual(streamed, judgeAll(expected, policy, 1000))
    } finally {
      source.close()
    }
  }
})

test('no records: nothing to replay, and the staging is cleaned up', async () => {
  const source = await stageForReplay([], network, policy)
  const batches: PlacedFlow[][] = []
  for await (const batch of source.batches()) batches.push(batch)
  source.close()
  assert.deepEqual(batches, [])
  assert.equal(source.placed, 0)
})

test('policies replayed in step (one packet, one touch for all) judge as each replayed alone', () => {
  // A second policy that differs: no HTTPS in, DNS out to anyone; and a table small enough to fill.
  const other = compilePolicy(
    makeNetwork(
      {
        'sg-web': {
          inbound: [{ id: 'web-ssh', protocol: 'tcp', ports: '22', peer: '0.0.0.0/0' }],
          outbound: [{ id: 'web-dns', protocol: 'udp', ports: '53', peer: '0.0.0.0/0' }],
        },
      },
      [
        { id: 'eni-web', addresses: ['10.0.1.10'], groups: ['sg-web'] },
        { id: 'eni-db', addresses: ['10.0.2.20'], groups: ['sg-web'] },
      ],
    ),
  )
  for (const seed of [4, 5, 6]) {
    // Spread over 15 minutes, so that end-of-record touches come between records and keep UDP
    // connections (30 s until answered) open or let them expire.
    const spread = records(3000, seed).map((r, i) => {
      const shift = (i * 7919) % 900
      return { ...r, start: Number(r.start) + shift, end: Number(r.end) + shift }
    })
    const placement = placeFlows(spread.map(toFlow), network, policy)
    const together = new Replay(placement.index, [
      { policy, capacity: 1000 },
      { policy: other, capacity: 64 },
    ])
    const first: number[] = []
    const second: number[] = []
    for (const p of placement.placed) {
      together.judge(p)
      first.push(together.causes[0] ?? 0)
      second.push(together.causes[1] ?? 0)
    }
    together.finish()
    assert.deepEqual(Int32Array.from(first), judgeAll(placement, policy, 1000), `seed ${seed}`)
    assert.deepEqual(Int32Array.from(second), judgeAll(placement, other, 64), `seed ${seed}`)
    assert.notDeepEqual(first, second)
  }
})
