import assert from 'node:assert/strict'
import { Buffer } from 'node:buffer'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { formatAddress } from '../core/address.js'
import type { RecordBatch } from '../core/flow-record.js'
import type { FileFormat, NetworkConfig } from '../core/network.js'
import type { Formatter } from '../core/stages.js'
import { ACTION, DIRECTION, LOG_STATUS } from '../core/verdict.js'
import { MAX_ADDRESS_BYTES, MAX_NUMBER_BYTES, putAddress, putNumber } from './ascii-bytes.js'
import { expandBatch } from './expand-batch.js'
import { AWS_FIELD_VALUES, NHN_FIELD_VALUES } from './field-values.js'
import { formatterFor } from './registry.js'
import {
  assertGolden,
  DEFAULT_FIELDS,
  SAMPLE_RULE_IDS,
  sampleBatch,
  sampleNetwork,
  type TestRow,
  testBatch,
  testFlowLog,
  testInterface,
  testNetwork,
} from './test-fixtures.js'

const AWS_ALL = [...AWS_FIELD_VALUES.keys()]
const NHN_ALL = [...NHN_FIELD_VALUES.keys()]
const RULE_IDS = ['sgr-a', 'sgr-b,with-comma', 'sgr-"quoted"']

/** The sample network plus an IPv6-only interface, so IPv4 records on it keep the packet's address. */
function network(): NetworkConfig {
  return testNetwork([
    testInterface('eni-web1', ['10.0.1.10', '10.0.1.11', '2001:db8:a::10'], { instance: 'i-web1' }),
    testInterface('eni-db1', ['10.0.2.20'], { subnet: 'subnet-0a2' }),
    testInterface('eni-v6', ['2001:db8:a::30'], { instance: 'i-v6' }),
  ])
}

const W = 1700000040
const { INGRESS, EGRESS, UNKNOWN } = DIRECTION
const { ACCEPT, REJECT } = ACTION

/** Every case the two paths could disagree on, one row each. */
function variedBatch(): RecordBatch {
  const rows: TestRow[] = [
    {
      iface: 0,
      direction: INGRESS,
      src: '203.0.113.5',
      dst: '10.0.1.11',
      srcPort: 51000,
      dstPort: 22,
      cause: 0,
    },
    {
      iface: 0,
      direction: EGRESS,
      src: '10.0.1.11',
      dst: '10.0.2.20',
      srcPort: 22,
      dstPort: 51000,
      cause: 1,
    },
    { iface: 1, direction: INGRESS, src: '10.0.1.10', dst: '10.0.2.20', protocol: 17, cause: 2 },
    { iface: 0, direction: UNKNOWN, src: '10.0.9.9', dst: '10.0.9.8', protocol: 17, cause: 0 },
    {
      iface: 0,
      direction: INGRESS,
      action: REJECT,
      protocol: 1,
      src: '198.51.100.7',
      dst: '10.0.1.10',
      cause: -1,
    },
    {
      iface: 0,
      direction: INGRESS,
      action: REJECT,
      src: '2001:db8:ffff::1',
      dst: '2001:db8:a::10',
      cause: -2,
    },
    { iface: 0, direction: EGRESS, src: '2001:db8:a::11', dst: '2001:db8:a::99', protocol: 58, cause: 1 },
    { iface: 2, direction: INGRESS, src: '198.51.100.1', dst: '10.0.1.40', cause: 0 },
    { iface: 2, direction: EGRESS, src: '::1', dst: '::', cause: 0 },
    { iface: 2, direction: EGRESS, src: '1:0:0:1:0:0:0:1', dst: '2001:db8::', cause: 0 },
    { iface: 2, direction: EGRESS, src: '1:2:3:4:5:6:7:8', dst: '0:1:0:1:0:1:0:1', cause: 0 },
    {
      iface: 2,
      direction: INGRESS,
      src: 'fe80::1:0:0:1',
      dst: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      cause: 0,
    },
    { iface: 0, direction: INGRESS, src: '0.0.0.0', dst: '255.255.255.255', protocol: 132, cause: 0 },
    // Counts past 2^31, times outside the window (clamped), a rule and a reason the lists lack.
    { iface: 1, src: '10.0.2.1', dst: '10.0.2.20', packets: 2 ** 31 + 5, bytes: 2 ** 53 - 1, cause: 99 },
    { iface: 1, src: '10.0.2.1', dst: '10.0.2.20', first: W - 3.5, last: W + 75, action: REJECT, cause: -3 },
    { iface: 1, src: '10.0.2.1', dst: '10.0.2.20', first: W + 0.123, last: W + 59.9995, bytes: 1e12 },
    // Interface indexes the config does not know.
    { iface: 7, direction: EGRESS, src: '10.0.1.10', dst: '10.0.1.11', cause: 0 },
    { iface: -1, status: LOG_STATUS.NODATA },
    { iface: 1, status: LOG_STATUS.SKIPDATA, packets: 1234, bytes: 567890 },
    { iface: 2, status: LOG_STATUS.SKIPDATA, packets: 3e9, bytes: 4e12, direction: EGRESS, action: REJECT },
    { iface: 0, status: LOG_STATUS.NODATA, action: REJECT, direction: UNKNOWN },
  ]
  return testBatch(W, W + 60, rows)
}

function objectPath(
  format: FileFormat,
  fields: readonly string[],
  batch: RecordBatch,
  net: NetworkConfig,
  ruleIds: readonly string[],
  selection: Uint32Array | null,
): Buffer {
  const flowLog = testFlowLog({ fields: [...fields], fileFormat: format })
  const records = expandBatch(batch, net, ruleIds)
  const selected = selection === null ? records : [...selection].map((i) => records[i]!)
  return Buffer.from(formatterFor(format).encode(selected, { flowLog, network: net }) as Uint8Array)
}

function columnPath(
  format: FileFormat,
  fields: readonly string[],
  batch: RecordBatch,
  net: NetworkConfig,
  ruleIds: readonly string[],
  selection: Uint32Array | null,
): Buffer {
  const flowLog = testFlowLog({ fields: [...fields], fileFormat: format })
  const formatter: Formatter = formatterFor(format)
  assert.ok(formatter.encodeBatch, `${format} reads the columns`)
  return Buffer.from(
    formatter.encodeBatch(batch, selection, { flowLog, network: net, ruleIds }) as Uint8Array,
  )
}

const TEXT_FORMATS: [FileFormat, readonly string[]][] = [
  ['text', AWS_ALL],
  ['jsonl', AWS_ALL],
  ['nhn-csv', NHN_ALL],
]

describe('column encoder', () => {
  for (const [format, all] of TEXT_FORMATS) {
    test(`${format}: the same bytes as the records, on every field`, () => {
      const batch = variedBatch()
      const net = network()
      for (const fields of [all, ...all.map((f) => [f]), []]) {
        assert.equal(
          columnPath(format, fields, batch, net, RULE_IDS, null).toString(),
          objectPath(format, fields, batch, net, RULE_IDS, null).toString(),
          `fields ${fields.join(' ')}`,
        )
      }
    })

    test(`${format}: a selection writes those records, in its order`, () => {
      const batch = variedBatch()
      const net = network()
      for (const indexes of [[], [3, 4, 5, 17, 18], [20, 0, 10]]) {
        const selection = Uint32Array.from(indexes)
        assert.equal(
          columnPath(format, all, batch, net, RULE_IDS, selection).toString(),
          objectPath(format, all, batch, net, RULE_IDS, selection).toString(),
        )
      }
    })

    test(`${format}: a large window (the buffer grows) is the same`, () => {
      const rows: TestRow[] = []
      for (let i = 0; i < 5000; i++) {
        const v6 = i % 7 === 0
        rows.push({
          iface: i % 3,
          direction: i % 3,
          action: i % 5 === 0 ? REJECT : ACCEPT,
          src: v6
            ? `2001:db8:${(i % 65536).toString(16)}::${i.toString(16)}`
            : `198.18.${(i >> 8) & 255}.${i & 255}`,
          dst: v6 ? '2001:db8:a::10' : '10.0.1.10',
          srcPort: i % 65536,
          dstPort: 443,
          packets: i,
          bytes: i * 1500,
          first: W + (i % 60),
          last: W + (i % 60) + 0.5,
          cause: i % 5 === 0 ? -1 : i % 3,
        })
      }
      const batch = testBatch(W, W + 60, rows)
      const net = network()
      assert.ok(
        columnPath(format, all, batch, net, RULE_IDS, null).equals(
          objectPath(format, all, batch, net, RULE_IDS, null),
        ),
      )
    })
  }

  test('random batches: the same bytes in every text format', () => {
    const words = fc.integer({ min: 0, max: 0xffffffff })
    const v6Word = fc.oneof(fc.constant(0), fc.constant(0xffff), words)
    const row = fc.record({
      iface: fc.integer({ min: -1, max: 4 }),
      status: fc.integer({ min: 0, max: 2 }),
      direction: fc.integer({ min: 0, max: 2 }),
      action: fc.integer({ min: 0, max: 1 }),
      protocol: fc.constantFrom(1, 6, 17, 58, 132, 0, 255),
      v4: fc.boolean(),
      src: fc.tuple(v6Word, v6Word, v6Word, words),
      dst: fc.tuple(v6Word, v6Word, v6Word, words),
      srcPort: fc.integer({ min: 0, max: 65535 }),
      dstPort: fc.integer({ min: 0, max: 65535 }),
      packets: fc.oneof(fc.nat(), fc.maxSafeNat()),
      bytes: fc.oneof(fc.nat(), fc.maxSafeNat()),
      first: fc.double({ min: W - 2, max: W + 62, noNaN: true }),
      last: fc.double({ min: W - 2, max: W + 62, noNaN: true }),
      awsTcpFlags: fc.integer({ min: 0, max: 255 }),
      nhnTcpFlags: fc.integer({ min: 0, max: 255 }),
      cause: fc.integer({ min: -3, max: 4 }),
    })
    const net = network()
    fc.assert(
      fc.property(fc.array(row, { maxLength: 12 }), (rows) => {
        const batch = testBatch(W, W + 60, [])
        const n = rows.length
        Object.assign(batch, testBatch(W, W + 60, new Array(n).fill({ iface: 0 })))
        rows.forEach((r, i) => {
          batch.iface[i] = r.iface
          batch.status[i] = r.status
          batch.direction[i] = r.direction
          batch.action[i] = r.action
          batch.protocol[i] = r.protocol
          // Both addresses of a record have the packet's one family.
          for (const [words, value] of [
            [batch.src, r.src],
            [batch.dst, r.dst],
          ] as const) {
            if (r.v4) words.set([0, 0, 0xffff, value[3]], 4 * i)
            else
              words.set(value[2] === 0xffff && value[0] === 0 && value[1] === 0 ? [1, 0, 0, 0] : value, 4 * i)
          }
          batch.srcPort[i] = r.srcPort
          batch.dstPort[i] = r.dstPort
          batch.packets[i] = r.packets
          batch.bytes[i] = r.bytes
          batch.first[i] = r.first
          batch.last[i] = r.last
          batch.awsTcpFlags[i] = r.awsTcpFlags
          batch.nhnTcpFlags[i] = r.nhnTcpFlags
          batch.cause[i] = r.cause
        })
        for (const [format, all] of TEXT_FORMATS) {
          assert.equal(
            columnPath(format, all, batch, net, RULE_IDS, null).toString(),
            objectPath(format, all, batch, net, RULE_IDS, null).toString(),
          )
        }
      }),
      { numRuns: 300 },
    )
  })

  test('the golden files, written from the columns', () => {
    const V2 = DEFAULT_FIELDS.join(' ')
    const V3 = `${V2} vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr`
    const V5 = `${V3} region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path`
    const EXTRAS = 'rule-id reject-reason-detail start-ms end-ms skipped-packets skipped-bytes'
    const golden = (name: string, format: FileFormat, fields: string) =>
      assertGolden(
        import.meta.url,
        name,
        columnPath(
          format,
          fields.split(' '),
          sampleBatch(),
          sampleNetwork(),
          SAMPLE_RULE_IDS,
          null,
        ).toString(),
      )
    golden('text-v2-default.txt', 'text', V2)
    golden('text-v3.txt', 'text', V3)
    golden('text-v8-extras.txt', 'text', `${V5} reject-reason ${EXTRAS}`)
    golden('text-extras-only.txt', 'text', `interface-id ${EXTRAS} log-status`)
    golden('sample.jsonl', 'jsonl', `${V5} reject-reason ${EXTRAS}`)
  })
})

describe('ASCII writers', () => {
  test('putAddress writes what formatAddress returns', () => {
    const out = Buffer.alloc(MAX_ADDRESS_BYTES)
    const word = fc.oneof(fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffffffff }))
    fc.assert(
      fc.property(fc.tuple(word, word, word, word), (w) => {
        const words = Uint32Array.from(w)
        const end = putAddress(out, 0, words, 0)
        assert.equal(out.toString('latin1', 0, end), formatAddress(words))
      }),
      { numRuns: 2000 },
    )
  })

  test('putNumber writes what String returns', () => {
    const out = Buffer.alloc(MAX_NUMBER_BYTES)
    const check = (n: number) =>
      assert.equal(out.toString('latin1', 0, putNumber(out, 0, n)), String(n), String(n))
    for (const n of [
      0,
      -0,
      9,
      10,
      99,
      100,
      2 ** 31 - 1,
      2 ** 31,
      1e9,
      1e9 - 1,
      1e10,
      2 ** 53 - 1,
      2 ** 53,
      -1,
    ])
      check(n)
    // The longest String of a double is the fixed form of a small negative number, not the exponent form.
    for (const n of [
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      -Number.MAX_VALUE,
      1e21,
      5e-324,
      -0.0000010015083565941111,
    ])
      check(n)
    fc.assert(fc.property(fc.oneof(fc.maxSafeNat(), fc.double()), check), { numRuns: 2000 })
  })
})
