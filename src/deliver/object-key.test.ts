import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InputError } from '../core/errors.js'
import type { FlowLogSpec } from '../core/network.js'
import { sampleNetwork, testFlowLog } from '../format/test-fixtures.js'
import { destinationPrefix, objectKey, windowHash } from './object-key.js'

// 2024-09-01T22:05:00Z
const T = Date.UTC(2024, 8, 1, 22, 5, 0) / 1000
const network = sampleNetwork()

function key(overrides: Partial<FlowLogSpec>, start = T, end = T + 60, extension = 'log'): string {
  return objectKey(testFlowLog(overrides), network, start, end, extension)
}

describe('objectKey', () => {
  const hash = windowHash(testFlowLog(), T, T + 60)

  test('aws layout, daily and hourly, gzip', () => {
    const name = `123456789010_vpcflowlogs_kr1_fl-0001_20240901T2205Z_${hash}.log.gz`
    assert.equal(key({ layout: 'aws' }), `AWSLogs/123456789010/vpcflowlogs/kr1/2024/09/01/${name}`)
    assert.equal(
      key({ layout: 'aws', perHourPartition: true }),
      `AWSLogs/123456789010/vpcflowlogs/kr1/2024/09/01/22/${name}`,
    )
  })

  test('aws-hive layout, daily and hourly, uncompressed', () => {
    const name = `123456789010_vpcflowlogs_kr1_fl-0001_20240901T2205Z_${hash}.log`
    const base =
      'AWSLogs/aws-account-id=123456789010/aws-service=vpcflowlogs/aws-region=kr1/year=2024/month=09/day=01/'
    assert.equal(key({ layout: 'aws-hive', compression: 'none' }), `${base}${name}`)
    assert.equal(
      key({ layout: 'aws-hive', compression: 'none', perHourPartition: true }),
      `${base}hour=22/${name}`,
    )
  })

  test('nhn layout expands the file-name template', () => {
    const template = '#{logger_id}_#{year}-#{month}-#{day}T#{hour}:#{minute}:#{second}Z'
    assert.equal(
      key({ layout: 'nhn', fileNameTemplate: template, fileFormat: 'nhn-csv' }, T + 7, T + 8, 'csv'),
      '2024/09/01/fl-0001_2024-09-01T22:05:07Z.csv.gz',
    )
    assert.equal(
      key(
        { layout: 'nhn', fileNameTemplate: template, compression: 'none', perHourPartition: true },
        T,
        T + 60,
        'csv',
      ),
      '2024/09/01/22/fl-0001_2024-09-01T22:05:00Z.csv',
    )
  })

  test('a window no flow log can carry is refused, never turned into a NaN key', () => {
    // 18446744073204 s: what a pcapng timestamp of 2^64 - 1 microseconds reads as.
    for (const [start, end] of [
      [18446744073200, 18446744073260],
      [Number.NaN, Number.NaN],
      [-60, 0],
      [253402300800, 253402300860],
      [T, T],
      [T, Number.POSITIVE_INFINITY],
    ] as const) {
      assert.throws(() => key({ layout: 'aws' }, start, end), RangeError, `${start}..${end}`)
      assert.throws(() => key({ layout: 'nhn' }, start, end, 'csv'), RangeError, `${start}..${end}`)
    }
    // The last window a packet can open (interval 60) and the first of 1970 are fine.
    assert.match(key({ layout: 'aws' }, 253402299840, 253402299900), /\/9999\/12\/31\/.*_99991231T2344Z_/)
    assert.match(key({ layout: 'aws' }, 0, 60), /\/1970\/01\/01\/.*_19700101T0000Z_/)
  })

  test('s3 destinations put their path in front; file destinations do not', () => {
    assert.equal(destinationPrefix('s3://bucket'), '')
    assert.equal(destinationPrefix('s3://bucket/'), '')
    assert.equal(destinationPrefix('s3://bucket/logs//vpc/'), 'logs/vpc/')
    assert.equal(destinationPrefix('file:///var/lib/flowlog'), '')
    assert.match(key({ destination: 's3://bucket/team-a' }), /^team-a\/AWSLogs\/123456789010\//)
    assert.match(
      key({ destination: 's3://bucket/team-a', layout: 'nhn', compression: 'none' }, T, T + 60, 'csv'),
      /^team-a\/2024\/09\/01\/fl-0001_/,
    )
  })

  test('times are UTC and come from the window start', () => {
    const lastMinute = Date.UTC(2023, 11, 31, 23, 59, 0) / 1000
    assert.match(
      key({ layout: 'aws', perHourPartition: true }, lastMinute, lastMinute + 600),
      /\/2023\/12\/31\/23\/123456789010_vpcflowlogs_kr1_fl-0001_20231231T2359Z_[0-9a-f]{8}\.log\.gz$/,
    )
  })

  test('1-second windows in the same minute get distinct, repeatable keys', () => {
    for (const layout of ['aws', 'aws-hive'] as const) {
      const keys = Array.from({ length: 60 }, (_, s) =>
        key({ layout, aggregationInterval: 1 }, T + s, T + s + 1),
      )
      assert.equal(new Set(keys).size, 60)
      assert.equal(key({ layout, aggregationInterval: 1 }, T + 5, T + 6), keys[5])
    }
  })

  test('the hash tells flow logs and file formats apart', () => {
    const base = windowHash(testFlowLog(), T, T + 60)
    assert.match(base, /^[0-9a-f]{8}$/)
    assert.notEqual(windowHash(testFlowLog({ id: 'fl-0002' }), T, T + 60), base)
    assert.notEqual(windowHash(testFlowLog({ fileFormat: 'jsonl' }), T, T + 60), base)
    assert.notEqual(windowHash(testFlowLog(), T, T + 1), base)
  })

  test("a fleet's hosts write the same window under keys of their own, each repeatable", () => {
    const fleetKey = (agentHost: string, overrides: Partial<FlowLogSpec> = {}) =>
      objectKey(testFlowLog(overrides), { ...network, agentHost }, T, T + 60, 'log')
    for (const layout of ['aws', 'aws-hive'] as const) {
      const keys = ['hv-01', 'hv-02', 'hv-03'].map((h) => fleetKey(h, { layout }))
      assert.equal(
        new Set([...keys, key({ layout })]).size,
        4,
        'no host writes over another or a single host',
      )
      assert.equal(fleetKey('hv-02', { layout }), keys[1])
      // The AWS name stays AWS's: only the hash differs.
      assert.match(keys[0] ?? '', /_fl-0001_20240901T2205Z_[0-9a-f]{8}\.log\.gz$/)
    }
    assert.equal(
      fleetKey('hv-01.lan', {
        layout: 'nhn',
        fileNameTemplate: '#{logger_id}_#{year}#{month}#{day}#{hour}#{minute}#{second}',
      }),
      '2024/09/01/fl-0001_20240901220500_hv-01.lan.log.gz',
    )
  })

  test('an unknown template placeholder or an unsafe key is an input error', () => {
    assert.throws(() => key({ layout: 'nhn', fileNameTemplate: '#{logger_id}_#{week}' }), InputError)
    assert.throws(() => key({ layout: 'nhn', fileNameTemplate: '../#{logger_id}#{second}' }), InputError)
    assert.throws(() => key({ layout: 'nhn', fileNameTemplate: '#{logger_id}//#{second}' }), InputError)
    assert.throws(() => key({ layout: 'aws', id: '../../etc' }), InputError)
  })
})
