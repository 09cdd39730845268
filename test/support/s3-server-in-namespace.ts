import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { collectOutput, type Lab, waitFor } from './netns.js'
import { repoPath } from './paths.js'
import { S3_TEST_KEY } from './s3-server.js'

/**
 * s3rver on the loopback of a lab namespace, for a daemon that runs in that namespace (its
 * loopback is not the test's). Checked with Debian's awscli from inside the namespace.
 */
const SERVER_JS = `
const S3rver = require(process.argv[1])
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.argv[2],
  configureBuckets: process.argv.slice(3).map((name) => ({ name, configs: [] })) })
server.run().then((a) => console.log(JSON.stringify({ port: a.port })))
`

export interface NamespaceS3 {
  endpoint: string
  /** Every key in the bucket, sorted (aws s3api list-objects-v2). */
  keys(bucket: string): string[]
  /** An object's bytes (aws s3 cp). */
  get(bucket: string, key: string): Buffer
  stop(): void
}

export async function startS3InNamespace(
  lab: Lab,
  ns: string,
  buckets: readonly string[],
): Promise<NamespaceS3> {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-s3rver-ns-'))
  const downloads = mkdtempSync(join(tmpdir(), 'flowlog-s3-downloads-'))
  const child: ChildProcess = lab.start(ns, [
    process.execPath,
    '-e',
    SERVER_JS,
    repoPath('node_modules/s3rver'),
    dir,
    ...buckets,
  ])
  const output = collectOutput(child)
  const port = await waitFor('s3rver to listen', () => {
    if (child.exitCode !== null) throw new Error(`s3rver exited: ${output.stderr()}`)
    const line = output
      .stdout()
      .split('\n')
      .find((l) => l.startsWith('{'))
    return line === undefined ? undefined : (JSON.parse(line) as { port: number }).port
  })
  const endpoint = `http://127.0.0.1:${port}`
  const aws = (args: string[]) =>
    lab.run(ns, [
      'env',
      `AWS_ACCESS_KEY_ID=${S3_TEST_KEY}`,
      `AWS_SECRET_ACCESS_KEY=${S3_TEST_KEY}`,
      'AWS_DEFAULT_REGION=us-east-1',
      'AWS_CONFIG_FILE=/dev/null',
      'AWS_SHARED_CREDENTIALS_FILE=/dev/null',
      'AWS_PAGER=',
      '/usr/bin/aws',
      ...args,
      '--endpoint-url',
      endpoint,
    ])
  return {
    endpoint,
    keys(bucket) {
      const listed = JSON.parse(
        aws(['s3api', 'list-objects-v2', '--bucket', bucket, '--output', 'json']) || '{}',
      ) as {
        Contents?: Array<{ Key: string }>
      }
      return (listed.Contents ?? []).map((o) => o.Key).sort()
    },
    get(bucket, key) {
      const file = join(downloads, 'object')
      aws(['s3', 'cp', `s3://${bucket}/${key}`, file])
      return readFileSync(file)
    },
    stop() {
      if (child.exitCode === null) child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
      rmSync(downloads, { recursive: true, force: true })
    },
  }
}
