import type { ChildProcess } from 'node:child_process'
import type { FleetHost } from './fleet-lab.js'
import { collectOutput, logLines, waitFor } from './netns.js'
import { repoPath } from './paths.js'

/**
 * `flowlog run` as one agent of a fleet (docs/fleet.md) in a fleet lab's host: the shared config,
 * the fleet's etcd, the host's name, and the API on the host's hypervisor loopback.
 */
export interface FleetAgent {
  host: FleetHost
  child: ChildProcess
  url: string
  logs: () => Array<Record<string, unknown>>
  stderr: () => string
  /** SIGTERM and the exit code. */
  stop(): Promise<number | null>
  /** SIGKILL, as a crash. */
  kill(): Promise<void>
}

export async function startAgent(
  host: FleetHost,
  options: { config: string; datastore: string; hostName: string; args?: readonly string[] },
): Promise<FleetAgent> {
  const child = host.lab.start(host.lab.hv, [
    process.execPath,
    repoPath('bin/flowlog.js'),
    'run',
    '--config',
    options.config,
    '--datastore',
    options.datastore,
    '--host-name',
    options.hostName,
    '--api',
    '127.0.0.1:0',
    ...(options.args ?? []),
  ])
  const output = collectOutput(child)
  const logs = () => logLines(output.stdout())
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(new Error(`flowlog run on ${host.name} exited (${code}): ${output.stderr()}`)),
    ),
  )
  exited.catch(() => {})
  const port = await Promise.race([
    exited,
    waitFor(
      `the API of ${host.name} to listen`,
      () => logs().find((l) => l.msg === 'api listening')?.port as number | undefined,
      30_000,
    ),
  ])
  const gone = () =>
    new Promise<number | null>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode)
      child.once('exit', (code) => resolve(code))
    })
  return {
    host,
    child,
    url: `http://127.0.0.1:${port}`,
    logs,
    stderr: output.stderr,
    stop: () => {
      const done = gone()
      child.kill('SIGTERM')
      return done
    },
    kill: async () => {
      const done = gone()
      child.kill('SIGKILL')
      await done
    },
  }
}
