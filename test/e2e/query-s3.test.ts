import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { DuckDBInstance } from '@duckdb/node-api'
import { repoPath } from '../support/paths.js'
import { runFlowlogAsync, S3TestServer } from '../support/s3-server.js'

const AWS = repoPath('test/fixtures/aws')

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })
}

describe('query and sql read s3:// prefixes (s3rver on loopback, the AWS SDK, AWS_ENDPOINT_URL_S3)', () => {
  let server: S3TestServer

  before(async () => {
    server = await S3TestServer.start(['flowlogs'])
    const client = server.client()
    // The real AWS records, laid out as AWS delivers them, under a user prefix.
    for (const file of walk(join(AWS, 'AWSLogs'))) {
      await client.send(
        new PutObjectCommand({
          Bucket: 'flowlogs',
          Key: `prod/${relative(AWS, file)}`,
          Body: readFileSync(file),
        }),
      )
    }
    // And a Parquet object, with AWS's Parquet column names.
    const db = await (await DuckDBInstance.create(':memory:')).connect()
    const parquet = join(mkdtempSync(join(tmpdir(), 'flowlog-s3-parquet-')), 'x.log.parquet')
    await db.run(`COPY (SELECT * FROM (VALUES
        (5, 'eni-1', '10.0.0.1', '10.0.0.2', 40000, 22, 6::BIGINT, 'REJECT', 'OK'),
        (5, 'eni-1', '10.0.0.2', '10.0.0.1', 22, 40000, 6::BIGINT, 'ACCEPT', 'OK'))
      AS t(version, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, action, log_status))
      TO '${parquet}' (FORMAT parquet)`)
    db.closeSync()
    await client.send(
      new PutObjectCommand({ Bucket: 'flowlogs', Key: 'parquet/x.log.parquet', Body: readFileSync(parquet) }),
    )
    client.destroy()
  })
  after(async () => {
    await server.stop()
  })

  test('a prefix is listed and every object read, gzip and all', async () => {
    const r = await runFlowlogAsync(
      ['query', '-f', 'csv', '--fields', 'srcaddr,dstport,action', 's3://flowlogs/prod/'],
      server.env(),
    )
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.split('\n').filter((l) => l !== '').length, 1 + 7)
    assert.match(r.stdout, /172\.31\.9\.69,3389,REJECT/)
    assert.match(r.stderr, /in 4 file\(s\)/)
  })

  test('--since/--until walk the prefix folder by folder and skip folders outside the range', async () => {
    const r = await runFlowlogAsync(
      ['query', '--count', '--since', '2015-05-29', '--until', '2015-05-30', 's3://flowlogs/prod/AWSLogs/'],
      server.env(),
    )
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '2\n')
    assert.match(r.stderr, /in 1 file\(s\); 3 file\(s\)\/folder\(s\) skipped by time/)
  })

  test('sql over the same prefix', async () => {
    const r = await runFlowlogAsync(
      [
        'sql',
        '-f',
        'csv',
        `SELECT action, count(*) AS n FROM flows GROUP BY action ORDER BY action`,
        's3://flowlogs/prod',
      ],
      server.env(),
    )
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'action,n\nACCEPT,3\nREJECT,2\n,2\n')
  })

  test('Parquet objects, in query and in sql', async () => {
    const q = await runFlowlogAsync(
      ['query', '-f', 'csv', '--fields', 'srcaddr,action', '--where', 'dstport=22', 's3://flowlogs/parquet/'],
      server.env(),
    )
    assert.equal(q.code, 0, q.stderr)
    assert.equal(q.stdout, 'srcaddr,action\n10.0.0.1,REJECT\n')
    const s = await runFlowlogAsync(
      ['sql', '-f', 'csv', 'SELECT count(*) AS n FROM flows WHERE srcport = 22', 's3://flowlogs/parquet/'],
      server.env(),
    )
    assert.equal(s.code, 0, s.stderr)
    assert.equal(s.stdout, 'n\n1\n')
  })

  test("a bucket that does not exist fails with the store's answer (exit 2)", async () => {
    const r = await runFlowlogAsync(['query', 's3://no-such-bucket/x/'], server.env())
    assert.equal(r.code, 2)
    assert.match(r.stderr, /flowlog: .*(NoSuchBucket|does not exist)/i)
  })
})
