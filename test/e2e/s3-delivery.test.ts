import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { gunzipSync } from 'node:zlib'
import { listFiles, readText } from '../support/cli.js'
import { repoPath } from '../support/paths.js'
import { requireCommands } from '../support/requirements.js'
import { runFlowlogAsync, S3TestServer } from '../support/s3-server.js'

const MIXED = repoPath('test/fixtures/captures/mixed.pcap')
const run = promisify(execFile)

/** mixed.yaml with both flow logs sent to the bucket `logs` (aws layout under aws/, nhn under nhn/). */
function mixedToS3(dir: string, bucket = 'logs'): string {
  const text = readFileSync(repoPath('test/fixtures/mixed.yaml'), 'utf8')
    .replace('file:///tmp/flowlog-fixtures/mixed-nhn', `s3://${bucket}/nhn`)
    .replace('file:///tmp/flowlog-fixtures/mixed', `s3://${bucket}/aws`)
  const path = join(dir, `mixed-${bucket}.yaml`)
  writeFileSync(path, text)
  return path
}

describe('s3:// destinations against a real S3 server (s3rver on loopback)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-s3-e2e-'))
  const reference = join(dir, 'reference')
  let server: S3TestServer
  let keys: string[] = []
  let replayed: { code: number | null; stdout: string; stderr: string }

  before(async () => {
    server = await S3TestServer.start(['logs'])
    // The same capture to a local directory: what every object must equal, key for key.
    const local = await runFlowlogAsync(
      ['replay', '--config', mixedToS3(dir), '--out', reference, MIXED],
      server.env(),
    )
    assert.equal(local.code, 0, local.stderr)
    replayed = await runFlowlogAsync(
      ['replay', '--config', mixedToS3(dir), '--spool', join(dir, 'spool'), MIXED],
      server.env(),
    )
    keys = await server.keys('logs')
  })
  after(async () => {
    await server.stop()
  })

  test('a replay uploads one object per flow log and window, with the layouts of file://', () => {
    assert.equal(replayed.code, 0, replayed.stderr)
    assert.match(replayed.stdout, /flow log fl-0001: 3 file\(s\)/)
    assert.match(
      replayed.stdout,
      /in s3:\/\/logs\/aws\/AWSLogs\/123456789012\/vpcflowlogs\/kr1\/2024\/06\/01/,
    )
    assert.match(
      replayed.stdout,
      /delivery: 5 file\(s\) delivered, 0 failed attempt\(s\), 0 file\(s\) waiting/,
    )
    const expected = listFiles(reference).map((f) => (f.startsWith('AWSLogs/') ? `aws/${f}` : `nhn/${f}`))
    assert.deepEqual(keys, expected.sort())
  })

  test('every object reads back byte for byte as the local file of the same window', async () => {
    for (const key of keys) {
      const local = join(reference, key.replace(/^(aws|nhn)\//, ''))
      assert.deepEqual(await server.get('logs', key), readFileSync(local), key)
    }
  })

  test('the real aws CLI lists the same keys and downloads the same files', async (t) => {
    if (!requireCommands(t, 'apt-get install awscli', 'aws')) return
    const env = server.env()
    const aws = (...args: string[]) => run('aws', ['--endpoint-url', server.endpoint, ...args], { env })
    const listing = await aws('s3', 'ls', '--recursive', 's3://logs/')
    const listed = listing.stdout
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/).slice(3).join(' '))
    assert.deepEqual(listed.sort(), keys)
    const download = join(dir, 'aws-cli')
    await aws('s3', 'cp', '--recursive', '--only-show-errors', 's3://logs/aws/', download)
    const files = listFiles(download)
    assert.deepEqual(
      files,
      keys.filter((k) => k.startsWith('aws/')).map((k) => k.slice('aws/'.length)),
    )
    for (const f of files) {
      assert.equal(readText(join(download, f)), gunzipSync(readFileSync(join(reference, f))).toString('utf8'))
    }
  })

  test('replaying again overwrites the same keys: nothing is duplicated', async () => {
    const again = await runFlowlogAsync(
      ['replay', '--config', mixedToS3(dir), '--spool', join(dir, 'spool'), MIXED],
      server.env(),
    )
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(await server.keys('logs'), keys)
  })

  test('a bucket that does not exist is refused, reported, left in the spool, and the replay exits 2', async () => {
    const spool = join(dir, 'spool-missing')
    const result = await runFlowlogAsync(
      ['replay', '--config', mixedToS3(dir, 'no-such-bucket'), '--spool', spool, MIXED],
      server.env(),
    )
    assert.equal(result.code, 2, result.stdout + result.stderr)
    assert.match(result.stderr, /5 file\(s\) could not be delivered in time and wait in the spool/)
    assert.match(result.stderr, /5 refused by their destination/)
    assert.match(
      result.stderr,
      /no-such-bucket: bucket "no-such-bucket" at http:\/\/127\.0\.0\.1:\d+ does not exist/,
    )
    assert.match(result.stderr, new RegExp(`flowlog spool deliver --spool ${spool}`))
    const list = await runFlowlogAsync(['spool', 'list', '--spool', spool], server.env())
    assert.equal(list.code, 0, list.stderr)
    assert.match(list.stdout, /5 file\(s\), [\d,]+ bytes waiting/)
    assert.match(
      list.stdout,
      /s3:\/\/no-such-bucket\/aws\/AWSLogs\/123456789012\/.*attempts 1, refused: no-such-bucket/,
    )
  })

  test('wrong credentials are access denied, and no secret appears in any message', async () => {
    const secret = 'wrong-secret-never-printed'
    const spool = join(dir, 'spool-denied')
    const result = await runFlowlogAsync(
      ['replay', '--config', mixedToS3(dir), '--spool', spool, MIXED],
      server.env({ AWS_ACCESS_KEY_ID: 'NOT-A-KEY', AWS_SECRET_ACCESS_KEY: secret }),
    )
    assert.equal(result.code, 2, result.stdout + result.stderr)
    assert.match(
      result.stderr,
      /access-denied: access denied to bucket "logs" at http:\/\/127\.0\.0\.1:\d+ \(InvalidAccessKeyId\)/,
    )
    const list = await runFlowlogAsync(['spool', 'list', '--spool', spool, '--json'], server.env())
    for (const text of [
      result.stdout,
      result.stderr,
      list.stdout,
      list.stderr,
      ...listFiles(spool).map((f) => f),
    ]) {
      assert.ok(!text.includes(secret), 'the secret key is never shown')
    }
    for (const f of listFiles(spool).filter((f) => f.endsWith('.json'))) {
      assert.ok(!readFileSync(join(spool, f), 'utf8').includes(secret))
    }
  })
})
