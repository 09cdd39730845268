import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DIRECTION, type Direction, REJECT_REASON } from '../core/verdict.js'
import { compilePolicy } from './compile-policy.js'
import { ConnectionTracker } from './connection-tracker.js'
import { makeNetwork, type PacketSpec, packet, reply } from './test-kit.js'

const { INGRESS, EGRESS, UNKNOWN } = DIRECTION
const NO_RULE = -(REJECT_REASON.NO_MATCHING_RULE + 1)
const NOT_ESTABLISHED = -(REJECT_REASON.NOT_ESTABLISHED + 1)

// Interfaces: 0 web (no outbound rules), 1 db, 2 a second web server. As in reference 10.1:
// a group with no outbound rules denies all new outbound traffic.
const network = makeNetwork(
  {
    'sg-web': {
      inbound: [
        { id: 'ssh', protocol: 'tcp', ports: '22', peer: '203.0.113.0/24' },
        { id: 'web', protocol: 'tcp', ports: '80-443', peer: '0.0.0.0/0' },
        { id: 'web6', protocol: 'tcp', ports: '443', peer: '::/0' },
        { id: 'ping', protocol: 'icmp', icmpType: 8, peer: '10.0.0.0/8' },
        { id: 'peers', protocol: 'all', peer: 'sg-web' },
      ],
    },
    'sg-db': {
      inbound: [
        { id: 'pg', protocol: 'tcp', ports: '5432', peer: 'sg-web' },
        { id: 'gre', protocol: 47, peer: '192.0.2.0/24' },
        { id: 'unreach', protocol: 'icmp', icmpType: 3, icmpCode: 4, peer: '0.0.0.0/0' },
        { id: 'ping6', protocol: 'icmpv6', icmpType: 128, peer: '::/0' },
      ],
      outbound: [
        { id: 'out-all', protocol: 'all', peer: '0.0.0.0/0' },
        { id: 'out-all6', protocol: 'all', peer: '::/0' },
      ],
    },
  },
  [
    { id: 'eni-web', addresses: ['10.0.1.10', '2001:db8:1::10'], groups: ['sg-web'] },
    { id: 'eni-db', addresses: ['10.0.2.20', '2001:db8:2::20'], groups: ['sg-db'] },
    { id: 'eni-web2', addresses: ['10.0.1.11'], groups: ['sg-web'] },
  ],
)
const policy = compilePolicy(network)
const rule = (id: string) => policy.ruleIds.indexOf(id)
const WEB = 0
const DB = 1

/** Feeds steps to one tracker and checks each verdict: [time, iface, direction, packet, expected]. */
type Step = [number, number, Direction, PacketSpec, number | string]
function run(steps: Step[]): ConnectionTracker {
  const tracker = new ConnectionTracker(policy, 100)
  steps.forEach(([time, iface, direction, spec, expected], i) => {
    const want = typeof expected === 'string' ? rule(expected) : expected
    assert.ok(typeof expected === 'number' || want >= 0, `unknown rule id ${expected} in the test`)
    assert.equal(tracker.judge(iface, direction, packet(spec), time), want, `step ${i} at t=${time}`)
  })
  return tracker
}

/** Rules alone: each packet on a fresh tracker, so no step is accepted by an earlier one's state. */
function judgeEach(steps: Step[]): void {
  for (const step of steps) run([step])
}

const ssh: PacketSpec = { protocol: 'tcp', src: '203.0.113.5', dst: '10.0.1.10', srcPort: 40000, dstPort: 22 }
const sshBack = reply(ssh)

describe('rules (reference 10.1)', () => {
  test('inbound SSH is allowed from the CIDR and rejected from elsewhere', () => {
    judgeEach([
      [1, WEB, INGRESS, { ...ssh, flags: 'S' }, 'ssh'],
      [1, WEB, INGRESS, { ...ssh, src: '198.51.100.7', flags: 'S' }, NO_RULE],
    ])
  })

  test('the reply to allowed inbound traffic leaves although the group has no outbound rules', () => {
    run([
      [1, WEB, INGRESS, { ...ssh, flags: 'S' }, 'ssh'],
      [1.001, WEB, EGRESS, { ...sshBack, flags: 'SA' }, 'ssh'],
      [1.002, WEB, INGRESS, { ...ssh, flags: 'A' }, 'ssh'],
      [2, WEB, EGRESS, { ...sshBack, flags: 'PA' }, 'ssh'],
    ])
  })

  test('new outbound traffic is denied when the group has no outbound rules', () => {
    const dns: PacketSpec = { protocol: 'udp', src: '10.0.1.10', dst: '8.8.8.8', srcPort: 5353, dstPort: 53 }
    const tracker = run([[1, WEB, EGRESS, dns, NO_RULE]])
    assert.equal(tracker.size, 0, 'a denied packet creates no state')
  })

  test('a group reference matches the addresses of the group members, itself included', () => {
    const pg: PacketSpec = {
      protocol: 'tcp',
      src: '10.0.1.10',
      dst: '10.0.2.20',
      srcPort: 50000,
      dstPort: 5432,
      flags: 'S',
    }
    judgeEach([
      [1, DB, INGRESS, pg, 'pg'],
      [1, DB, INGRESS, { ...pg, src: '10.0.1.11' }, 'pg'],
      [1, DB, INGRESS, { ...pg, src: '2001:db8:1::10', dst: '2001:db8:2::20' }, 'pg'],
      [1, DB, INGRESS, { ...pg, src: '10.0.3.3' }, NO_RULE],
      [
        1,
        WEB,
        INGRESS,
        { protocol: 'udp', src: '10.0.1.11', dst: '10.0.1.10', srcPort: 1, dstPort: 9 },
        'peers',
      ],
    ])
  })

  test('IPv4 and IPv6 CIDRs match only their own family', () => {
    const v6 = {
      protocol: 'tcp',
      src: '2001:db8:ffff::1',
      dst: '2001:db8:1::10',
      srcPort: 40000,
      flags: 'S',
    } as const
    judgeEach([
      [1, WEB, INGRESS, { ...v6, dstPort: 443 }, 'web6'],
      [1, WEB, INGRESS, { ...v6, dstPort: 80 }, NO_RULE],
      [1, WEB, INGRESS, { ...v6, src: '::ffff:203.0.113.5', dstPort: 22 }, NO_RULE],
      [
        1,
        WEB,
        INGRESS,
        { protocol: 'tcp', src: '198.51.100.1', dst: '10.0.1.10', srcPort: 1, dstPort: 443 },
        'web',
      ],
    ])
  })

  test('port ranges include both ends', () => {
    const http = {
      protocol: 'tcp',
      src: '198.51.100.1',
      dst: '10.0.1.10',
      srcPort: 40000,
      flags: 'S',
    } as const
    judgeEach([
      [1, WEB, INGRESS, { ...http, dstPort: 79 }, NO_RULE],
      [1, WEB, INGRESS, { ...http, dstPort: 80 }, 'web'],
      [1, WEB, INGRESS, { ...http, dstPort: 443 }, 'web'],
      [1, WEB, INGRESS, { ...http, dstPort: 444 }, NO_RULE],
      [1, WEB, INGRESS, { ...http, protocol: 'udp', dstPort: 80 }, NO_RULE],
    ])
  })

  test('protocol numbers: GRE (47) is allowed by its number and by all, not by tcp', () => {
    const gre: PacketSpec = { protocol: 47, src: '192.0.2.9', dst: '10.0.2.20' }
    judgeEach([
      [1, DB, INGRESS, gre, 'gre'],
      [1, DB, INGRESS, { ...gre, src: '198.51.100.9' }, NO_RULE],
      [1, WEB, INGRESS, { ...gre, src: '10.0.1.11', dst: '10.0.1.10' }, 'peers'],
      [1, WEB, INGRESS, { ...gre, src: '203.0.113.5', dst: '10.0.1.10' }, NO_RULE],
    ])
  })

  test('ICMP type and code; icmp rules do not match ICMPv6 and icmpv6 rules not ICMP', () => {
    const icmp = { protocol: 'icmp', src: '198.51.100.1', dst: '10.0.2.20' } as const
    judgeEach([
      [1, DB, INGRESS, { ...icmp, icmpType: 3, icmpCode: 4 }, 'unreach'],
      [1, DB, INGRESS, { ...icmp, icmpType: 3, icmpCode: 1 }, NO_RULE],
      [1, DB, INGRESS, { ...icmp, icmpType: 8, icmpCode: 0, icmpId: 7 }, NO_RULE],
      [
        1,
        DB,
        INGRESS,
        {
          protocol: 'icmpv6',
          src: '2001:db8::1',
          dst: '2001:db8:2::20',
          icmpType: 128,
          icmpCode: 0,
          icmpId: 1,
        },
        'ping6',
      ],
      [
        1,
        DB,
        INGRESS,
        { protocol: 'icmpv6', src: '2001:db8::1', dst: '2001:db8:2::20', icmpType: 1, icmpCode: 4 },
        NO_RULE,
      ],
    ])
  })
})

describe('connection tracking (reference 10.2)', () => {
  const ping: PacketSpec = {
    protocol: 'icmp',
    src: '10.9.9.9',
    dst: '10.0.1.10',
    icmpType: 8,
    icmpCode: 0,
    icmpId: 77,
  }

  test('ping: the echo request is accepted by a rule and the reply by state, for 30 s', () => {
    run([
      [100, WEB, INGRESS, ping, 'ping'],
      [100.001, WEB, EGRESS, reply(ping), 'ping'],
      [110, WEB, INGRESS, ping, 'ping'],
      [139.9, WEB, EGRESS, reply(ping), 'ping'],
      // 30 s after the last packet the state is gone; the reply is now new outbound traffic.
      [170, WEB, EGRESS, reply(ping), NOT_ESTABLISHED],
      [170, WEB, INGRESS, { ...ping, src: '198.51.100.1' }, NO_RULE],
      [170, WEB, EGRESS, reply(ping, { icmpId: 78 }), NO_RULE],
    ])
  })

  test('UDP: a reply within 30 s is accepted; without one the state ends after 30 s', () => {
    const dns: PacketSpec = { protocol: 'udp', src: '10.0.2.20', dst: '10.0.0.2', srcPort: 5353, dstPort: 53 }
    run([
      [0, DB, EGRESS, dns, 'out-all'],
      [29, DB, INGRESS, reply(dns), 'out-all'],
    ])
    run([
      [0, DB, EGRESS, dns, 'out-all'],
      [30.5, DB, INGRESS, reply(dns), NOT_ESTABLISHED],
    ])
  })

  test('UDP: once both sides have sent, the stream lives 180 s after the last packet', () => {
    const dns: PacketSpec = { protocol: 'udp', src: '10.0.2.20', dst: '10.0.0.2', srcPort: 5353, dstPort: 53 }
    run([
      [0, DB, EGRESS, dns, 'out-all'],
      [1, DB, INGRESS, reply(dns), 'out-all'],
      [170, DB, INGRESS, reply(dns), 'out-all'],
      [349, DB, INGRESS, reply(dns), 'out-all'],
      [530, DB, INGRESS, reply(dns), NOT_ESTABLISHED],
    ])
  })

  test('other protocols: by address pair and protocol for 600 s', () => {
    const gre: PacketSpec = { protocol: 47, src: '10.0.2.20', dst: '198.51.100.1' }
    run([
      [0, DB, EGRESS, gre, 'out-all'],
      [599, DB, INGRESS, reply(gre), 'out-all'],
      [1198, DB, INGRESS, reply(gre), 'out-all'],
      [1798.5, DB, INGRESS, reply(gre), NOT_ESTABLISHED],
      [1800, DB, INGRESS, { ...reply(gre), src: '198.51.100.2' }, NO_RULE],
    ])
  })

  test('TCP: after a RST and its 10 s grace, the server cannot send (not-established)', () => {
    run([
      [0, WEB, INGRESS, { ...ssh, flags: 'S' }, 'ssh'],
      [0.1, WEB, EGRESS, { ...sshBack, flags: 'SA' }, 'ssh'],
      [0.2, WEB, INGRESS, { ...ssh, flags: 'A' }, 'ssh'],
      [50, WEB, INGRESS, { ...ssh, flags: 'R' }, 'ssh'],
      [55, WEB, EGRESS, { ...sshBack, flags: 'PA' }, 'ssh'],
      [60.5, WEB, EGRESS, { ...sshBack, flags: 'PA' }, NOT_ESTABLISHED],
      // The client's side is still allowed by the rules: it opens a new (mid-stream) connection.
      [61, WEB, INGRESS, { ...ssh, flags: 'A' }, 'ssh'],
    ])
  })

  test('TCP: after FIN from both sides the last ACK is accepted, then 120 s later nothing is', () => {
    run([
      [0, WEB, INGRESS, { ...ssh, flags: 'S' }, 'ssh'],
      [0.1, WEB, EGRESS, { ...sshBack, flags: 'SA' }, 'ssh'],
      [10, WEB, EGRESS, { ...sshBack, flags: 'FA' }, 'ssh'],
      [10.1, WEB, INGRESS, { ...ssh, flags: 'FA' }, 'ssh'],
      [10.2, WEB, EGRESS, { ...sshBack, flags: 'A' }, 'ssh'],
      [100, WEB, EGRESS, { ...sshBack, flags: 'FA' }, 'ssh'],
      [130.2, WEB, EGRESS, { ...sshBack, flags: 'A' }, NOT_ESTABLISHED],
    ])
  })

  test('TCP: a SYN during the closing grace opens a new connection, judged by the rules', () => {
    const tracker = run([
      [0, WEB, INGRESS, { ...ssh, flags: 'S' }, 'ssh'],
      [0.1, WEB, EGRESS, { ...sshBack, flags: 'SA' }, 'ssh'],
      [1, WEB, INGRESS, { ...ssh, flags: 'R' }, 'ssh'],
      [2, WEB, INGRESS, { ...ssh, flags: 'S' }, 'ssh'],
      [2.1, WEB, EGRESS, { ...sshBack, flags: 'SA' }, 'ssh'],
      // Established again: long past the RST grace the server still answers.
      [500, WEB, EGRESS, { ...sshBack, flags: 'PA' }, 'ssh'],
    ])
    assert.equal(tracker.size, 1)
    // The server (no outbound rules) cannot reopen a closing connection itself.
    run([
      [0, WEB, INGRESS, { ...ssh, flags: 'S' }, 'ssh'],
      [0.1, WEB, EGRESS, { ...sshBack, flags: 'SA' }, 'ssh'],
      [1, WEB, EGRESS, { ...sshBack, flags: 'R' }, 'ssh'],
      [2, WEB, EGRESS, { ...sshBack, flags: 'S' }, NOT_ESTABLISHED],
    ])
  })

  test('TCP: only SYNs keep a connection 120 s; once answered it is established for 5 days', () => {
    run([
      [0, WEB, INGRESS, { ...ssh, flags: 'S' }, 'ssh'],
      [119, WEB, EGRESS, { ...sshBack, flags: 'SA' }, 'ssh'],
      [119 + 431_999, WEB, EGRESS, { ...sshBack, flags: 'PA' }, 'ssh'],
    ])
    run([
      [0, WEB, INGRESS, { ...ssh, flags: 'S' }, 'ssh'],
      [120.5, WEB, EGRESS, { ...sshBack, flags: 'SA' }, NOT_ESTABLISHED],
    ])
  })

  test('TCP picked up mid-stream (any packet may open a connection) is established', () => {
    run([
      [0, WEB, INGRESS, { ...ssh, flags: 'PA' }, 'ssh'],
      [1000, WEB, EGRESS, { ...sshBack, flags: 'PA' }, 'ssh'],
    ])
  })

  test('unknown direction is judged as ingress, and its reply finds the same connection', () => {
    const stray: PacketSpec = {
      protocol: 'tcp',
      src: '203.0.113.5',
      dst: '10.0.1.99',
      srcPort: 40000,
      dstPort: 22,
      flags: 'S',
    }
    run([
      [0, WEB, UNKNOWN, stray, 'ssh'],
      [0.1, WEB, UNKNOWN, reply(stray, { flags: 'SA' }), 'ssh'],
      [0.2, WEB, UNKNOWN, { ...stray, src: '198.51.100.5' }, NO_RULE],
    ])
  })

  test('later fragments get the verdict of their first fragment', () => {
    const big: PacketSpec = { protocol: 'udp', src: '10.0.2.20', dst: '10.0.0.2', srcPort: 5353, dstPort: 53 }
    const answer = reply(big)
    run([
      [0, DB, EGRESS, big, 'out-all'],
      [0.1, DB, INGRESS, { ...answer, fragment: 1, fragmentId: 9 }, 'out-all'],
      [0.1, DB, INGRESS, { ...answer, srcPort: 0, dstPort: 0, fragment: 2, fragmentId: 9 }, 'out-all'],
      [0.1, DB, INGRESS, { ...answer, srcPort: 0, dstPort: 0, fragment: 2, fragmentId: 10 }, NO_RULE],
      [
        0.1,
        WEB,
        INGRESS,
        {
          protocol: 'udp',
          src: '1.2.3.4',
          dst: '10.0.1.10',
          srcPort: 1,
          dstPort: 99,
          fragment: 1,
          fragmentId: 5,
        },
        NO_RULE,
      ],
      [
        0.1,
        WEB,
        INGRESS,
        { protocol: 'udp', src: '1.2.3.4', dst: '10.0.1.10', fragment: 2, fragmentId: 5 },
        NO_RULE,
      ],
    ])
  })

  test('the table grows with its connections and keeps every one of them across the growth', () => {
    const tracker = new ConnectionTracker(policy, 1_000_000)
    const before = tracker.memoryBytes
    const count = 150_000
    const spec = (i: number): PacketSpec => ({
      protocol: 'tcp',
      src: `198.51.${(i >> 8) & 255}.${i & 255}`,
      dst: '10.0.1.10',
      srcPort: 1024 + (i >> 16),
      dstPort: 80,
      flags: 'S',
    })
    for (let i = 0; i < count; i++) assert.equal(tracker.judge(WEB, INGRESS, packet(spec(i)), 1), rule('web'))
    assert.equal(tracker.size, count)
    assert.ok(tracker.memoryBytes > before, 'it grew')
    assert.equal(tracker.stats.untrackedBecauseFull, 0)
    // Every reply still finds its connection (the web group has no outbound rule for them).
    for (let i = 0; i < count; i += 997) {
      assert.equal(tracker.judge(WEB, EGRESS, packet(reply(spec(i), { flags: 'SA' })), 2), rule('web'))
    }
  })

  test('a full table still judges by the rules, counts what it cannot track, and never grows', () => {
    const tracker = new ConnectionTracker(policy, 4)
    for (let i = 0; i < 10; i++) {
      const spec: PacketSpec = {
        protocol: 'tcp',
        src: '198.51.100.1',
        dst: '10.0.1.10',
        srcPort: 1000 + i,
        dstPort: 80,
        flags: 'S',
      }
      assert.equal(tracker.judge(WEB, INGRESS, packet(spec), 0), rule('web'))
      assert.ok(tracker.size <= 4)
    }
    assert.equal(tracker.judge(WEB, INGRESS, packet({ ...ssh, src: '198.51.100.1' }), 0), NO_RULE)
    assert.equal(tracker.size, 4)
    assert.equal(tracker.stats.untrackedBecauseFull, 6)
    // An untracked connection has no state: its reply is judged by the (missing) outbound rules.
    const untracked: PacketSpec = {
      protocol: 'tcp',
      src: '198.51.100.1',
      dst: '10.0.1.10',
      srcPort: 1009,
      dstPort: 80,
    }
    assert.equal(tracker.judge(WEB, EGRESS, packet(reply(untracked)), 1), NO_RULE)
    // Once the opening connections time out (120 s), there is room again.
    const late: PacketSpec = {
      protocol: 'tcp',
      src: '198.51.100.2',
      dst: '10.0.1.10',
      srcPort: 5,
      dstPort: 80,
      flags: 'S',
    }
    assert.equal(tracker.judge(WEB, INGRESS, packet(late), 200), rule('web'))
    assert.equal(tracker.judge(WEB, EGRESS, packet(reply(late)), 200.1), rule('web'))
    assert.ok(tracker.size <= 4)
  })

  test("a remembering table (analysis replays) tracks every connection and keeps each one's tombstone", () => {
    const tracker = new ConnectionTracker(policy, 4, { remember: true })
    const conn = (i: number): PacketSpec => ({
      protocol: 'tcp',
      src: `198.51.${i >> 8}.${i & 255}`,
      dst: '10.0.1.10',
      srcPort: 1000 + (i % 50),
      dstPort: 80,
      flags: 'S',
    })
    // A connection closed both ways first, then thousands more, far beyond the capacity given.
    assert.equal(tracker.judge(WEB, INGRESS, packet(conn(0)), 0), rule('web'))
    assert.equal(tracker.judge(WEB, EGRESS, packet(reply(conn(0), { flags: 'FA' })), 1), rule('web'))
    assert.equal(tracker.judge(WEB, INGRESS, packet({ ...conn(0), flags: 'FA' }), 2), rule('web'))
    for (let i = 1; i < 5000; i++) assert.equal(tracker.judge(WEB, INGRESS, packet(conn(i)), 3), rule('web'))
    assert.equal(tracker.stats.untrackedBecauseFull, 0)
    // Every one is tracked: its answer (no outbound rule allows it) rides on its connection.
    for (let i = 1; i < 5000; i += 7)
      assert.equal(tracker.judge(WEB, EGRESS, packet(reply(conn(i), { flags: 'SA' })), 4), rule('web'))
    // The closed one's slot was never given to another: its late answer is not-established.
    assert.equal(tracker.judge(WEB, EGRESS, packet(reply(conn(0), { flags: 'A' })), 10_000), NOT_ESTABLISHED)
    // Cleared, it knows nothing: the same answer is judged by the rules as new traffic.
    tracker.clear()
    assert.equal(tracker.size, 0)
    assert.equal(tracker.judge(WEB, EGRESS, packet(reply(conn(9), { flags: 'A' })), 5), NO_RULE)
    assert.ok(tracker.memoryBytes <= 64 * 68, 'a cleared table is small again')
  })

  test('an out-of-range interface index is rejected, not thrown', () => {
    run([[0, 99, INGRESS, ssh, NO_RULE]])
  })

  test('under churn the table stays bounded, and timed-out connections make room again', () => {
    const tracker = new ConnectionTracker(policy, 64)
    let time = 0
    let accepted = 0
    for (let i = 0; i < 20_000; i++) {
      time += 0.01
      // UDP from the database (allowed by out-all), 30 s one-way timeout, many distinct tuples.
      const spec: PacketSpec = {
        protocol: 'udp',
        src: '10.0.2.20',
        dst: `198.51.100.${i % 250}`,
        srcPort: 1024 + (i % 5000),
        dstPort: 53,
      }
      if (tracker.judge(DB, EGRESS, packet(spec), time) >= 0) accepted++
      assert.ok(tracker.size <= 64)
    }
    assert.equal(accepted, 20_000)
    assert.ok(tracker.stats.expired > 0, 'expired connections were reclaimed')
    assert.ok(
      tracker.stats.created > 64 * 5,
      `tracking resumed after timeouts (${tracker.stats.created} created)`,
    )
    assert.ok(tracker.memoryBytes < 64 * 2 * 68 + 1)
  })
})

describe('a policy set for packets from a time on (a live reload)', () => {
  // The reload adds SSH from 198.51.100.0/24. Packets sent before it, judged after it (they waited
  // in a capture's buffer), are judged by the rules they were sent under.
  const reloaded = compilePolicy(
    makeNetwork(
      {
        'sg-web': {
          inbound: [
            { id: 'ssh', protocol: 'tcp', ports: '22', peer: '203.0.113.0/24' },
            { id: 'ssh-office', protocol: 'tcp', ports: '22', peer: '198.51.100.0/24' },
          ],
        },
      },
      [{ id: 'eni-web', addresses: ['10.0.1.10'], groups: ['sg-web'] }],
    ),
    policy,
  )
  const office = (port: number): PacketSpec => ({ ...ssh, src: '198.51.100.7', srcPort: port, flags: 'S' })

  test('packets before the time keep the old rules, from the time on the new ones judge', () => {
    const tracker = new ConnectionTracker(policy, 100)
    tracker.setPolicy(reloaded, 10)
    assert.equal(tracker.judge(WEB, INGRESS, packet(office(40001)), 9.5), NO_RULE)
    assert.equal(
      tracker.judge(WEB, INGRESS, packet(office(40002)), 10),
      reloaded.ruleIds.indexOf('ssh-office'),
    )
    // Once switched, the new rules stay (a late packet of before is not judged by the old ones).
    assert.equal(
      tracker.judge(WEB, INGRESS, packet(office(40003)), 9.9),
      reloaded.ruleIds.indexOf('ssh-office'),
    )
    assert.equal(tracker.policy, reloaded)
  })

  test('without a time, the new rules judge at once', () => {
    const tracker = new ConnectionTracker(policy, 100)
    tracker.setPolicy(reloaded)
    assert.equal(
      tracker.judge(WEB, INGRESS, packet(office(40001)), 1),
      reloaded.ruleIds.indexOf('ssh-office'),
    )
  })
})
