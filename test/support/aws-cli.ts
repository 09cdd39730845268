import { execFile } from 'node:child_process'

/**
 * Debian's awscli (/usr/bin/aws, v2; the `aws` on PATH may be another one), run asynchronously
 * so a server in the same process keeps answering. No profile, config or instance metadata is
 * read: the key pair comes from the environment, as the users call it.
 */
export const DEBIAN_AWS = '/usr/bin/aws'

export interface AwsCliResult {
  code: number
  stdout: string
  stderr: string
  /** stdout parsed as JSON, or null when empty. */
  json: unknown
}

export interface AwsCliOptions {
  accessKeyId: string
  secretAccessKey: string
  region?: string
}

export function awsCli(args: readonly string[], options: AwsCliOptions): Promise<AwsCliResult> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    AWS_ACCESS_KEY_ID: options.accessKeyId,
    AWS_SECRET_ACCESS_KEY: options.secretAccessKey,
    AWS_DEFAULT_REGION: options.region ?? 'eu-west-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    // One attempt: a refused call must show its own error, not a retry's.
    AWS_RETRY_MODE: 'standard',
    AWS_MAX_ATTEMPTS: '1',
  }
  return new Promise((resolve) => {
    execFile(DEBIAN_AWS, [...args, '--output', 'json'], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
      let json: unknown = null
      if (stdout.trim() !== '') json = JSON.parse(stdout)
      resolve({ code, stdout, stderr, json })
    })
  })
}
