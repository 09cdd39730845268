import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ControlError } from '../../control/control-error.js'
import { destinationOf, logDestinationOf } from './flow-log-destination.js'

const refused = (code: string, pattern: RegExp) => (e: unknown) =>
  e instanceof ControlError && e.code === code && pattern.test(e.message)

test('s3 ARNs become s3:// URLs and back; file:// is the local-directory extension', () => {
  assert.equal(destinationOf('s3', 'arn:aws:s3:::sst-vpc-demo'), 's3://sst-vpc-demo')
  assert.equal(destinationOf('s3', 'arn:aws:s3:::logs/tenant-a/flows/'), 's3://logs/tenant-a/flows')
  assert.equal(destinationOf('s3', 'arn:aws-cn:s3:::logs'), 's3://logs')
  assert.equal(destinationOf('s3', 'file:///var/lib/flowlog/logs/'), 'file:///var/lib/flowlog/logs')
  assert.equal(logDestinationOf('s3://sst-vpc-demo'), 'arn:aws:s3:::sst-vpc-demo')
  assert.equal(logDestinationOf('s3://logs/tenant-a/flows'), 'arn:aws:s3:::logs/tenant-a/flows/')
  assert.equal(logDestinationOf('file:///var/lib/flowlog/logs'), 'file:///var/lib/flowlog/logs')
})

test('CloudWatch Logs (the AWS default) and Firehose are refused by name', () => {
  assert.throws(
    () => destinationOf(undefined, undefined),
    refused('InvalidParameterValue', /cloud-watch-logs \(the default/),
  )
  assert.throws(
    () => destinationOf('kinesis-data-firehose', 'arn:aws:firehose:x'),
    refused('InvalidParameterValue', /kinesis-data-firehose is not supported/),
  )
})

test('bad destinations name the parameter and the rule', () => {
  assert.throws(() => destinationOf('s3', undefined), refused('MissingParameter', /LogDestination/))
  assert.throws(
    () => destinationOf('s3', 'arn:aws:s3:::Bad_Bucket'),
    refused('InvalidParameterValue', /LogDestination.*bucket names/),
  )
  assert.throws(
    () => destinationOf('s3', 'arn:aws:s3:::b1b/AWSLogs/x'),
    refused('InvalidParameterValue', /AWSLogs/),
  )
  assert.throws(
    () => destinationOf('s3', 'arn:aws:s3:::b1b/../etc'),
    refused('InvalidParameterValue', /segment/),
  )
  assert.throws(
    () => destinationOf('s3', 'file://relative/dir'),
    refused('InvalidParameterValue', /absolute/),
  )
  assert.throws(() => destinationOf('s3', 's3://bucket'), refused('InvalidParameterValue', /arn:aws:s3:::/))
})
