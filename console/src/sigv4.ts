/**
 * AWS Signature Version 4 for the EC2 Query API, with the browser's Web Crypto (available on
 * https and on 127.0.0.1/localhost). Signs what awscli signs: content-type, host and x-amz-date.
 * The secret key stays in this tab's memory; only signatures leave it.
 */
const enc = new TextEncoder()

const hex = (bytes: ArrayBuffer) =>
  [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('')

async function sha256(text: string): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', enc.encode(text)))
}

async function hmac(key: ArrayBuffer | Uint8Array<ArrayBuffer>, text: string): Promise<ArrayBuffer> {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  return crypto.subtle.sign('HMAC', k, enc.encode(text))
}

export interface Credentials {
  accessKeyId: string
  secretAccessKey: string
}

export async function signedHeaders(
  credentials: Credentials,
  region: string,
  host: string,
  body: string,
  now = new Date(),
): Promise<Record<string, string>> {
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
  const day = amzDate.slice(0, 8)
  const contentType = 'application/x-www-form-urlencoded; charset=utf-8'
  const signed = 'content-type;host;x-amz-date'
  const canonical = [
    'POST',
    '/',
    '',
    `content-type:${contentType}`,
    `host:${host}`,
    `x-amz-date:${amzDate}`,
    '',
    signed,
    await sha256(body),
  ].join('\n')
  const scope = `${day}/${region}/ec2/aws4_request`
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, await sha256(canonical)].join('\n')
  let key = await hmac(enc.encode(`AWS4${credentials.secretAccessKey}`), day)
  key = await hmac(key, region)
  key = await hmac(key, 'ec2')
  key = await hmac(key, 'aws4_request')
  const signature = hex(await hmac(key, toSign))
  return {
    'content-type': contentType,
    'x-amz-date': amzDate,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signed}, Signature=${signature}`,
  }
}
