import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'
import { ControlError } from '../../control/control-error.js'
import type { ApiRequest } from '../api-handler.js'
import { ApiCredentials } from './api-credentials.js'
import { verifySigV4 } from './sigv4-verify.js'

const credentials = new ApiCredentials([
  { accessKeyId: 'AKIDALICE', secretAccessKey: 'alice-secret', profile: 'alice' },
])
const NOW = new Date(Date.UTC(2026, 11, 6, 20, 0, 0))

/** Signs a form POST as an SDK would, and hands it over as the server would. */
async function signed(
  options: {
    body?: string
    key?: string
    secret?: string
    date?: Date
    service?: string
    host?: string
  } = {},
): Promise<ApiRequest> {
  const body = options.body ?? 'Action=DescribeVpcs&Version=2016-11-15'
  const host = options.host ?? '127.0.0.1:9474'
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: options.key ?? 'AKIDALICE',
      secretAccessKey: options.secret ?? 'alice-secret',
    },
    region: 'eu-west-1',
    service: options.service ?? 'ec2',
    sha256: Hash.bind(null, 'sha256'),
  })
  const request = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 9474,
      path: '/',
      query: {},
      headers: { host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    },
    { signingDate: options.date ?? NOW },
  )
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(request.headers)) headers[k.toLowerCase()] = v
  return {
    method: 'POST',
    path: '/',
    query: new URLSearchParams(),
    headers,
    body: Buffer.from(body),
    remoteAddress: '127.0.0.1',
  }
}

const refused = (code: string) => (error: unknown) => error instanceof ControlError && error.code === code

describe('verifySigV4', () => {
  test('a request signed with a known key pair is accepted, in any region', async () => {
    const caller = await verifySigV4(await signed(), credentials, NOW)
    assert.deepEqual(caller, { accessKeyId: 'AKIDALICE', profile: 'alice', region: 'eu-west-1' })
  })

  test('a changed body, host or secret is SignatureDoesNotMatch', async () => {
    const tampered = await signed()
    tampered.body = Buffer.from('Action=DeleteFlowLogs&Version=2016-11-15&FlowLogId.1=fl-1')
    await assert.rejects(verifySigV4(tampered, credentials, NOW), refused('SignatureDoesNotMatch'))
    const moved = await signed()
    moved.headers.host = 'example.net'
    await assert.rejects(verifySigV4(moved, credentials, NOW), refused('SignatureDoesNotMatch'))
    await assert.rejects(
      verifySigV4(await signed({ secret: 'guess' }), credentials, NOW),
      refused('SignatureDoesNotMatch'),
    )
  })

  test('an unknown access key is AuthFailure; another service scope is refused', async () => {
    await assert.rejects(
      verifySigV4(await signed({ key: 'AKIDMALLORY' }), credentials, NOW),
      refused('AuthFailure'),
    )
    await assert.rejects(
      verifySigV4(await signed({ service: 's3' }), credentials, NOW),
      refused('SignatureDoesNotMatch'),
    )
  })

  test('a date more than 15 minutes off either way is RequestExpired; 14 minutes is fine', async () => {
    const minutes = (m: number) => new Date(NOW.getTime() + m * 60_000)
    await assert.rejects(
      verifySigV4(await signed({ date: minutes(-16) }), credentials, NOW),
      refused('RequestExpired'),
    )
    await assert.rejects(
      verifySigV4(await signed({ date: minutes(16) }), credentials, NOW),
      refused('RequestExpired'),
    )
    await verifySigV4(await signed({ date: minutes(-14) }), credentials, NOW)
  })

  test('no Authorization is MissingAuthenticationToken; a mangled one IncompleteSignature', async () => {
    const bare = await signed()
    delete bare.headers.authorization
    await assert.rejects(verifySigV4(bare, credentials, NOW), refused('MissingAuthenticationToken'))
    const mangled = await signed()
    mangled.headers.authorization = 'AWS4-HMAC-SHA256 Credential=AKIDALICE/20261206/eu-west-1/ec2'
    await assert.rejects(verifySigV4(mangled, credentials, NOW), refused('IncompleteSignature'))
    const v2 = await signed()
    v2.headers.authorization = 'AWS AKIDALICE:abc'
    await assert.rejects(verifySigV4(v2, credentials, NOW), refused('IncompleteSignature'))
  })

  test('a signed payload hash must match the body', async () => {
    const request = await signed()
    // The SDK's signer sends and signs x-amz-content-sha256; the body must be what it hashes.
    assert.match(String(request.headers.authorization), /SignedHeaders=[^,]*x-amz-content-sha256/)
    request.body = Buffer.from('Action=DescribeSubnets&Version=2016-11-15')
    await assert.rejects(
      verifySigV4(request, credentials, NOW),
      (e: unknown) => refused('SignatureDoesNotMatch')(e) && /x-amz-content-sha256/.test(String(e)),
    )
  })

  test('error messages never carry the secret', async () => {
    const error = await verifySigV4(await signed({ secret: 'guess' }), credentials, NOW).catch(
      (e: unknown) => e,
    )
    assert.ok(error instanceof ControlError)
    assert.doesNotMatch(error.message, /alice-secret|guess/)
  })
})
