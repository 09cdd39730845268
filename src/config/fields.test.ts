import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  awsVersionOf,
  DEFAULT_JSONL_FIELDS,
  DEFAULT_LOG_FORMAT,
  DEFAULT_NHN_FIELDS,
  FIELD_CATALOGUE,
  fieldsOfFormat,
  findField,
} from './fields.js'

test('every AWS field of versions 2-5 and reject-reason (8), with its version', () => {
  const byVersion = (v: number) =>
    FIELD_CATALOGUE.filter((f) => f.family === 'aws' && f.version === v).map((f) => f.name)
  assert.equal(byVersion(2).length, 14)
  assert.deepEqual(byVersion(3), [
    'vpc-id',
    'subnet-id',
    'instance-id',
    'tcp-flags',
    'type',
    'pkt-srcaddr',
    'pkt-dstaddr',
  ])
  assert.deepEqual(byVersion(4), ['region', 'az-id', 'sublocation-type', 'sublocation-id'])
  assert.deepEqual(byVersion(5), [
    'pkt-src-aws-service',
    'pkt-dst-aws-service',
    'flow-direction',
    'traffic-path',
  ])
  assert.deepEqual(byVersion(8), ['reject-reason'])
})

test('the NHN fields and flowlog extras; names are unique within a family', () => {
  assert.equal(FIELD_CATALOGUE.filter((f) => f.family === 'nhn').length, 25)
  assert.deepEqual(
    FIELD_CATALOGUE.filter((f) => f.family === 'flowlog').map((f) => f.name),
    [
      'rule-id',
      'reject-reason-detail',
      'start-ms',
      'end-ms',
      'skipped-packets',
      'skipped-bytes',
      'community-id',
    ],
  )
  const keys = FIELD_CATALOGUE.map((f) => `${f.family}:${f.name}`)
  assert.equal(new Set(keys).size, keys.length)
  assert.equal(findField('region', 'nhn')?.family, 'nhn')
  assert.equal(findField('srcaddr', 'nhn'), undefined)
})

test('defaults: AWS v2 format, 18 NHN fields, JSONL = AWS v5 + attribution', () => {
  assert.equal(DEFAULT_LOG_FORMAT.split(' ').length, 14)
  assert.deepEqual(
    DEFAULT_NHN_FIELDS.join(','),
    'timestamp_start,timestamp_end,interface_id,vm_id,subnet_id,vpc_id,region,protocol,src_addr,dst_addr,src_port,dst_port,tcp_flag,packets,bytes,direction,filter,status',
  )
  assert.ok(!DEFAULT_NHN_FIELDS.includes('owner_type') && !DEFAULT_NHN_FIELDS.includes('owner_id'))
  // owner_type and owner_id stay available by name.
  const byName = fieldsOfFormat('nhn-csv').map((f) => f.name)
  assert.ok(byName.includes('owner_type') && byName.includes('owner_id'))
  assert.equal(DEFAULT_JSONL_FIELDS.length, 29 + 2)
  const nhnNames = fieldsOfFormat('nhn-csv').map((f) => f.name)
  for (const name of DEFAULT_NHN_FIELDS) assert.ok(nhnNames.includes(name), name)
})

test('the AWS version of a format is the highest among its fields, at least 2', () => {
  assert.equal(awsVersionOf(['srcaddr', 'rule-id']), 2)
  assert.equal(awsVersionOf(['srcaddr', 'tcp-flags']), 3)
  assert.equal(awsVersionOf(['flow-direction', 'region']), 5)
  assert.equal(awsVersionOf(['reject-reason']), 8)
})
