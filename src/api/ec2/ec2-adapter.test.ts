import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'
import type { ControlPlane } from '../../control/control-plane.js'
import { openTestControl, type TestControl } from '../../control/test-kit.js'
import { createLogger } from '../../ops/logger.js'
import type { ApiAdapter, ApiRequest } from '../api-handler.js'
import { ApiCredentials } from './api-credentials.js'
import { createEc2Adapter, ec2Status } from './ec2-adapter.js'

const KEY = { accessKeyId: 'AKIDUNIT00000001', secretAccessKey: 'unit-secret-never-logged' }

async function signedRequest(body: string, secret = KEY.secretAccessKey): Promise<ApiRequest> {
  const signer = new SignatureV4({
    credentials: { ...KEY, secretAccessKey: secret },
    region: 'kr1',
    service: 'ec2',
    sha256: Hash.bind(null, 'sha256'),
  })
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    path: '/',
    query: {},
    headers: { host: '127.0.0.1:9474', 'content-type': 'application/x-www-form-urlencoded' },
    body,
  })
  return {
    method: 'POST',
    path: '/',
    query: new URLSearchParams(),
    headers: Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v])),
    body: Buffer.from(body),
    remoteAddress: '127.0.0.1',
  }
}

describe('the EC2 adapter', () => {
  let control: TestControl
  let adapter: ApiAdapter
  const logged: string[] = []

  before(async () => {
    control = await openTestControl()
    const logger = createLogger({
      level: 'debug',
      destination: new Writable({
        write(chunk, _encoding, done) {
          logged.push(String(chunk))
          done()
        },
      }),
    })
    adapter = createEc2Adapter({
      control: control.service,
      credentials: new ApiCredentials([{ ...KEY, profile: 'unit' }]),
      logger,
    })
  })
  after(() => control?.close())

  test('answers POST / only', () => {
    assert.equal(adapter.handles({ method: 'POST', path: '/', headers: {} }), true)
    assert.equal(adapter.handles({ method: 'GET', path: '/', headers: {} }), false)
    assert.equal(adapter.handles({ method: 'POST', path: '/v2.0/flowlog-loggers', headers: {} }), false)
  })

  test('a call answers XML with a request id header; logs name the profile, never a secret or signature', async () => {
    const request = await signedRequest('Action=DescribeVpcs&Version=2016-11-15')
    const answer = await adapter.handle(request)
    assert.equal(answer.status, 200)
    assert.equal(answer.headers['content-type'], 'text/xml;charset=UTF-8')
    assert.match(
      String(answer.body),
      new RegExp(`<requestId>${answer.headers['x-amzn-requestid']}</requestId>`),
    )
    await adapter.handle(await signedRequest('Action=DescribeVpcs&Version=2016-11-15', 'wrong-secret'))
    const logs = logged.join('')
    assert.match(logs, /"caller":"unit"/)
    assert.match(logs, /"code":"SignatureDoesNotMatch"/)
    const signature = /Signature=([0-9a-f]+)/.exec(String(request.headers.authorization))?.[1] ?? 'none'
    for (const secret of [KEY.secretAccessKey, 'wrong-secret', signature])
      assert.ok(!logs.includes(secret), secret)
  })

  test("a fault of flowlog's own is InternalError 500 without detail", async () => {
    const broken = createEc2Adapter({
      // The real service, but its topology read fails as a broken disk would make it.
      control: new Proxy<ControlPlane>(control.service, {
        get: (target, name) =>
          name === 'topology'
            ? () => Promise.reject(new Error('disk on fire at /var/lib/flowlog'))
            : Reflect.get(target, name),
      }),
      credentials: new ApiCredentials([{ ...KEY, profile: 'unit' }]),
    })
    const answer = await broken.handle(await signedRequest('Action=DescribeVpcs&Version=2016-11-15'))
    assert.equal(answer.status, 500)
    assert.match(String(answer.body), /<Code>InternalError<\/Code>/)
    assert.doesNotMatch(String(answer.body), /disk on fire/)
  })

  test("EC2's statuses: 401 unknown key or no auth, 403 bad signature, 400 the rest", () => {
    assert.deepEqual(
      [
        'AuthFailure',
        'MissingAuthenticationToken',
        'SignatureDoesNotMatch',
        'RequestExpired',
        'InvalidGroup.NotFound',
        'DependencyViolation',
      ].map(ec2Status),
      [401, 401, 403, 400, 400, 400],
    )
  })
})
