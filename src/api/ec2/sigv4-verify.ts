import { createHash, timingSafeEqual } from 'node:crypto'
import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'
import { ControlError } from '../../control/control-error.js'
import type { ApiRequest } from '../api-handler.js'
import type { ApiCredentials, ApiKeyPair } from './api-credentials.js'

/**
 * SigV4 verification of an EC2 Query call: the request is signed again, with the secret of the
 * access key it names and its own scope, date and signed headers, by the signing library the AWS
 * SDKs use (@smithy/signature-v4), and the two signatures are compared in constant time.
 * Failures carry EC2's codes: MissingAuthenticationToken, IncompleteSignature, AuthFailure
 * (unknown access key), SignatureDoesNotMatch, RequestExpired (X-Amz-Date more than 15 minutes
 * from now). Messages never hold a secret or a signature.
 */
export const SERVICE = 'ec2'
export const ALGORITHM = 'AWS4-HMAC-SHA256'
/** AWS refuses signatures whose date is more than 15 minutes from its clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000

interface AuthorizationHeader {
  accessKeyId: string
  date: string
  region: string
  service: string
  signedHeaders: string[]
  signature: string
}

const incomplete = (message: string) => new ControlError('IncompleteSignature', message)

function parseAuthorization(header: string): AuthorizationHeader {
  const space = header.indexOf(' ')
  const algorithm = space < 0 ? header : header.slice(0, space)
  if (algorithm !== ALGORITHM)
    throw incomplete(`Unsupported authorization algorithm ${algorithm.slice(0, 40)}; sign with ${ALGORITHM}`)
  const parts = new Map<string, string>()
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=')
    if (eq > 0) parts.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
  }
  const credential = parts.get('Credential')
  const signedHeaders = parts.get('SignedHeaders')
  const signature = parts.get('Signature')
  if (credential === undefined || signedHeaders === undefined || signature === undefined)
    throw incomplete('Authorization header requires Credential, SignedHeaders and Signature')
  const scope = credential.split('/')
  if (scope.length !== 5 || scope[4] !== 'aws4_request')
    throw incomplete('Credential must be ACCESS_KEY/YYYYMMDD/REGION/SERVICE/aws4_request')
  const [accessKeyId, date, region, service] = scope as [string, string, string, string]
  return {
    accessKeyId,
    date,
    region,
    service,
    signedHeaders: signedHeaders.split(';').filter((h) => h !== ''),
    signature,
  }
}

/** `20261206T201500Z` → Date, or null. */
function parseAmzDate(text: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text)
  if (m === null) return null
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number]
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s))
  return Number.isNaN(date.getTime()) ? null : date
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value
}

export interface VerifiedCaller {
  accessKeyId: string
  profile: string
  region: string
}

export async function verifySigV4(
  request: ApiRequest,
  credentials: ApiCredentials,
  now: Date = new Date(),
): Promise<VerifiedCaller> {
  const header = headerValue(request.headers.authorization)
  if (header === undefined) {
    if (request.query.has('X-Amz-Signature'))
      throw incomplete('Query-string authentication is not supported; sign with the Authorization header')
    throw new ControlError('MissingAuthenticationToken', 'Request is missing Authentication Token')
  }
  const auth = parseAuthorization(header)
  const amzDate = headerValue(request.headers['x-amz-date'])
  if (amzDate === undefined || !auth.signedHeaders.includes('x-amz-date'))
    throw incomplete('The request must carry a signed X-Amz-Date header')
  const signingDate = parseAmzDate(amzDate)
  if (signingDate === null) throw incomplete(`X-Amz-Date ${amzDate.slice(0, 40)} is not YYYYMMDDTHHMMSSZ`)
  if (Math.abs(now.getTime() - signingDate.getTime()) > MAX_CLOCK_SKEW_MS)
    throw new ControlError(
      'RequestExpired',
      `Request has expired: X-Amz-Date ${amzDate} is more than 15 minutes from the server's time ${now.toISOString()}`,
    )
  if (!auth.signedHeaders.includes('host')) throw incomplete('The Host header must be signed')

  const pair: ApiKeyPair | undefined = credentials.lookup(auth.accessKeyId)
  if (pair === undefined)
    throw new ControlError('AuthFailure', 'AWS was not able to validate the provided access credentials')
  if (auth.service !== SERVICE)
    throw new ControlError(
      'SignatureDoesNotMatch',
      `Credential should be scoped to correct service: '${SERVICE}'`,
    )
  if (auth.date !== amzDate.slice(0, 8))
    throw new ControlError('SignatureDoesNotMatch', 'Credential should be scoped to the date of X-Amz-Date')

  const headers: Record<string, string> = {}
  for (const name of auth.signedHeaders) {
    const value = headerValue(request.headers[name])
    if (value === undefined)
      throw new ControlError('SignatureDoesNotMatch', `Signed header ${name} is missing`)
    headers[name] = value
  }
  // The signer trusts a given payload hash; the body must match it (EC2 calls are never unsigned).
  const payloadHash = headers['x-amz-content-sha256']
  if (payloadHash !== undefined && payloadHash !== createHash('sha256').update(request.body).digest('hex'))
    throw new ControlError('SignatureDoesNotMatch', 'x-amz-content-sha256 does not match the body')

  const query: Record<string, string | string[]> = {}
  for (const [key, value] of request.query) {
    const before = query[key]
    query[key] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value]
  }
  let path: string
  try {
    path = decodeURIComponent(request.path)
  } catch {
    throw new ControlError('SignatureDoesNotMatch', 'The request path is not valid percent-encoding')
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: pair.accessKeyId, secretAccessKey: pair.secretAccessKey },
    region: auth.region,
    service: SERVICE,
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: true,
    applyChecksum: false,
  })
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: headers.host ?? '',
      path,
      query,
      headers,
      body: request.body,
    },
    {
      signingDate,
      signingRegion: auth.region,
      signingService: SERVICE,
      signableHeaders: new Set(auth.signedHeaders),
    },
  )
  const expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization ?? ''))?.[1] ?? ''
  const given = Buffer.from(auth.signature, 'latin1')
  const ours = Buffer.from(expected, 'latin1')
  if (given.length !== ours.length || !timingSafeEqual(given, ours))
    throw new ControlError(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    )
  return { accessKeyId: pair.accessKeyId, profile: pair.profile, region: auth.region }
}
