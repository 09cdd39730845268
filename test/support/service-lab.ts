import type { ChildProcess } from 'node:child_process'
import { spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { listFiles, readText } from './cli.js'
import { collectOutput, type Lab, logLines, waitFor } from './netns.js'
import { repoPath } from './paths.js'

/**
 * `flowlog run` as a service on a namespace lab (test/support/netns.ts): a config that gives only
 * the topology and groups, a state directory, an EC2 key pair and an NHN token; the daemon runs
 * in the lab's hypervisor namespace and its API listens on that namespace's loopback, so every
 * client call runs there too.
 */

export const ACCESS_KEY = 'AKIAFLOWLOGTEST00001'
export const SECRET_KEY = 'flowlog-test-secret-key-0123456789abcdef'
export const TOKEN = 'nhn-token-0123456789abcdef'

export type Row = Record<string, unknown>

export interface ServiceFiles {
  config: string
  state: string
  credentials: string
  token: string
}

/**
 * Writes the config (topology, groups sg-client / sg-server, and `flowLogs`: a YAML `flowLogs:`
 * section to seed the state with, or none), the credentials and the token file into `dir`.
 */
export function serviceFiles(lab: Lab, dir: string, flowLogs = ''): ServiceFiles {
  const nic = (i: Lab['instances'][0], group: string) =>
    `  - { id: eni-${i.name}, instance: i-${i.name}, subnet: subnet-lab, addresses: [${i.address}], device: ${i.device}, securityGroups: [${group}] }`
  const [client, ...servers] = lab.instances
  const config = join(dir, 'host.yaml')
  writeFileSync(
    config,
    `account: "123456789012"
region: kr1
spoolDir: ${join(dir, 'spool')}
vpcs:
  - id: vpc-lab
    cidrs: [10.77.0.0/16]
    subnets:
      - { id: subnet-lab, cidrs: [10.77.1.0/24] }
securityGroups:
  - id: sg-client
    outbound:
      - { id: sgr-client-out, protocol: all, destination: 0.0.0.0/0 }
  - id: sg-server
    inbound:
      - { id: sgr-http, protocol: tcp, ports: "80", source: 10.77.0.0/16 }
    outbound:
      - { id: sgr-server-out, protocol: all, destination: 0.0.0.0/0 }
interfaces:
${[nic(client!, 'sg-client'), ...servers.map((s) => nic(s, 'sg-server'))].join('\n')}
${flowLogs}`,
  )
  const credentials = join(dir, 'credentials')
  writeFileSync(
    credentials,
    `[tenant]\naws_access_key_id = ${ACCESS_KEY}\naws_secret_access_key = ${SECRET_KEY}\n`,
    { mode: 0o600 },
  )
  const token = join(dir, 'token')
  writeFileSync(token, `${TOKEN}\n`, { mode: 0o600 })
  return { config, state: join(dir, 'state'), credentials, token }
}

export interface RunningService {
  child: ChildProcess
  port: number
  url: string
  logs: () => Row[]
  stderr: () => string
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>
}

/**
 * Starts `flowlog run` with the state and the API in the lab's hypervisor namespace (the NHN
 * token always; `args` adds more, such as --api-credentials).
 */
export async function startService(
  lab: Lab,
  files: ServiceFiles,
  args: readonly string[] = [],
): Promise<RunningService> {
  const child = lab.start(lab.hv, [
    process.execPath,
    repoPath('bin/flowlog.js'),
    'run',
    '--config',
    files.config,
    '--state',
    files.state,
    '--api',
    '127.0.0.1:0',
    '--api-token-file',
    files.token,
    ...args,
  ])
  const output = collectOutput(child)
  const logs = () => logLines(output.stdout())
  const exit = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`flowlog run exited (${code}): ${output.stderr()}`))),
  )
  exit.catch(() => {})
  const port = await Promise.race([
    exit,
    waitFor(
      'the API to listen',
      () => logs().find((l) => l.msg === 'api listening')?.port as number | undefined,
      30_000,
    ),
  ])
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    logs,
    stderr: output.stderr,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode)
        child.once('exit', (code) => resolve(code))
        child.kill('SIGTERM')
      }),
  }
}

/** Debian's awscli (never the pip one on PATH) against the daemon, from inside the lab. */
export function aws(
  lab: Lab,
  service: Pick<RunningService, 'url'>,
  args: readonly string[],
  secret = SECRET_KEY,
): { code: number; json: Row; stderr: string } {
  const r = spawnSync(
    'ip',
    [
      'netns',
      'exec',
      lab.hv,
      'env',
      `AWS_ACCESS_KEY_ID=${ACCESS_KEY}`,
      `AWS_SECRET_ACCESS_KEY=${secret}`,
      'AWS_CONFIG_FILE=/dev/null',
      'AWS_SHARED_CREDENTIALS_FILE=/dev/null',
      'AWS_PAGER=',
      '/usr/bin/aws',
      'ec2',
      ...args,
      '--endpoint-url',
      service.url,
      '--region',
      'kr1',
      '--output',
      'json',
    ],
    { encoding: 'utf8', timeout: 60_000 },
  )
  const text = r.stdout.trim()
  return { code: r.status ?? -1, json: text === '' ? {} : (JSON.parse(text) as Row), stderr: r.stderr }
}

/** An HTTP call from inside the lab (the API listens on the hypervisor namespace's loopback). */
export function http(
  lab: Lab,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): { status: number; body: string; json: () => Row } {
  const init = {
    method: options.method ?? 'GET',
    headers: { 'content-type': 'application/json', ...options.headers },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  }
  const script = `fetch(${JSON.stringify(url)}, ${JSON.stringify(init)}).then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })))`
  const out = JSON.parse(lab.run(lab.hv, [process.execPath, '-e', script])) as {
    status: number
    body: string
  }
  return { ...out, json: () => JSON.parse(out.body) as Row }
}

/** The records of AWS text files (header line, space-separated, gzip or not) below `dir`. */
export function readTextRecords(dir: string): Row[] {
  if (!existsSync(dir)) return []
  return listFiles(dir)
    .filter((f) => f.endsWith('.log') || f.endsWith('.log.gz'))
    .flatMap((f) => {
      const [header, ...lines] = readText(join(dir, f))
        .split('\n')
        .filter((l) => l !== '')
      const names = (header ?? '').split(' ')
      return lines.map((line) => {
        const values = line.split(' ')
        return Object.fromEntries(names.map((n, i) => [n, numberOr(values[i] ?? '')]))
      })
    })
}

function numberOr(value: string): unknown {
  return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value
}

/** The records of NHN CSV files (a header row, no quoting needed for flow-log values) below `dir`. */
export function readCsvRecords(dir: string): Row[] {
  if (!existsSync(dir)) return []
  return listFiles(dir)
    .filter((f) => f.endsWith('.csv') || f.endsWith('.csv.gz'))
    .flatMap((f) => {
      const [header, ...lines] = readText(join(dir, f))
        .split('\n')
        .filter((l) => l !== '')
      const names = (header ?? '').split(',')
      return lines.map((line) => {
        const values = line.split(',')
        return Object.fromEntries(names.map((n, i) => [n, numberOr(values[i] ?? '')]))
      })
    })
}

/** The daemon's `file written` log lines of one flow log. */
export function filesWritten(logs: Row[], flowLogId: string): Row[] {
  return logs.filter((l) => l.msg === 'file written' && l.flowLog === flowLogId)
}

/** Polls until `ms` have passed (for "nothing after" checks: the files that would have come). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
