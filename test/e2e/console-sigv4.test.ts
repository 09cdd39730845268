import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'
import { signedHeaders } from '../../console/src/sigv4.js'

/**
 * The console signs EC2 calls in the browser with Web Crypto (Node has the same API); its
 * signature must be the one AWS's own signing library makes for the same request, which is what
 * the EC2 adapter checks by signing again.
 */
describe('the console SigV4 signer', () => {
  it('signs as @smithy/signature-v4 does (content-type, host, x-amz-date)', async () => {
    const credentials = {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    }
    const body =
      'Action=RevokeSecurityGroupIngress&Version=2016-11-15&GroupId=sg-web&SecurityGroupRuleId.1=sgr-web-ssh'
    const date = new Date('2026-12-06T20:00:00Z')
    const mine = await signedHeaders(credentials, 'kr1', '127.0.0.1:9474', body, date)
    const reference = await new SignatureV4({
      credentials,
      region: 'kr1',
      service: 'ec2',
      sha256: Hash.bind(null, 'sha256'),
      applyChecksum: false,
    }).sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 9474,
        path: '/',
        headers: { host: '127.0.0.1:9474', 'content-type': mine['content-type']! },
        body,
      },
      { signingDate: date },
    )
    assert.equal(mine['x-amz-date'], '20261206T200000Z')
    assert.equal(mine.authorization, reference.headers.authorization)
  })
})
