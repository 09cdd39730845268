import type { Readable } from 'node:stream'
import type { S3Client } from '@aws-sdk/client-s3'
import { InputError } from '../core/errors.js'
import { keyMayHold } from './key-time.js'
import type { SourceFile } from './source-file.js'

/**
 * Flow-log objects under an `s3://bucket/prefix`, on AWS S3 or any S3-compatible store.
 *
 * Credentials and region come from the standard AWS chain; the endpoint from AWS_ENDPOINT_URL_S3 or
 * AWS_ENDPOINT_URL (the SDK reads both). A custom endpoint (MinIO, Ceph, s3rver) gets path-style
 * addressing, which those stores need and AWS still accepts.
 */
export interface S3Location {
  bucket: string
  prefix: string
}

export function parseS3Url(url: string): S3Location {
  const rest = url.slice('s3://'.length)
  const slash = rest.indexOf('/')
  const bucket = slash < 0 ? rest : rest.slice(0, slash)
  const prefix = slash < 0 ? '' : rest.slice(slash + 1)
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new InputError(`source "${url}": "${bucket}" is not an S3 bucket name (3-63 of a-z 0-9 . -)`)
  }
  return { bucket, prefix }
}

let sharedClient: S3Client | null = null
/** The SDK is loaded on first use: reading local files never pays for it. */
type Sdk = typeof import('@aws-sdk/client-s3')
let sdk: Sdk | null = null

async function loadSdk(): Promise<Sdk> {
  sdk ??= await import('@aws-sdk/client-s3')
  return sdk
}

export async function s3Client(): Promise<S3Client> {
  if (sharedClient === null) {
    const { S3Client } = await loadSdk()
    const custom = Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL)
    sharedClient = new S3Client({
      ...(process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION ? {} : { region: 'us-east-1' }),
      forcePathStyle: custom,
    })
  }
  return sharedClient
}

/**
 * Lists the objects under the location. With a time range it walks folder by folder (Delimiter '/')
 * and skips the folders whose key says they hold no wanted record; without one it lists flat, which
 * takes one request per 1000 keys.
 */
export async function listS3(
  url: string,
  since: number | undefined,
  until: number | undefined,
  onPruned: () => void,
): Promise<SourceFile[]> {
  const { bucket, prefix } = parseS3Url(url)
  const client = await s3Client()
  const { GetObjectCommand, ListObjectsV2Command } = await loadSdk()
  const files: SourceFile[] = []
  const add = (key: string, size: number) => {
    if (isHidden(key)) return
    if (!keyMayHold(key, since, until)) {
      onPruned()
      return
    }
    files.push(s3File(client, new GetObjectCommand({ Bucket: bucket, Key: key }), bucket, key, size))
  }
  const pruning = since !== undefined || until !== undefined
  const walk = async (dir: string, delimiter: boolean): Promise<void> => {
    let token: string | undefined
    let seen = 0
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: dir,
          ...(delimiter ? { Delimiter: '/' } : {}),
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }),
      )
      seen += (page.Contents?.length ?? 0) + (page.CommonPrefixes?.length ?? 0)
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined || object.Key.endsWith('/')) continue
        // A prefix without a trailing slash names an object or a folder, not every key that starts alike.
        if (dir === prefix && !prefix.endsWith('/') && prefix !== '' && object.Key !== prefix) {
          if (!object.Key.startsWith(`${prefix}/`)) continue
        }
        add(object.Key, object.Size ?? 0)
      }
      for (const common of page.CommonPrefixes ?? []) {
        const sub = common.Prefix
        if (sub === undefined) continue
        if (!keyMayHold(sub.replace(/\/$/, ''), since, until)) {
          onPruned()
          continue
        }
        await walk(sub, true)
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token !== undefined)
    // Some S3-compatible stores (s3rver) report common prefixes only one level deep and answer an
    // empty page for a folder whose objects lie deeper. An empty folder costs one more request here.
    if (delimiter && seen === 0) await walk(dir, false)
  }
  if (pruning && (prefix === '' || prefix.endsWith('/'))) await walk(prefix, true)
  else await walk(prefix, false)
  files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  return files
}

function s3File(
  client: S3Client,
  command: InstanceType<Sdk['GetObjectCommand']>,
  bucket: string,
  key: string,
  size: number,
): SourceFile {
  const get = async () => {
    const answer = await client.send(command)
    if (answer.Body === undefined) throw new Error(`s3://${bucket}/${key}: empty answer`)
    return answer.Body
  }
  return {
    name: `s3://${bucket}/${key}`,
    key,
    size,
    localPath: null,
    read: async () => Buffer.from(await (await get()).transformToByteArray()),
    stream: async () => (await get()) as Readable,
  }
}

/** Dot and underscore files are temporaries and markers (`.x.tmp`, `_SUCCESS`), never flow logs. */
export function isHidden(key: string): boolean {
  const name = key.slice(key.lastIndexOf('/') + 1)
  return name.startsWith('.') || name.startsWith('_')
}
