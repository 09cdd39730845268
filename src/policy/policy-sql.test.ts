import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import type { Flow } from '../analyze/flow.js'
import { RuleMatcher } from '../analyze/rule-match.js'
import { formatAddress, ipv4Value, parseAddress, parseCidr } from '../core/address.js'
import type { NetworkConfig, Protocol, SecurityGroupRule } from '../core/network.js'
import { PacketView } from '../core/packet-view.js'
import { DIRECTION, type Direction } from '../core/verdict.js'
import { type CompiledPolicy, compilePolicy, protocolNumber } from './compile-policy.js'
import { platformRules, vpcResolvers } from './platform-services.js'
import {
  canonicalIpv4Sql,
  evaluateSql,
  ipv4ValueSql,
  type RecordSql,
  type RuleRecordSql,
  ruleMatchSql,
} from './policy-sql.js'
import { makeNetwork, seededRandom } from './test-kit.js'

/**
 * The SQL forms of the policy against the JavaScript engine: random configs and records biased to
 * the edges of the rules (prefix bounds and ports ±1, member addresses), judged both ways; the
 * first record on which they differ fails the test with everything needed to reproduce it.
 */

const MAX_V4 = 0xffffffff

let connection: DuckDBConnection
before(async () => {
  connection = await (await DuckDBInstance.create(':memory:')).connect()
})
after(() => connection.closeSync())

/** A seeded generator (test-kit's seededRandom) with the draws the cases need. */
class Random {
  readonly next: () => number
  constructor(seed: number) {
    this.next = seededRandom(seed)
  }
  /** An integer lo..hi inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1))
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)]
    if (item === undefined) throw new Error('pick from an empty list')
    return item
  }
  chance(p: number): boolean {
    return this.next() < p
  }
}

const dotted = (value: number) => formatAddress([0, 0, 0xffff, value >>> 0])

// ---------------------------------------------------------------------------------------------
// Random configs

/** Addresses near each other, so that rules, members and records meet. */
function randomV4(rand: Random): number {
  const roll = rand.next()
  if (roll < 0.6)
    return ((10 << 24) | (rand.int(0, 2) << 16) | (rand.int(0, 3) << 8) | rand.int(0, 255)) >>> 0
  if (roll < 0.7) return ((169 << 24) | (254 << 16) | (169 << 8) | rand.int(0, 255)) >>> 0
  if (roll < 0.8) return ((172 << 24) | (16 << 16) | (rand.int(0, 15) << 8) | rand.int(0, 255)) >>> 0
  return rand.int(0, MAX_V4)
}

const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'tcp', 'udp', 'icmp', 'icmpv6', 'all', 6, 17, 50, 1]
const PORTS = [0, 1, 22, 53, 67, 68, 80, 443, 1024, 5432, 8080, 65534, 65535]

function randomPorts(rand: Random, protocol: Protocol): string | null {
  // A validated config has ports only on TCP and UDP; the engine must ignore them elsewhere.
  const ported = protocol === 'tcp' || protocol === 'udp' || protocol === 6 || protocol === 17
  if (!ported && !rand.chance(0.1)) return null
  const roll = rand.next()
  if (roll < 0.25) return null
  const a = rand.chance(0.5) ? rand.pick(PORTS) : rand.int(0, 65535)
  if (roll < 0.6) return String(a)
  const b = rand.chance(0.3) ? rand.pick(PORTS) : Math.min(65535, a + rand.int(0, 2000))
  // Now and then a range written backwards, which allows no port.
  return rand.chance(0.05) ? `${Math.max(a, b)}-${Math.min(a, b)}` : `${Math.min(a, b)}-${Math.max(a, b)}`
}

const V6_PEERS = [
  '::/0',
  '2001:db8::/32',
  // IPv4-mapped prefixes written in IPv6: the engine takes them as IPv4 (prefix >= 96).
  '::ffff:10.0.0.0/104',
  '::ffff:0:0/96',
  '::ffff:10.0.1.5',
  // Contains every mapped address but is shorter than 96 bits: IPv6 only.
  '::ffff:0:0/80',
  '::/96',
]

function randomPeer(rand: Random, groups: readonly string[]): string {
  const roll = rand.next()
  if (roll < 0.55) {
    // Host bits left in on purpose: the engines clear them.
    const prefix = rand.chance(0.5) ? rand.pick([0, 1, 8, 16, 23, 24, 30, 31, 32]) : rand.int(0, 32)
    return `${dotted(randomV4(rand))}/${prefix}`
  }
  if (roll < 0.8) return rand.pick([...groups, 'sg-nobody'])
  if (roll < 0.92) return rand.pick(V6_PEERS)
  if (roll < 0.96) return dotted(randomV4(rand))
  return rand.pick(['10.0.0.0/33', '10.0.0.300/8'])
}

function randomRule(rand: Random, id: string, groups: readonly string[]): SecurityGroupRule {
  const protocol = rand.pick(PROTOCOLS)
  return {
    id,
    protocol,
    ports: randomPorts(rand, protocol),
    icmpType: protocol === 'icmp' && rand.chance(0.5) ? 8 : -1,
    icmpCode: -1,
    peer: randomPeer(rand, groups),
    description: null,
  }
}

/** Several VPCs (one IPv6-only, whose interfaces have no DNS resolver), groups and interfaces. */
function randomNetwork(rand: Random): NetworkConfig {
  const vpcs = Array.from({ length: rand.int(1, 3) }, (_, v) => {
    const cidrs = rand.chance(0.2) ? [`2001:db8:${v}::/56`] : [`10.${v}.0.0/16`, `2001:db8:${v}::/56`]
    return {
      id: `vpc-${v}`,
      cidrs,
      subnets: Array.from({ length: rand.int(1, 2) }, (_, s) => ({
        id: `subnet-${v}-${s}`,
        cidrs,
        az: null,
      })),
    }
  })
  const subnets = vpcs.flatMap((v) => v.subnets.map((s) => s.id))
  const groupIds = Array.from({ length: rand.int(2, 6) }, (_, g) => `sg-${g}`)
  const securityGroups = groupIds.map((id) => {
    const rules = (kind: string) =>
      Array.from({ length: rand.int(0, 5) }, (_, i) => randomRule(rand, `${id}-${kind}-${i + 1}`, groupIds))
    return { id, vpc: null, description: null, inbound: rules('in'), outbound: rules('out') }
  })
  const interfaces = Array.from({ length: rand.int(2, 8) }, (_, i) => ({
    id: `eni-${i}`,
    instance: null,
    subnet: rand.pick(subnets),
    mac: null,
    addresses: Array.from({ length: rand.int(1, 2) }, () =>
      rand.chance(0.1) ? rand.pick(['2001:db8::7', '::ffff:10.0.1.9']) : dotted(randomV4(rand)),
    ),
    device: null,
    // Now and then a group the config does not define, which allows nothing.
    securityGroups: Array.from({ length: rand.int(1, 3) }, () =>
      rand.chance(0.05) ? 'sg-undefined' : rand.pick(groupIds),
    ),
  }))
  return {
    account: '123456789012',
    region: 'kr1',
    vpcs,
    securityGroups,
    interfaces,
    flowLogs: [],
    limits: { flowTableCapacity: 1000, connectionTableCapacity: 1000 },
  }
}

// ---------------------------------------------------------------------------------------------
// Records

interface TestRecord {
  iface: number
  direction: Direction
  protocol: number
  dstport: number
  src: number
  dst: number
}

/** Every rule the engines know of a config: its groups' and the platform services' of each VPC. */
function allRules(network: NetworkConfig): SecurityGroupRule[] {
  const platform = [...new Set(vpcResolvers(network).map((r) => (r === null ? '' : r.join('.'))))].map(
    (key) => platformRules(key === '' ? null : Uint32Array.from(key.split('.').map(Number))),
  )
  return [
    ...network.securityGroups.flatMap((g) => [...g.inbound, ...g.outbound]),
    ...platform.flatMap((p) => [...p.inbound, ...p.outbound]),
  ]
}

/** The IPv4 values at the edges of a CIDR's text: each bound, and one either side; none for IPv6. */
function cidrEdges(text: string): number[] {
  const cidr = parseCidr(text)
  if (typeof cidr === 'string' || cidr.words[2] !== 0xffff || cidr.prefix < 96) return []
  const lo = cidr.words[3] ?? 0
  const hi = lo + 2 ** (128 - cidr.prefix) - 1
  return [lo - 1, lo, lo + 1, hi - 1, hi, hi + 1].filter((v) => v >= 0 && v <= MAX_V4)
}

/** The edges of a rule's peer: of its CIDR, or of the addresses of the group's members. */
function peerEdges(network: NetworkConfig, peer: string): number[] {
  const members = network.interfaces.filter((n) => n.securityGroups.includes(peer))
  return members.length > 0 ? members.flatMap((n) => n.addresses.flatMap(cidrEdges)) : cidrEdges(peer)
}

/** The ports at the edges of a rule's port range: each bound, and one either side. */
function portEdges(ports: string | null): number[] {
  if (ports === null) return PORTS
  return ports
    .split('-')
    .map(Number)
    .flatMap((bound) => [bound - 1, bound, bound + 1])
    .filter((p) => p >= 0 && p <= 65535)
}

/**
 * Random records, most of them aimed at one rule of their interface and direction: its protocol,
 * a port at the edge of its range and a peer at the edge of its prefix or among its members.
 */
function randomRecords(
  rand: Random,
  network: NetworkConfig,
  count: number,
  protocols: number[],
): TestRecord[] {
  const rules = allRules(network)
  const addresses = [
    ...new Set([0, 1, MAX_V4 - 1, MAX_V4, ...rules.flatMap((r) => peerEdges(network, r.peer))]),
  ]
  const ports = [...new Set(rules.flatMap((r) => portEdges(r.ports)))]
  const groups = new Map(network.securityGroups.map((g) => [g.id, g]))
  const n = network.interfaces.length
  const address = () => (rand.chance(0.8) ? rand.pick(addresses) : rand.int(0, MAX_V4))
  return Array.from({ length: count }, () => {
    // Now and then an interface the config does not have, which allows nothing.
    const iface = rand.chance(0.03) ? rand.pick([-1, n, n + 5]) : rand.int(0, n - 1)
    const direction = rand.pick([DIRECTION.INGRESS, DIRECTION.EGRESS, DIRECTION.EGRESS, DIRECTION.UNKNOWN])
    const record = {
      iface,
      direction,
      protocol: rand.pick(protocols),
      dstport: rand.chance(0.8) ? rand.pick(ports) : rand.int(0, 65535),
      src: address(),
      dst: address(),
    }
    const own = (network.interfaces[iface]?.securityGroups ?? []).flatMap((g) => {
      const group = groups.get(g)
      return group === undefined ? [] : direction === DIRECTION.EGRESS ? group.outbound : group.inbound
    })
    if (own.length === 0 || rand.chance(0.3)) return record
    const rule = rand.pick(own)
    const protocol = protocolNumber(rule.protocol)
    if (protocols.includes(protocol)) record.protocol = protocol
    record.dstport = rand.pick(portEdges(rule.ports))
    const edges = peerEdges(network, rule.peer)
    const peer = edges.length > 0 ? rand.pick(edges) : address()
    if (direction === DIRECTION.EGRESS) record.dst = peer
    else record.src = peer
    return record
  })
}

/** The records as a DuckDB table: peer as UBIGINT, the addresses as BIGINT (both types are taken). */
async function loadRecords(records: readonly TestRecord[]): Promise<void> {
  await connection.run(`CREATE OR REPLACE TABLE records (
    id INTEGER, iface INTEGER, outbound BOOLEAN, protocol INTEGER, dstport INTEGER,
    src BIGINT, dst BIGINT, peer UBIGINT)`)
  const appender = await connection.createAppender('records')
  records.forEach((r, id) => {
    const outbound = r.direction === DIRECTION.EGRESS
    appender.appendInteger(id)
    appender.appendInteger(r.iface)
    appender.appendBoolean(outbound)
    appender.appendInteger(r.protocol)
    appender.appendInteger(r.dstport)
    appender.appendBigInt(BigInt(r.src))
    appender.appendBigInt(BigInt(r.dst))
    appender.appendUBigInt(BigInt(outbound ? r.dst : r.src))
    appender.endRow()
  })
  appender.closeSync()
}

const RECORD: RecordSql = {
  iface: 'iface',
  outbound: 'outbound',
  protocol: 'protocol',
  dstport: 'dstport',
  peer: 'peer',
}
const RULE_RECORD: RuleRecordSql = { protocol: 'protocol', dstport: 'dstport', src: 'src', dst: 'dst' }

/** The values of `columns` for every record, in record order. */
async function select(columns: readonly string[]): Promise<unknown[][]> {
  const sql = `SELECT ${columns.map((c, i) => `${c} AS c${i}`).join(', ')} FROM records ORDER BY id`
  return (await connection.runAndReadAll(sql)).getRows()
}

function viewOf(r: TestRecord): PacketView {
  const view = new PacketView()
  view.ipVersion = 4
  view.protocol = r.protocol
  parseAddress(dotted(r.src), view.src)
  parseAddress(dotted(r.dst), view.dst)
  view.srcPort = 40000
  view.dstPort = r.dstport
  view.tcpFlags = r.protocol === 6 ? 0x02 : 0
  return view
}

function flowOf(r: TestRecord): Flow {
  return {
    interfaceId: null,
    instanceId: null,
    subnetId: null,
    vpcId: null,
    srcaddr: dotted(r.src),
    dstaddr: dotted(r.dst),
    ifSrcaddr: null,
    ifDstaddr: null,
    srcport: 40000,
    dstport: r.dstport,
    protocol: r.protocol,
    packets: 1,
    bytes: 60,
    start: null,
    end: null,
    action: null,
    logStatus: null,
    direction: null,
    tcpFlags: null,
    ruleId: null,
    rejectReason: null,
  }
}

function describeRecord(r: TestRecord): string {
  const direction = ['ingress', 'egress', 'unknown'][r.direction]
  return `iface ${r.iface} ${direction} protocol ${r.protocol} dstport ${r.dstport} src ${dotted(r.src)} (${r.src}) dst ${dotted(r.dst)} (${r.dst})`
}

/**
 * evaluateSql against policy.evaluate on every record; fails on the first that differs. Returns
 * how many records a rule allows, to show that the records test both answers.
 */
async function checkEvaluate(
  policy: CompiledPolicy,
  records: readonly TestRecord[],
  label: string,
): Promise<number> {
  const rows = await select([evaluateSql(policy, RECORD)])
  let allowed = 0
  records.forEach((r, i) => {
    const got = Number(rows[i]?.[0])
    const want = policy.evaluate(r.iface, r.direction, viewOf(r))
    if (got !== want) {
      const name = (k: number) => (k < 0 ? 'none' : policy.ruleIds[k])
      assert.fail(
        `${label}: record ${i} (${describeRecord(r)}): SQL says rule ${got} (${name(got)}), evaluate says ${want} (${name(want)})`,
      )
    }
    if (want >= 0) allowed++
  })
  return allowed
}

/**
 * ruleMatchSql against RuleMatcher.matches, for every rule in both directions; fails on the first
 * difference. Returns how many of those (rule, direction) cases match some record, and how many
 * there are.
 */
async function checkRuleMatches(
  network: NetworkConfig,
  records: readonly TestRecord[],
  label: string,
): Promise<{ hit: number; cases: number }> {
  const matcher = new RuleMatcher(network)
  const cases = allRules(network).flatMap((rule) =>
    (['inbound', 'outbound'] as const).map((direction) => ({ rule, direction })),
  )
  const rows = await select(
    cases.map(({ rule, direction }) => ruleMatchSql(network, rule, direction, RULE_RECORD)),
  )
  const hit = new Set<number>()
  records.forEach((r, i) => {
    const flow = flowOf(r)
    cases.forEach(({ rule, direction }, c) => {
      const got = rows[i]?.[c]
      const want = matcher.matches(rule, direction, flow)
      if (got !== want) {
        assert.fail(
          `${label}: record ${i} (${describeRecord(r)}), rule ${rule.id} ${direction} (${rule.protocol} ports ${rule.ports} peer ${rule.peer}): SQL says ${got}, RuleMatcher says ${want}`,
        )
      }
      if (want) hit.add(c)
    })
  })
  return { hit: hit.size, cases: cases.length }
}

describe('policy as SQL', () => {
  test('evaluateSql and ruleMatchSql give the engine’s answers on random configs and IPv4 TCP/UDP records', async () => {
    let records = 0
    let allowed = 0
    let cases = 0
    let hit = 0
    for (let seed = 1; seed <= 40; seed++) {
      const rand = new Random(seed)
      const network = randomNetwork(rand)
      const policy = compilePolicy(network)
      const batch = randomRecords(rand, network, 1500, [6, 17])
      await loadRecords(batch)
      records += batch.length
      allowed += await checkEvaluate(policy, batch, `seed ${seed}`)
      const rules = await checkRuleMatches(network, batch, `seed ${seed}`)
      cases += rules.cases
      hit += rules.hit
    }
    // Neither answer may be so rare that a wrong SQL could hide behind it.
    assert.ok(allowed > records * 0.1 && allowed < records * 0.9, `${allowed} of ${records} records allowed`)
    assert.ok(hit > cases * 0.35, `${hit} of ${cases} rules (in either direction) match some record`)
  })

  test('ruleMatchSql also answers as RuleMatcher for IPv4 records of other protocols', async () => {
    for (let seed = 101; seed <= 110; seed++) {
      const rand = new Random(seed)
      const network = randomNetwork(rand)
      const records = randomRecords(rand, network, 600, [1, 6, 17, 50, 58, 132])
      await loadRecords(records)
      await checkRuleMatches(network, records, `seed ${seed}`)
    }
  })

  test('the first rule in group order wins, a group reference is one IN list, and the SQL needs no bitwise arithmetic', async () => {
    const network = makeNetwork(
      {
        'sg-a': {
          inbound: [
            { id: 'a-http', protocol: 'tcp', ports: '80', peer: '0.0.0.0/0' },
            { id: 'a-any', protocol: 'all', peer: '0.0.0.0/0' },
          ],
          outbound: [{ id: 'a-out', protocol: 'all', peer: 'sg-b' }],
        },
        'sg-b': {
          inbound: [
            { id: 'b-tcp', protocol: 'tcp', peer: '198.51.100.0/24' },
            { id: 'b-http', protocol: 'tcp', ports: '80', peer: '0.0.0.0/0' },
          ],
        },
      },
      [
        { id: 'eni-1', addresses: ['10.0.0.1', '2001:db8::1'], groups: ['sg-b', 'sg-a'] },
        { id: 'eni-2', addresses: ['10.0.0.3'], groups: ['sg-b'] },
        { id: 'eni-3', addresses: ['10.0.0.5'], groups: [] },
      ],
    )
    const policy = compilePolicy(network)
    const sql = evaluateSql(policy, RECORD)
    assert.match(sql, /peer IN \(167772161, 167772163\)/, 'the members of sg-b, its IPv6 address left out')
    assert.doesNotMatch(sql, /&|>>|<</)
    const v4 = (text: string) => ipv4Value(text)
    const records: TestRecord[] = [
      {
        iface: 0,
        direction: DIRECTION.INGRESS,
        protocol: 6,
        dstport: 80,
        src: v4('198.51.100.7'),
        dst: v4('10.0.0.1'),
      },
      {
        iface: 0,
        direction: DIRECTION.INGRESS,
        protocol: 6,
        dstport: 80,
        src: v4('192.0.2.1'),
        dst: v4('10.0.0.1'),
      },
      {
        iface: 0,
        direction: DIRECTION.UNKNOWN,
        protocol: 17,
        dstport: 81,
        src: v4('192.0.2.1'),
        dst: v4('10.0.0.1'),
      },
      {
        iface: 0,
        direction: DIRECTION.EGRESS,
        protocol: 17,
        dstport: 2,
        src: v4('10.0.0.1'),
        dst: v4('10.0.0.3'),
      },
      {
        iface: 0,
        direction: DIRECTION.EGRESS,
        protocol: 17,
        dstport: 2,
        src: v4('10.0.0.1'),
        dst: v4('10.0.0.2'),
      },
      {
        iface: 1,
        direction: DIRECTION.EGRESS,
        protocol: 17,
        dstport: 53,
        src: v4('10.0.0.3'),
        dst: v4('10.0.0.2'),
      },
      {
        iface: 2,
        direction: DIRECTION.INGRESS,
        protocol: 6,
        dstport: 80,
        src: v4('198.51.100.7'),
        dst: v4('10.0.0.5'),
      },
    ]
    await loadRecords(records)
    const rows = await select([evaluateSql(policy, RECORD)])
    const ids = rows.map(([k]) => (Number(k) < 0 ? null : policy.ruleIds[Number(k)]))
    assert.deepEqual(ids, ['b-tcp', 'b-http', 'a-any', 'a-out', null, 'implicit:platform-services', null])
    await checkEvaluate(policy, records, 'hand-made')
  })

  test('the expressions have the types they promise, and take expressions as well as column names', async () => {
    const network = makeNetwork(
      { 'sg-ssh': { inbound: [{ id: 'ssh', protocol: 'tcp', ports: '22', peer: '10.0.0.0/8' }] } },
      [{ id: 'eni-1', addresses: ['10.0.0.1'], groups: ['sg-ssh'] }],
    )
    const rule = network.securityGroups[0]?.inbound[0]
    assert.ok(rule !== undefined)
    // Expressions of any kind where columns usually stand: the SQL puts them in parentheses.
    const peer = '167772160 | 5'
    const evaluated = evaluateSql(compilePolicy(network), {
      iface: '1 - 1',
      outbound: 'NOT true',
      protocol: '3 + 3',
      dstport: '20 + 2',
      peer,
    })
    const matched = ruleMatchSql(network, rule, 'inbound', {
      protocol: '3 + 3',
      dstport: '20 + 2',
      src: peer,
      dst: '0',
    })
    const text = "'10.0.0.5'"
    const rows = (
      await connection.runAndReadAll(
        `SELECT ${evaluated}, typeof(${evaluated}), ${matched}, typeof(${matched}),
          ${canonicalIpv4Sql(text)}, typeof(${canonicalIpv4Sql(text)}), ${ipv4ValueSql(text)}, typeof(${ipv4ValueSql(text)})`,
      )
    ).getRows()
    assert.deepEqual(rows, [[0, 'INTEGER', true, 'BOOLEAN', true, 'BOOLEAN', 167772165n, 'BIGINT']])
  })

  test('64 interfaces sharing one group share one expression', async () => {
    const interfaces = Array.from({ length: 64 }, (_, i) => ({
      id: `eni-${i}`,
      // Not consecutive, so the members stay a list of single addresses.
      addresses: [`10.0.${i}.7`],
      groups: ['sg-fleet'],
    }))
    const network = makeNetwork(
      {
        'sg-fleet': {
          inbound: [
            { protocol: 'tcp', ports: '22', peer: '10.0.0.0/8' },
            { protocol: 'tcp', ports: '443', peer: '0.0.0.0/0' },
            { protocol: 'all', peer: 'sg-fleet' },
          ],
          outbound: [{ protocol: 'all', peer: '0.0.0.0/0' }],
        },
      },
      interfaces,
    )
    const policy = compilePolicy(network)
    const sql = evaluateSql(policy, RECORD)
    assert.ok(sql.length < 2000, `${sql.length} characters: ${sql}`)
    assert.equal(sql.split('iface BETWEEN 0 AND 63').length, 3, 'one branch per direction, for all 64')
    const rand = new Random(64)
    const records = randomRecords(rand, network, 2000, [6, 17])
    await loadRecords(records)
    await checkEvaluate(policy, records, '64 interfaces')
  })

  test('a group reference of 500 members', async () => {
    const members = Array.from({ length: 500 }, (_, i) => ({
      id: `eni-web-${i}`,
      addresses: [`10.${1 + Math.floor(i / 200)}.${i % 200}.${(i * 37) % 250}`],
      groups: ['sg-web'],
    }))
    const network = makeNetwork(
      {
        'sg-web': { outbound: [{ protocol: 'tcp', ports: '5432', peer: 'sg-db' }] },
        'sg-db': {
          inbound: [
            { id: 'db-pg', protocol: 'tcp', ports: '5432', peer: 'sg-web' },
            { id: 'db-admin', protocol: 'tcp', ports: '22', peer: '192.0.2.0/24' },
          ],
        },
      },
      [{ id: 'eni-db', addresses: ['10.0.2.10'], groups: ['sg-db'] }, ...members],
    )
    const policy = compilePolicy(network)
    const sql = evaluateSql(policy, RECORD)
    assert.ok(sql.length < 500 * 12 + 2000, `${sql.length} characters`)
    const rand = new Random(500)
    const records = randomRecords(rand, network, 3000, [6, 17]).map((r) => ({
      ...r,
      iface: rand.chance(0.7) ? 0 : r.iface,
    }))
    await loadRecords(records)
    await checkEvaluate(policy, records, '500 members')
    await checkRuleMatches(network, records, '500 members')
  })
})

describe('IPv4 texts in SQL', () => {
  const EDGES = [
    '0.0.0.0',
    '255.255.255.255',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3',
    '1.2.3.4.5',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '::ffff:1.2.3.4',
    '',
    '1.2.3.04',
    '10.0.0.1',
    '1..2.3',
    '1.2.3.',
    '.1.2.3',
    '1.2.3.4\n',
    '1.2.3.-4',
    '+1.2.3.4',
    '1.2.3.1000',
    '1.2.3.255',
    '1.2.3.256',
    '249.250.199.100',
    '1e1.2.3.4',
    '１.2.3.4',
  ]

  function randomText(rand: Random): string {
    const roll = rand.next()
    if (roll < 0.4) return dotted(rand.int(0, MAX_V4))
    if (roll < 0.7) {
      // A valid address spoiled in one place.
      const text = dotted(rand.int(0, MAX_V4))
      const at = rand.int(0, text.length)
      const edit = rand.pick(['0', '9', '.', ' ', '', 'a'])
      return text.slice(0, at) + edit + text.slice(at + (rand.chance(0.5) ? 1 : 0))
    }
    const alphabet = '0123456789...:'
    return Array.from({ length: rand.int(0, 16) }, () => rand.pick([...alphabet])).join('')
  }

  test('canonicalIpv4Sql and ipv4ValueSql agree with ipv4Value and parseAddress', async () => {
    const rand = new Random(4)
    const texts: (string | null)[] = [...EDGES, null, ...Array.from({ length: 5000 }, () => randomText(rand))]
    await connection.run('CREATE OR REPLACE TABLE texts (id INTEGER, t VARCHAR)')
    const appender = await connection.createAppender('texts')
    texts.forEach((t, id) => {
      appender.appendInteger(id)
      if (t === null) appender.appendNull()
      else appender.appendVarchar(t)
      appender.endRow()
    })
    appender.closeSync()
    const rows = (
      await connection.runAndReadAll(
        `SELECT ${canonicalIpv4Sql('t')}, CASE WHEN ${canonicalIpv4Sql('t')} THEN ${ipv4ValueSql('t')} END FROM texts ORDER BY id`,
      )
    ).getRows()
    let canonical = 0
    texts.forEach((t, i) => {
      const [isCanonical, value] = rows[i] ?? []
      const want = t === null ? -1 : ipv4Value(t)
      assert.equal(isCanonical, want >= 0, `canonicalIpv4Sql(${JSON.stringify(t)})`)
      if (want < 0) return
      canonical++
      assert.equal(value, BigInt(want), `ipv4ValueSql(${JSON.stringify(t)})`)
      const words = new Uint32Array(4)
      assert.ok(t !== null && parseAddress(t, words))
      assert.deepEqual([...words], [0, 0, 0xffff, want], `parseAddress(${JSON.stringify(t)})`)
    })
    assert.ok(canonical > 2000, `${canonical} canonical texts among the random ones`)
    // The other spelling of an IPv4 address: the same words, but not written as flowlog writes IPv4.
    const words = new Uint32Array(4)
    assert.ok(parseAddress('::ffff:1.2.3.4', words) && words[2] === 0xffff)
    assert.equal(rows[EDGES.indexOf('::ffff:1.2.3.4')]?.[0], false)
  })
})
