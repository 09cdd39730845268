import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'

/**
 * Hand-made EC2 Query calls, signed with SigV4 as the SDKs sign them: for the requests no well-
 * behaved client sends (a stale date, a malformed body, an unknown action).
 */
export interface SignedPostOptions {
  accessKeyId: string
  secretAccessKey: string
  region?: string
  signingDate?: Date
}

export async function signedPost(
  url: string,
  body: string,
  options: SignedPostOptions,
): Promise<{ status: number; text: string }> {
  const target = new URL(url)
  const signer = new SignatureV4({
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    region: options.region ?? 'eu-west-1',
    service: 'ec2',
    sha256: Hash.bind(null, 'sha256'),
  })
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: target.protocol,
      hostname: target.hostname,
      port: Number(target.port),
      path: '/',
      query: {},
      headers: { host: target.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    },
    options.signingDate !== undefined ? { signingDate: options.signingDate } : {},
  )
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(signed.headers)) if (k !== 'host') headers[k] = v
  const response = await fetch(`${target.origin}/`, { method: 'POST', headers, body })
  return { status: response.status, text: await response.text() }
}

/** The `<Code>` of an EC2 error envelope, or null. */
export function errorCode(xml: string): string | null {
  return /<Code>([^<]*)<\/Code>/.exec(xml)?.[1] ?? null
}
