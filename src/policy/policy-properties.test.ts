import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { DIRECTION, type Direction, REJECT_REASON } from '../core/verdict.js'
import { compilePolicy } from './compile-policy.js'
import { ConnectionTracker } from './connection-tracker.js'
import { type GroupSpec, makeNetwork, type PacketSpec, packet, type RuleSpec, reply } from './test-kit.js'

// A small world, so random packets often hit rules and each other's connections.
const LOCAL = [
  { v4: '10.0.0.1', v6: '2001:db8::1' },
  { v4: '10.0.0.2', v6: '2001:db8::2' },
]
const REMOTE = {
  v4: ['10.0.0.2', '192.0.2.1', '198.51.100.1'],
  v6: ['2001:db8::2', '2001:db8::99', '2001:db9::5'],
}

const ruleArb: fc.Arbitrary<RuleSpec> = fc
  .record({
    protocol: fc.constantFrom<RuleSpec['protocol']>('tcp', 'udp', 'icmp', 'icmpv6', 'all', 47),
    ports: fc.constantFrom(null, '22', '80-443', '0-65535'),
    icmpType: fc.constantFrom(-1, 0, 3, 8, 128),
    icmpCode: fc.constantFrom(-1, 0, 4),
    peer: fc.constantFrom(
      '0.0.0.0/0',
      '::/0',
      '10.0.0.0/8',
      '192.0.2.0/24',
      '2001:db8::/32',
      '198.51.100.1/32',
      'sg-a',
      'sg-b',
    ),
  })
  .map((r) => {
    const icmp = r.protocol === 'icmp' || r.protocol === 'icmpv6'
    const ports = r.protocol === 'tcp' || r.protocol === 'udp' ? r.ports : null
    const icmpType = icmp ? r.icmpType : -1
    return { ...r, ports, icmpType, icmpCode: icmpType === -1 ? -1 : r.icmpCode }
  })

const groupArb: fc.Arbitrary<GroupSpec> = fc.record({
  inbound: fc.array(ruleArb, { maxLength: 4 }),
  outbound: fc.array(ruleArb, { maxLength: 4 }),
})

interface Step {
  iface: number
  direction: Direction
  spec: PacketSpec
  dt: number
}

const stepArb: fc.Arbitrary<Step> = fc
  .record({
    iface: fc.constantFrom(0, 1),
    direction: fc.constantFrom<Direction>(DIRECTION.INGRESS, DIRECTION.EGRESS, DIRECTION.UNKNOWN),
    v6: fc.boolean(),
    protocol: fc.constantFrom<'tcp' | 'udp' | 'icmp' | 47>('tcp', 'udp', 'icmp', 47),
    remote: fc.nat(2),
    stranger: fc.nat(2),
    srcPort: fc.constantFrom(22, 80, 443, 5353),
    dstPort: fc.constantFrom(22, 80, 443, 5353),
    flags: fc.constantFrom('S', 'SA', 'A', 'PA', 'FA', 'R'),
    icmpType: fc.constantFrom(0, 3, 8),
    icmpId: fc.constantFrom(1, 2),
    dt: fc.constantFrom(0, 0.5, 5, 40, 200),
  })
  .map((s) => {
    const family = s.v6 ? 'v6' : 'v4'
    const local = (LOCAL[s.iface] ?? LOCAL[0])![family]
    const remote = REMOTE[family][s.remote] ?? REMOTE[family][0]!
    const [src, dst] =
      s.direction === DIRECTION.EGRESS
        ? [local, remote]
        : s.direction === DIRECTION.INGRESS
          ? [remote, local]
          : [remote, REMOTE[family][s.stranger] ?? remote]
    const icmp = s.protocol === 'icmp'
    const spec: PacketSpec = {
      protocol: icmp ? (s.v6 ? 'icmpv6' : 'icmp') : s.protocol,
      src,
      dst,
      ...(s.protocol === 'tcp' || s.protocol === 'udp' ? { srcPort: s.srcPort, dstPort: s.dstPort } : {}),
      ...(s.protocol === 'tcp' ? { flags: s.flags } : {}),
      ...(icmp ? { icmpType: s.v6 ? s.icmpType + 128 : s.icmpType, icmpCode: 0, icmpId: s.icmpId } : {}),
    }
    return { iface: s.iface, direction: s.direction, spec, dt: s.dt }
  })

function tracker(groups: Record<string, GroupSpec>): ConnectionTracker {
  const network = makeNetwork(groups, [
    { id: 'eni-0', addresses: [LOCAL[0]!.v4, LOCAL[0]!.v6], groups: ['sg-a', 'sg-b'] },
    { id: 'eni-1', addresses: [LOCAL[1]!.v4, LOCAL[1]!.v6], groups: ['sg-b'] },
  ])
  return new ConnectionTracker(compilePolicy(network), 10_000)
}

const opposite = (d: Direction): Direction =>
  d === DIRECTION.INGRESS ? DIRECTION.EGRESS : d === DIRECTION.EGRESS ? DIRECTION.INGRESS : DIRECTION.UNKNOWN

const worldArb = fc.record({
  a: groupArb,
  b: groupArb,
  steps: fc.array(stepArb, { minLength: 1, maxLength: 25 }),
})

test('the reply to any accepted packet is accepted, and a rejected packet creates no state', () => {
  fc.assert(
    fc.property(worldArb, ({ a, b, steps }) => {
      const t = tracker({ 'sg-a': a, 'sg-b': b })
      let time = 1000
      for (const step of steps) {
        time += step.dt
        const before = t.size
        const created = t.stats.created
        const cause = t.judge(step.iface, step.direction, packet(step.spec), time)
        if (cause < 0) {
          // No state created (noticing that its own old connection expired may shrink the table).
          assert.ok(t.size <= before)
          assert.equal(t.stats.created, created)
          continue
        }
        const back = reply(step.spec, step.spec.protocol === 'tcp' ? { flags: 'A' } : {})
        time += 0.001
        const answer = t.judge(step.iface, opposite(step.direction), packet(back), time)
        assert.ok(answer >= 0, `reply rejected (${answer}) to ${JSON.stringify(step)}`)
      }
    }),
    { numRuns: 200 },
  )
})

test('the order of the rules in a group never changes a verdict', () => {
  const shuffle = <T>(list: readonly T[], keys: readonly number[]): T[] =>
    list
      .map((item, i) => ({ item, key: keys[i % Math.max(1, keys.length)] ?? 0 }))
      .sort((x, y) => x.key - y.key)
      .map((x) => x.item)
  const reorder = (g: GroupSpec, keys: number[]): GroupSpec => ({
    inbound: shuffle(g.inbound ?? [], keys),
    outbound: shuffle(g.outbound ?? [], keys.slice().reverse()),
  })
  fc.assert(
    fc.property(worldArb, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), ({ a, b, steps }, keys) => {
      const original = tracker({ 'sg-a': a, 'sg-b': b })
      const reordered = tracker({ 'sg-a': reorder(a, keys), 'sg-b': reorder(b, keys) })
      let time = 1000
      for (const step of steps) {
        time += step.dt
        const x = original.judge(step.iface, step.direction, packet(step.spec), time)
        const y = reordered.judge(step.iface, step.direction, packet(step.spec), time)
        const verdict = (c: number) =>
          c >= 0 ? 'accept' : c === -(REJECT_REASON.NOT_ESTABLISHED + 1) ? 'not-established' : 'no-rule'
        assert.equal(verdict(y), verdict(x))
      }
    }),
    { numRuns: 200 },
  )
})
