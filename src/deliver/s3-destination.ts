import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3'
import { InputError } from '../core/errors.js'
import type { S3Settings } from '../core/network.js'
import type { Destination } from '../core/stages.js'
import { DestinationFailure, type FailureKind } from './delivery-failure.js'

/** How long a connection and a whole PutObject may take before the attempt counts as failed. */
const CONNECT_TIMEOUT_MS = 5_000
const REQUEST_TIMEOUT_MS = 120_000

/**
 * Objects in an S3-compatible bucket (`s3://bucket[/prefix]`): AWS S3, MinIO, Ceph. One PutObject
 * per file, so an object appears whole or not at all, and the same key overwrites (keys are
 * deterministic, DESIGN 5).
 *
 * The endpoint comes from the config, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else AWS;
 * credentials only from the SDK's default chain (environment, shared files, SSO, instance or
 * container role). Messages name the bucket, key and endpoint, never a credential. The SDK's own
 * retries are off: the spool retries with backoff and counts every attempt.
 */
export class S3Destination implements Destination {
  readonly description: string
  readonly bucket: string
  /** The endpoint as shown in messages ("AWS" when none is set). */
  readonly endpointName: string
  private readonly settings: S3Settings
  private readonly endpoint: string | null
  private client: Promise<S3Client> | null = null

  constructor(url: string, settings: S3Settings, env: NodeJS.ProcessEnv = process.env) {
    const match = /^s3:\/\/([^/]+)(\/.*)?$/.exec(url)
    if (match === null || match[1] === undefined) {
      throw new InputError(`destination "${url}" is not an s3://bucket[/prefix] URL`)
    }
    this.bucket = match[1]
    this.description = url
    this.settings = settings
    this.endpoint = resolveEndpoint(settings, env)
    this.endpointName = this.endpoint === null ? 'AWS' : redactUrl(this.endpoint)
  }

  locate(key: string): string {
    return `s3://${this.bucket}/${key}`
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    try {
      const client = await this.connect()
      const { PutObjectCommand } = await sdk()
      await client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ContentType: contentType(key),
        }),
      )
    } catch (error) {
      throw this.failure(error, key)
    }
  }

  /** Closes the client's sockets (the spool command and tests end cleanly). */
  destroy(): void {
    const client = this.client
    this.client = null
    void client?.then((c) => c.destroy()).catch(() => {})
  }

  private connect(): Promise<S3Client> {
    this.client ??= createClient(this.settings, this.endpoint)
    return this.client
  }

  /** Turns an SDK or socket error into a DestinationFailure whose message says what to do. */
  private failure(error: unknown, key: string): DestinationFailure {
    const e = error as {
      name?: string
      code?: string
      message?: string
      $metadata?: { httpStatusCode?: number }
    }
    const name = e.name ?? ''
    const code = e.code ?? ''
    const status = e.$metadata?.httpStatusCode
    // The key is listed beside every failure already; the message says what is wrong and where.
    const where = `bucket "${this.bucket}" at ${this.endpointName}`
    let kind: FailureKind
    let message: string
    if (name === 'NoSuchBucket') {
      kind = 'no-such-bucket'
      message = `${where} does not exist`
    } else if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(e.message ?? '')) {
      kind = 'no-credentials'
      message =
        `no AWS credentials for ${where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ` +
        '~/.aws/credentials or an instance role'
    } else if (ACCESS_DENIED.has(name) || status === 403) {
      kind = 'access-denied'
      message = `access denied to ${where} (${name || status}): check the credentials and the bucket policy`
    } else if (name === 'TimeoutError' || code === 'ETIMEDOUT' || name === 'RequestTimeout') {
      kind = 'timeout'
      message = `${where} did not answer in time (${name || code})`
    } else if (UNREACHABLE.has(code) || UNREACHABLE.has(name)) {
      kind = 'unreachable'
      message = `cannot reach ${this.endpointName} (${code || name})`
    } else if (status !== undefined && (status >= 500 || status === 429 || status === 408)) {
      kind = 'server-error'
      message = `${where} answered ${status} ${name}`.trimEnd()
    } else if (status !== undefined && status >= 400) {
      kind = 'rejected'
      message = `${where} refused the object: ${status} ${name}${e.message ? `: ${e.message}` : ''}`
    } else {
      kind = 'unreachable'
      message = `cannot deliver to ${where}: ${e.message ?? String(error)}`
    }
    return new DestinationFailure(kind, message, this.description, key, { cause: error })
  }
}

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AllAccessDisabled',
  'AccountProblem',
  'InvalidToken',
  'ExpiredToken',
])

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'NetworkingError',
])

/** The configured endpoint, else the standard AWS variables (the SDK reads them too; we name it). */
export function resolveEndpoint(settings: S3Settings, env: NodeJS.ProcessEnv = process.env): string | null {
  const endpoint = settings.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL ?? null
  return endpoint === '' ? null : endpoint
}

/** A URL without user name or password, for messages. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    return u.href.replace(/\/$/, '')
  } catch {
    return '(an endpoint that is not a URL)'
  }
}

type Sdk = typeof import('@aws-sdk/client-s3')
let loading: Promise<Sdk> | null = null

/** The S3 SDK, loaded at the first put: it costs a writer thread that only writes files a tenth of a second. */
function sdk(): Promise<Sdk> {
  loading ??= import('@aws-sdk/client-s3')
  return loading
}

async function createClient(settings: S3Settings, endpoint: string | null): Promise<S3Client> {
  const { S3Client } = await sdk()
  // The SDK warns once per process about Node versions it will drop; flowlog supports Node 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const base: S3ClientConfig = {
    forcePathStyle: settings.forcePathStyle,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
    ...(endpoint === null ? {} : { endpoint }),
  }
  if (settings.region !== null) return new S3Client({ ...base, region: settings.region })
  // No region in the config: the SDK's chain (AWS_REGION, the profile's region) decides, and
  // a store that ignores regions (MinIO, Ceph) still needs one to sign with.
  const probe = new S3Client(base)
  try {
    await probe.config.region()
    return probe
  } catch {
    probe.destroy()
    return new S3Client({ ...base, region: 'us-east-1' })
  }
}

function contentType(key: string): string {
  if (key.endsWith('.gz')) return 'application/gzip'
  if (key.endsWith('.parquet')) return 'application/vnd.apache.parquet'
  if (key.endsWith('.jsonl')) return 'application/jsonl'
  if (key.endsWith('.csv')) return 'text/csv'
  return 'text/plain'
}
