import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { communityId, communityIdOfRow, elasticCommunityIdOfRow } from './community-id.js'

/**
 * The published test vectors: corelight/community-id-spec baseline/README.md ("Default settings" and
 * "A custom seed=1 value") and baseline/baseline_deflt.json (tuples from the spec's pcaps, ICMP
 * ports there already being type and reply-type or code).
 */
const TABLE: readonly [number, string, string, number, number, string, string][] = [
  // proto, src, dst, sport, dport, id (seed 0), id (seed 1)
  [6, '1.2.3.4', '5.6.7.8', 1122, 3344, '1:wCb3OG7yAFWelaUydu0D+125CLM=', '1:HhA1B+6CoLbiKPEs5nhNYN4XWfk='],
  [6, '5.6.7.8', '1.2.3.4', 3344, 1122, '1:wCb3OG7yAFWelaUydu0D+125CLM=', '1:HhA1B+6CoLbiKPEs5nhNYN4XWfk='],
  [17, '1.2.3.4', '5.6.7.8', 1122, 3344, '1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=', '1:OShq+iKDAMVouh/4bMxB9Sz4amw='],
  [17, '5.6.7.8', '1.2.3.4', 3344, 1122, '1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=', '1:OShq+iKDAMVouh/4bMxB9Sz4amw='],
  [132, '1.2.3.4', '5.6.7.8', 1122, 3344, '1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=', '1:uitchpn5MMGAQKBJh7bIr/bAr7s='],
  [132, '5.6.7.8', '1.2.3.4', 3344, 1122, '1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=', '1:uitchpn5MMGAQKBJh7bIr/bAr7s='],
  [1, '1.2.3.4', '5.6.7.8', 8, 0, '1:crodRHL2FEsHjbv3UkRrfbs4bZ0=', '1:9pr4ZGTICiuZoIh90RRYE2RyXpU='],
  [1, '5.6.7.8', '1.2.3.4', 0, 0, '1:crodRHL2FEsHjbv3UkRrfbs4bZ0=', '1:9pr4ZGTICiuZoIh90RRYE2RyXpU='],
  [1, '1.2.3.4', '5.6.7.8', 11, 0, '1:f/YiSyWqczrTgfUCZlBUnvHRcPk=', '1:1DD7cWGC/Yg91YGsQeni8du3pIA='],
  [
    58,
    'fe80:0001:0203:0405:0607:0809:0A0B:0C0D',
    'fe80:1011:1213:1415:1617:1819:1A1B:1C1D',
    128,
    0,
    '1:0bf7hyMJUwt3fMED7z8LIfRpBeo=',
    '1:IO27GQzPuCtNnwFvjWALMHu5tJE=',
  ],
  [
    58,
    'fe80:1011:1213:1415:1617:1819:1A1B:1C1D',
    'fe80:0001:0203:0405:0607:0809:0A0B:0C0D',
    129,
    0,
    '1:0bf7hyMJUwt3fMED7z8LIfRpBeo=',
    '1:IO27GQzPuCtNnwFvjWALMHu5tJE=',
  ],
  [
    58,
    'fe80:0001:0203:0405:0607:0809:0A0B:0C0D',
    'fe80:1011:1213:1415:1617:1819:1A1B:1C1D',
    146,
    0,
    '1:fYC8+pz24E+EhANP1EZhpX0Dw10=',
    '1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s=',
  ],
  [46, '1.2.3.4', '5.6.7.8', 0, 0, '1:ikv3kmf89luf73WPz1jOs49S768=', '1:/buhqeOmaRCopOZFy9HnoJd5XW8='],
  [46, '5.6.7.8', '1.2.3.4', 0, 0, '1:ikv3kmf89luf73WPz1jOs49S768=', '1:/buhqeOmaRCopOZFy9HnoJd5XW8='],
  [
    46,
    'fe80:0001:0203:0405:0607:0809:0A0B:0C0D',
    'fe80:1011:1213:1415:1617:1819:1A1B:1C1D',
    0,
    0,
    '1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=',
    '1:j6EyyfBzL4vWKHFXgUqb5Az3OxM=',
  ],
  [
    46,
    'fe80:1011:1213:1415:1617:1819:1A1B:1C1D',
    'fe80:0001:0203:0405:0607:0809:0A0B:0C0D',
    0,
    0,
    '1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=',
    '1:j6EyyfBzL4vWKHFXgUqb5Az3OxM=',
  ],
]

/** baseline_deflt.json: [proto, saddr, daddr, sport, dport, id]. */
const BASELINE: readonly [number, string, string, number | null, number | null, string][] = [
  [58, 'fe80::200:86ff:fe05:80da', 'fe80::260:97ff:fe07:69ea', 135, 136, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY='],
  [58, 'fe80::260:97ff:fe07:69ea', 'fe80::200:86ff:fe05:80da', 136, 135, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY='],
  [58, 'fe80::260:97ff:fe07:69ea', 'fe80::200:86ff:fe05:80da', 135, 136, '1:zavyT/cezQr1fmImYCwYnMXbgck='],
  [58, 'fe80::200:86ff:fe05:80da', 'fe80::260:97ff:fe07:69ea', 136, 135, '1:zavyT/cezQr1fmImYCwYnMXbgck='],
  [58, '3ffe:501:1800:2345::2', '3ffe:507:0:1:200:86ff:fe05:80da', 3, 0, '1:2ObVBgIn28oZvibYZhZMBgh7WdQ='],
  [
    58,
    '3ffe:501:410:0:2c0:dfff:fe47:33e',
    '3ffe:507:0:1:200:86ff:fe05:80da',
    1,
    4,
    '1:hLZd0XGWojozrvxqE0dWB1iM6R0=',
  ],
  [58, '3ffe:507:0:1:200:86ff:fe05:80da', '3ffe:501:0:1001::2', 128, 129, '1:+TW+HtLHvV1xnGhV1lv7XoJrqQg='],
  [58, '3ffe:501:0:1001::2', '3ffe:507:0:1:200:86ff:fe05:80da', 129, 128, '1:+TW+HtLHvV1xnGhV1lv7XoJrqQg='],
  [58, 'fe80::200:86ff:fe05:80da', 'ff02::2', 133, 134, '1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0='],
  [58, 'fe80::260:97ff:fe07:69ea', 'ff02::1', 134, 133, '1:pkvHqCL88/tg1k4cPigmZXUtL00='],
  [1, '192.168.0.89', '192.168.0.1', 8, 0, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk='],
  [1, '192.168.0.1', '192.168.0.89', 0, 8, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk='],
  [1, '10.0.0.1', '10.0.0.2', 11, 0, '1:YHxtAirCG//0OzkcVAukqKQN9xM='],
  [
    6,
    '2001:470:e5bf:dead:4957:2174:e82c:4887',
    '2607:f8b0:400c:c03::1a',
    63943,
    25,
    '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=',
  ],
  [
    6,
    '2607:f8b0:400c:c03::1a',
    '2001:470:e5bf:dead:4957:2174:e82c:4887',
    25,
    63943,
    '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=',
  ],
  [132, '192.168.170.8', '192.168.170.56', 7, 7, '1:MP2EtRCAUIZvTw6MxJHLV7N7JDs='],
  [132, '192.168.170.56', '192.168.170.8', 7, 7, '1:MP2EtRCAUIZvTw6MxJHLV7N7JDs='],
  [6, '128.232.110.120', '66.35.250.204', 34855, 80, '1:LQU9qZlK+B5F3KDmev6m5PMibrg='],
  [6, '66.35.250.204', '128.232.110.120', 80, 34855, '1:LQU9qZlK+B5F3KDmev6m5PMibrg='],
  [17, '192.168.1.52', '8.8.8.8', 54585, 53, '1:d/FP5EW3wiY1vCndhwleRRKHowQ='],
  [17, '8.8.8.8', '192.168.1.52', 53, 54585, '1:d/FP5EW3wiY1vCndhwleRRKHowQ='],
  [46, '10.1.12.1', '10.1.12.2', null, null, '1:KHlLkgoJW7ifUTyTSgyVfkFHzKw='],
  [46, '10.1.12.2', '10.1.12.1', null, null, '1:KHlLkgoJW7ifUTyTSgyVfkFHzKw='],
]

/** ICMP types that have a reply type: in the JSON their second "port" is that type, not a code. */
const TWO_WAY = new Set([0, 8, 9, 10, 13, 14, 15, 16, 17, 18])
const TWO_WAY6 = new Set([128, 129, 130, 131, 133, 134, 135, 136, 139, 140, 144, 145])

describe('Community ID v1 (published test vectors)', () => {
  test('the README tables, seed 0 and seed 1', () => {
    for (const [protocol, srcAddr, dstAddr, srcPort, dstPort, seed0, seed1] of TABLE) {
      const flow = { protocol, srcAddr, dstAddr, srcPort, dstPort }
      assert.equal(communityId(flow), seed0, JSON.stringify(flow))
      assert.equal(communityId(flow, 1), seed1, `${JSON.stringify(flow)} seed 1`)
    }
  })

  test('baseline_deflt.json', () => {
    for (const [protocol, srcAddr, dstAddr, sport, dport, expected] of BASELINE) {
      // For two-way ICMP types the JSON gives the reply type as dport; the code (unknown) does not count.
      const twoWay = protocol === 1 ? TWO_WAY.has(sport ?? -1) : protocol === 58 && TWO_WAY6.has(sport ?? -1)
      const flow = { protocol, srcAddr, dstAddr, srcPort: sport ?? 0, dstPort: twoWay ? 0 : (dport ?? 0) }
      assert.equal(communityId(flow), expected, JSON.stringify(flow))
    }
  })

  test('is null for mixed families and non-addresses', () => {
    assert.equal(
      communityId({ protocol: 6, srcAddr: '1.2.3.4', dstAddr: '::1', srcPort: 1, dstPort: 2 }),
      null,
    )
    assert.equal(
      communityId({ protocol: 6, srcAddr: 'eni-1', dstAddr: '1.2.3.4', srcPort: 1, dstPort: 2 }),
      null,
    )
  })
})

describe('communityIdOfRow', () => {
  test('uses the packet addresses when the record has them', () => {
    const row = {
      protocol: 6,
      srcaddr: '10.0.0.9',
      dstaddr: '5.6.7.8',
      'pkt-srcaddr': '1.2.3.4',
      'pkt-dstaddr': '5.6.7.8',
      srcport: 1122,
      dstport: 3344,
    }
    assert.equal(communityIdOfRow(row), '1:wCb3OG7yAFWelaUydu0D+125CLM=')
  })

  test('falls back to srcaddr/dstaddr (the AWS default format)', () => {
    const row = { protocol: 17, srcaddr: '5.6.7.8', dstaddr: '1.2.3.4', srcport: 3344, dstport: 1122 }
    assert.equal(communityIdOfRow(row), '1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=')
  })

  test('is null for ICMP (flow logs keep no type or code), NODATA rows and rows without addresses', () => {
    assert.equal(
      communityIdOfRow({ protocol: 1, srcaddr: '1.2.3.4', dstaddr: '5.6.7.8', srcport: 0, dstport: 0 }),
      null,
    )
    assert.equal(
      communityIdOfRow({ protocol: null, srcaddr: null, dstaddr: null, 'log-status': 'NODATA' }),
      null,
    )
    assert.equal(communityIdOfRow({ protocol: 6, srcport: 1, dstport: 2 }), null)
  })
})

describe('elasticCommunityIdOfRow (community-id-elastic)', () => {
  test("uses srcaddr/dstaddr as Elastic's AWS module does, not the packet addresses", () => {
    const row = {
      protocol: 6,
      srcaddr: '1.2.3.4',
      dstaddr: '5.6.7.8',
      'pkt-srcaddr': '10.0.0.9',
      'pkt-dstaddr': '10.0.0.10',
      srcport: 1122,
      dstport: 3344,
    }
    assert.equal(elasticCommunityIdOfRow(row), '1:wCb3OG7yAFWelaUydu0D+125CLM=')
    assert.notEqual(communityIdOfRow(row), elasticCommunityIdOfRow(row))
  })

  test('gives ICMP the id of type 0, code 0 (the spec vector for an echo reply)', () => {
    const reply = { protocol: 1, srcaddr: '5.6.7.8', dstaddr: '1.2.3.4', srcport: 0, dstport: 0 }
    assert.equal(elasticCommunityIdOfRow(reply), '1:crodRHL2FEsHjbv3UkRrfbs4bZ0=')
    assert.equal(communityIdOfRow(reply), null)
  })

  test('is null without addresses (NODATA)', () => {
    assert.equal(elasticCommunityIdOfRow({ protocol: null, srcaddr: null, dstaddr: null }), null)
  })
})

describe('community-id as an output field', () => {
  test('the formatters fill it from the packet addresses, null for ICMP', async () => {
    const { AWS_FIELD_VALUES, NHN_FIELD_VALUES } = await import('../format/field-values.js')
    const value = AWS_FIELD_VALUES.get('community-id')!
    assert.equal(NHN_FIELD_VALUES.get('community-id'), value)
    const record = {
      status: 0,
      protocol: 6,
      pktSrcAddr: '5.6.7.8',
      pktDstAddr: '1.2.3.4',
      srcPort: 3344,
      dstPort: 1122,
    } as unknown as Parameters<typeof value>[0]
    const scope = {} as Parameters<typeof value>[1]
    assert.equal(value(record, scope), '1:wCb3OG7yAFWelaUydu0D+125CLM=')
    assert.equal(value({ ...record, protocol: 1 }, scope), null)
    assert.equal(value({ ...record, status: 1 } as typeof record, scope), null)
  })
})
