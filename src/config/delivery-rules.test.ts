import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { stringify } from 'yaml'
import { InputError } from '../core/errors.js'
import { parseConfig } from './load-config.js'

/** The smallest valid config, plus the delivery keys under test. */
function config(extra: Record<string, unknown>): string {
  return stringify({
    account: '123456789012',
    region: 'kr1',
    vpcs: [{ id: 'vpc-0a1', cidrs: ['10.0.0.0/16'] }],
    flowLogs: [{ id: 'fl-1', resource: 'vpc-0a1', destination: 's3://flow-logs/prod' }],
    ...extra,
  })
}

function problems(extra: Record<string, unknown>): readonly string[] {
  try {
    parseConfig(config(extra), 'net.yaml')
  } catch (error) {
    if (error instanceof InputError) return error.problems
    throw error
  }
  return []
}

describe('delivery settings (spoolDir, deliveryTimeout, s3)', () => {
  test('defaults: default spool, 60 s, AWS with virtual-hosted addressing', () => {
    assert.deepEqual(parseConfig(config({}), 'net.yaml').delivery, {
      spoolDir: null,
      timeout: 60,
      s3: { endpoint: null, region: null, forcePathStyle: false },
    })
  })

  test('values as written, normalised', () => {
    const c = parseConfig(
      config({
        spoolDir: '/var/spool//flowlog/',
        deliveryTimeout: 0,
        s3: { endpoint: 'http://127.0.0.1:9000/', region: 'us-east-1', forcePathStyle: true },
      }),
      'net.yaml',
    )
    assert.deepEqual(c.delivery, {
      spoolDir: '/var/spool/flowlog',
      timeout: 0,
      s3: { endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', forcePathStyle: true },
    })
  })

  test('every rule with its message', () => {
    assert.deepEqual(
      problems({
        spoolDir: 'spool',
        deliveryTimeout: '60s',
        s3: {
          endpoint: 'http://minio:secret@host:9000',
          region: 'US East',
          forcePathStyle: 'yes',
          bucket: 'x',
        },
      }),
      [
        'spoolDir: "spool" is not an absolute directory path',
        'deliveryTimeout: "60s" is not a whole number of seconds from 0 to 86400',
        's3.endpoint: "http://minio:secret@host:9000" carries credentials: give them through the AWS chain (environment, ~/.aws, roles)',
        's3.region: "US East" is not a region name (lower-case letters, digits and "-", like us-east-1)',
        's3.forcePathStyle: "yes" is not true or false',
        's3.bucket: unknown key (known keys: endpoint, region, forcePathStyle)',
      ],
    )
    assert.deepEqual(problems({ s3: { endpoint: 'ftp://host' }, deliveryTimeout: 90000 }), [
      'deliveryTimeout: 90000 is not a whole number of seconds from 0 to 86400',
      's3.endpoint: "ftp://host" is not an endpoint URL (http://host:port or https://host)',
    ])
    assert.deepEqual(problems({ s3: { endpoint: 'https://s3.example.com/?x=1' } }), [
      's3.endpoint: "https://s3.example.com/?x=1" has a query or fragment (an endpoint has neither)',
    ])
  })

  test('a typo of a delivery key names the right one', () => {
    assert.deepEqual(problems({ spoolDirectory: '/tmp/x' }), [
      'spoolDirectory: unknown key (did you mean "spoolDir"?)',
    ])
  })
})
