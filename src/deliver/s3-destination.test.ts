import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InputError } from '../core/errors.js'
import { DestinationFailure } from './delivery-failure.js'
import { resolveEndpoint, S3Destination } from './s3-destination.js'

const settings = { endpoint: null, region: 'us-east-1', forcePathStyle: true }

describe('S3Destination', () => {
  test('the endpoint: config, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else AWS', () => {
    const env = { AWS_ENDPOINT_URL_S3: 'http://s3-only:9000', AWS_ENDPOINT_URL: 'http://all:9000' }
    assert.equal(resolveEndpoint({ ...settings, endpoint: 'http://config:9000' }, env), 'http://config:9000')
    assert.equal(resolveEndpoint(settings, env), 'http://s3-only:9000')
    assert.equal(resolveEndpoint(settings, { AWS_ENDPOINT_URL: 'http://all:9000' }), 'http://all:9000')
    assert.equal(resolveEndpoint(settings, {}), null)
    assert.equal(new S3Destination('s3://b/p', settings, {}).endpointName, 'AWS')
  })

  test('messages never show credentials written into an endpoint variable', () => {
    const d = new S3Destination('s3://b/p', settings, { AWS_ENDPOINT_URL_S3: 'http://user:pw@host:9000/' })
    assert.equal(d.endpointName, 'http://host:9000')
  })

  test('keys locate as s3:// URLs; a malformed URL is an input error', () => {
    assert.equal(new S3Destination('s3://b/p', settings, {}).locate('p/k.log'), 's3://b/p/k.log')
    assert.throws(() => new S3Destination('s3:///nobucket', settings, {}), InputError)
  })

  test('an endpoint nobody listens on is "unreachable", worth retrying', async () => {
    // Port 1 on loopback: refused at once, no network beyond this machine.
    const d = new S3Destination('s3://b', settings, { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1' })
    // Without any credentials the SDK stops before connecting (no-credentials): give it dummies.
    process.env.AWS_ACCESS_KEY_ID ??= 'dummy'
    process.env.AWS_SECRET_ACCESS_KEY ??= 'dummy'
    await assert.rejects(
      d.put('k.log', Buffer.from('x')),
      (e: unknown) =>
        e instanceof DestinationFailure &&
        e.kind === 'unreachable' &&
        !e.permanent &&
        e.message === 'cannot reach http://127.0.0.1:1 (ECONNREFUSED)',
    )
    d.destroy()
  })
})
