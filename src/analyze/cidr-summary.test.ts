import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { portRanges, portRangeText, summarizeAddresses } from './cidr-summary.js'

const limits = { maxEntries: 2, minPrefixV4: 16, minPrefixV6: 48 }

const cidrCases: { name: string; addresses: string[]; expect: string[] | null }[] = [
  { name: 'one address is a host route', addresses: ['203.0.113.5'], expect: ['203.0.113.5/32'] },
  {
    name: 'few enough stay hosts',
    addresses: ['203.0.113.5', '198.51.100.7'],
    expect: ['198.51.100.7/32', '203.0.113.5/32'],
  },
  { name: 'duplicates count once', addresses: ['10.0.0.1', '10.0.0.1'], expect: ['10.0.0.1/32'] },
  {
    name: 'the closest neighbours merge first',
    addresses: ['10.0.0.1', '10.0.0.2', '192.168.7.9'],
    expect: ['10.0.0.0/30', '192.168.7.9/32'],
  },
  {
    name: 'too spread to list: null (keep the rule)',
    addresses: ['1.1.1.1', '80.0.0.1', '200.0.0.1'],
    expect: null,
  },
  {
    name: 'IPv6 merges within its family',
    addresses: ['2001:db8::1', '2001:db8::2', '10.0.0.1'],
    expect: ['10.0.0.1/32', '2001:db8::/126'],
  },
]

for (const c of cidrCases) {
  test(`summarizeAddresses: ${c.name}`, () =>
    assert.deepEqual(summarizeAddresses(c.addresses, limits), c.expect))
}

const portCases: { name: string; ports: number[]; max: number; expect: string[] }[] = [
  { name: 'single ports', ports: [443, 80], max: 4, expect: ['80', '443'] },
  { name: 'records without a port (-1) join port 0', ports: [-1, 0, 7], max: 4, expect: ['-1-0', '7'] },
  { name: 'consecutive ports join', ports: [8000, 8001, 8002, 9000], max: 4, expect: ['8000-8002', '9000'] },
  {
    name: 'too many ranges: smallest gaps close first',
    ports: [1, 3, 100, 1000],
    max: 2,
    expect: ['1-100', '1000'],
  },
]

for (const c of portCases) {
  test(`portRanges: ${c.name}`, () =>
    assert.deepEqual(portRanges(c.ports, c.max).map(portRangeText), c.expect))
}

test('summarizeAddresses: many peers in few blocks are summarised without the greedy search', () => {
  const inOffice = Array.from({ length: 1000 }, (_, i) => `203.0.113.${i % 250}`).concat(
    Array.from({ length: 1000 }, (_, i) => `198.51.100.${i % 200}`),
  )
  assert.deepEqual(summarizeAddresses(inOffice, limits), ['198.51.100.0/24', '203.0.113.0/24'])
  const internet = Array.from({ length: 5000 }, (_, i) => `${(i % 200) + 1}.${i % 256}.0.1`)
  assert.equal(summarizeAddresses(internet, limits), null)
})

/** The join-one-gap-at-a-time definition portRanges must agree with (it joins them all at once). */
function joinedGreedily(ports: number[], maxRanges: number): string[] {
  const ranges: [number, number][] = []
  for (const p of [...new Set(ports)].sort((a, b) => a - b)) {
    const last = ranges[ranges.length - 1]
    if (last !== undefined && p === last[1] + 1) last[1] = p
    else ranges.push([p, p])
  }
  while (ranges.length > Math.max(1, maxRanges)) {
    let best = 0
    for (let i = 1; i + 1 < ranges.length; i++) {
      const gap = (ranges[i + 1]?.[0] ?? 0) - (ranges[i]?.[1] ?? 0)
      if (gap < (ranges[best + 1]?.[0] ?? 0) - (ranges[best]?.[1] ?? 0)) best = i
    }
    ranges.splice(best, 2, [ranges[best]?.[0] ?? 0, ranges[best + 1]?.[1] ?? 0])
  }
  return ranges.map(([from, to]) => (from === to ? String(from) : `${from}-${to}`))
}

test('portRanges joins the same gaps as joining the smallest one at a time, ties leftmost first', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 120 }),
      fc.integer({ min: 0, max: 6 }),
      (ports, max) => assert.deepEqual(portRanges(ports, max).map(portRangeText), joinedGreedily(ports, max)),
    ),
    { numRuns: 500 },
  )
})

test('many IPv4 peers as numbers summarise as the same addresses written as text do', () => {
  const text = (v: number) => `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`
  // Clustered values (a few networks, as a rule's real peers are) and a spread-out minority.
  const cluster = fc
    .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 10, max: 22 }))
    .chain(([base, bits]) =>
      fc.array(
        fc
          .integer({ min: 0, max: 2 ** (32 - bits) - 1 })
          .map((host) => ((base >>> (32 - bits)) * 2 ** (32 - bits) + host) | 0),
        { minLength: 600, maxLength: 900 },
      ),
    )
  const summary = fc.record({
    maxEntries: fc.integer({ min: 1, max: 8 }),
    minPrefixV4: fc.integer({ min: 0, max: 24 }),
    minPrefixV6: fc.constant(48),
  })
  fc.assert(
    fc.property(
      fc.array(cluster, { minLength: 1, maxLength: 3 }),
      fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 2 }),
      summary,
      (clusters, spread, l) => {
        const numbers = [...clusters.flat(), ...spread]
        assert.deepEqual(summarizeAddresses(numbers, l), summarizeAddresses(numbers.map(text), l))
      },
    ),
    { numRuns: 40, endOnFailure: true },
  )
})
