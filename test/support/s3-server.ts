import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import type { Server } from 'node:http'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import { repoPath } from './paths.js'

/**
 * A real S3 HTTP server for tests (DESIGN 7): s3rver on 127.0.0.1, a random port, its data in a
 * temporary directory. It can be stopped and started again on the same port with the same data,
 * which is how the tests make an outage.
 */

/** s3rver's built-in account: any client signing with these is accepted. */
export const S3_TEST_KEY = 'S3RVER'

interface S3rverInstance {
  run(): Promise<{ port: number }>
  close(): Promise<void>
  httpServer?: Server
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance

// The SDK's notice about future Node versions is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

// s3rver is CommonJS without types; this is the one place that loads it.
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass

export class S3TestServer {
  readonly dir: string
  port = 0
  private server: S3rverInstance | null = null

  private constructor(private readonly buckets: readonly string[]) {
    this.dir = mkdtempSync(join(tmpdir(), 'flowlog-s3rver-'))
  }

  /** Starts a server with these buckets on a free port. */
  static async start(buckets: readonly string[]): Promise<S3TestServer> {
    const s = new S3TestServer(buckets)
    await s.resume()
    return s
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get running(): boolean {
    return this.server !== null
  }

  /** Starts again on the same port with the same data (after `stop`). */
  async resume(): Promise<void> {
    const server = new S3rver({
      address: '127.0.0.1',
      port: this.port,
      silent: true,
      directory: this.dir,
      configureBuckets: this.buckets.map((name) => ({ name, configs: [] })),
    })
    const address = await server.run()
    this.port = address.port
    this.server = server
  }

  /**
   * Stops at once: open connections are cut, as in a real outage. The listener closes first, so no
   * connection accepted in between can still deliver a file (under load one did, and the outage
   * test then waited for a failure that never came).
   */
  async stop(): Promise<void> {
    const server = this.server
    this.server = null
    if (server === null) return
    const closed = server.close()
    server.httpServer?.closeAllConnections()
    await closed
  }

  /** The environment a flowlog or aws process needs to talk to this server and nothing else. */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return s3Env(this.endpoint, extra)
  }

  /** An SDK client for checking what arrived. */
  client(): S3Client {
    return new S3Client({
      endpoint: this.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: S3_TEST_KEY, secretAccessKey: S3_TEST_KEY },
    })
  }

  /** Every key in the bucket (under `prefix`), sorted. */
  async keys(bucket: string, prefix = ''): Promise<string[]> {
    const client = this.client()
    try {
      const keys: string[] = []
      let token: string | undefined
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        )
        for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key)
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token !== undefined)
      return keys.sort()
    } finally {
      client.destroy()
    }
  }

  async get(bucket: string, key: string): Promise<Buffer> {
    const client = this.client()
    try {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      return Buffer.from(await object.Body!.transformToByteArray())
    } finally {
      client.destroy()
    }
  }
}

/**
 * Dummy credentials and the endpoint, with the user's own AWS files and instance metadata out of
 * the way, so a test can never reach a real account.
 */
export function s3Env(endpoint: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const name of Object.keys(env)) if (name.startsWith('AWS_')) delete env[name]
  return {
    ...env,
    AWS_ACCESS_KEY_ID: S3_TEST_KEY,
    AWS_SECRET_ACCESS_KEY: S3_TEST_KEY,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_CONFIG_FILE: '/nonexistent/flowlog-test-aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/flowlog-test-aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    NO_COLOR: '1',
    ...extra,
  }
}

export interface RunningCli {
  child: ChildProcess
  /** Resolves when the process ends, with its exit code (null after a signal) and output. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>
}

/**
 * Starts the real `flowlog` command without blocking: the S3 server runs in this process and
 * must keep answering while the command works.
 */
export function startFlowlog(args: readonly string[], env: NodeJS.ProcessEnv): RunningCli {
  const child = spawn(process.execPath, [repoPath('bin/flowlog.js'), ...args], {
    cwd: repoPath(),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString('utf8')
  })
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8')
  })
  const done = new Promise<{
    code: number | null
    signal: NodeJS.Signals | null
    stdout: string
    stderr: string
  }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  return { child, done }
}

/** Runs `flowlog` to the end (without blocking this process's S3 server). */
export async function runFlowlogAsync(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return startFlowlog(args, env).done
}

/** Polls `check` until it returns a value other than undefined, or fails after `seconds`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  seconds = 60,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
