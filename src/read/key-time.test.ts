import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { keyMayHold, keyTimeSpan } from './key-time.js'

const t = (iso: string) => Date.parse(iso) / 1000

describe('keyTimeSpan: record times a key can hold', () => {
  test('aws layout: day folders and the file-name stamp, with slack for late and long records', () => {
    const day = keyTimeSpan('logs/AWSLogs/123456789012/vpcflowlogs/kr1/2024/06/01')!
    assert.equal(day.from, t('2024-06-01T00:00:00Z') - 1200)
    assert.equal(day.to, t('2024-06-02T00:00:00Z') + 1200)
    const file = keyTimeSpan(
      'AWSLogs/123456789012/vpcflowlogs/kr1/2024/06/01/123456789012_vpcflowlogs_kr1_fl-1_20240601T1205Z_c45d1b4f.log.gz',
    )!
    assert.deepEqual(file, { from: t('2024-06-01T12:05:00Z') - 1200, to: t('2024-06-01T12:05:00Z') + 1200 })
  })

  test('hive layout with hour partitions', () => {
    const span = keyTimeSpan(
      'AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=kr1/year=2024/month=06/day=01/hour=13',
    )!
    assert.deepEqual(span, { from: t('2024-06-01T13:00:00Z') - 1200, to: t('2024-06-01T14:00:00Z') + 1200 })
  })

  test('a year or month folder being listed', () => {
    assert.deepEqual(keyTimeSpan('AWSLogs/1/vpcflowlogs/kr1/2024'), {
      from: t('2024-01-01T00:00:00Z') - 1200,
      to: t('2025-01-01T00:00:00Z') + 1200,
    })
    assert.equal(keyTimeSpan('AWSLogs/1/vpcflowlogs/kr1/2024/12')!.to, t('2025-01-01T00:00:00Z') + 1200)
  })

  test('nhn layout: folders may be KST (NHN Cloud) or UTC (flowlog), so ±14 h; KST file names are converted', () => {
    const folder = keyTimeSpan('bucket/flowlogs/2024/09/01/22')!
    assert.equal(folder.from, t('2024-09-01T22:00:00Z') - 14 * 3600 - 1200)
    const kst = keyTimeSpan('x/2024/09/01/22/logger-1_2024-09-01T22:00:00KST.csv.gz')!
    assert.ok(kst.from <= t('2024-09-01T13:00:00Z') && kst.to > t('2024-09-01T13:00:00Z'))
    assert.ok(kst.to < t('2024-09-01T22:00:00Z'), 'KST 22:00 is 13:00 UTC')
    const utc = keyTimeSpan('2024/06/01/fl-nhn01_2024-06-01T12:02:00Z.csv.gz')!
    assert.ok(utc.from < t('2024-06-01T12:02:00Z') && utc.to > t('2024-06-01T12:03:59Z'))
  })

  test('keys without times are never pruned; ids made of digits are not years', () => {
    assert.equal(keyTimeSpan('some/dir/file.log.gz'), null)
    assert.equal(keyTimeSpan('AWSLogs/123456789012/vpcflowlogs'), null)
    assert.equal(keyTimeSpan('data/2024/logs/x.gz'), null)
    assert.equal(keyMayHold('some/dir/file.log.gz', 0, 1), true)
  })
})

describe('keyMayHold', () => {
  const key = 'AWSLogs/1/vpcflowlogs/kr1/2024/06/01/1_vpcflowlogs_kr1_fl-1_20240601T1200Z_abcd.log.gz'
  test('keeps files that may overlap the range, drops the rest', () => {
    assert.equal(keyMayHold(key, t('2024-06-01T12:00:00Z'), t('2024-06-01T12:01:00Z')), true)
    assert.equal(keyMayHold(key, t('2024-06-01T12:15:00Z'), undefined), true, 'within the slack')
    assert.equal(keyMayHold(key, t('2024-06-01T13:00:00Z'), undefined), false)
    assert.equal(keyMayHold(key, undefined, t('2024-06-01T11:00:00Z')), false)
    assert.equal(keyMayHold('AWSLogs/1/vpcflowlogs/kr1/2024/05', t('2024-06-02T00:00:00Z'), undefined), false)
    assert.equal(keyMayHold(key, undefined, undefined), true)
  })
})
