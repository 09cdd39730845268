import assert from 'node:assert/strict'
import { test } from 'node:test'
import { REJECT_REASON } from '../core/verdict.js'
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
      // Some ICMP: a protocol without ports is one conversation group of its own.
      proto: service === 53 ? 17 : next() < 0.1 ? 1 : 6,
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

test('DuckDB sorts the staged records a conversation group at a time, each in replay order, fields intact', async () => {
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
      // The in-memory replay order, stably sorted by group.
      const grouped = [...expected.placed].sort((a, b) => a.group - b.group)
      assert.deepEqual(got.map(shape), grouped.map(shape), `seed ${seed}`)
      assert.ok(new Set(got.map((p) => p.group)).size > 10, 'many groups')
      // A replay a group at a time (cleared between groups) judges each record as the replay of
      // all of them in time order does.
      const replay = new Replay(source.index, [policy])
      let group = Number.NaN
      const streamed = got.map((p) => {
        if (p.group !== group) {
          group = p.group
          replay.clear()
        }
        return replay.judge(p)
      })
      const whole = judgeAll(expected, policy)
      const position = new Map(expected.placed.map((p, i) => [p, i]))
      assert.deepEqual(
        streamed,
        grouped.map((p) => whole[position.get(p) ?? -1]),
        `seed ${seed}`,
      )
      // Accepted, rejected by no rule, and rejected as a late record of a closed or timed-out connection.
      assert.deepEqual(
        [...new Set(streamed)].sort((a, b) => a - b),
        [-(REJECT_REASON.NOT_ESTABLISHED + 1), -(REJECT_REASON.NO_MATCHING_RULE + 1), 0],
      )
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
  // A second policy that differs: no HTTPS in, DNS out to anyone.
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
    const together = new Replay(placement.index, [policy, other])
    const first: number[] = []
    const second: number[] = []
    for (const p of placement.placed) {
      together.judge(p)
      first.push(together.causes[0] ?? 0)
      second.push(together.causes[1] ?? 0)
    }
    together.finish()
    assert.deepEqual(Int32Array.from(first), judgeAll(placement, policy), `seed ${seed}`)
    assert.deepEqual(Int32Array.from(second), judgeAll(placement, other), `seed ${seed}`)
    assert.notDeepEqual(first, second)
  }
})
