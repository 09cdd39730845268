import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { repoPath } from './paths.js'

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs the real `flowlog` command (bin/flowlog.js over the compiled dist/). */
export function runFlowlog(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; input?: string | Buffer } = {},
): CliResult {
  const result = spawnSync(process.execPath, [repoPath('bin/flowlog.js'), ...args], {
    cwd: options.cwd ?? repoPath(),
    ...(options.input === undefined ? {} : { input: options.input }),
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    timeout: 120_000,
  })
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr }
}

/** Every file below `dir`, relative paths, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string, prefix: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name)
      if (statSync(full).isDirectory()) walk(full, `${prefix}${name}/`)
      else out.push(`${prefix}${name}`)
    }
  }
  walk(dir, '')
  return out
}

/** A file's text, gunzipped when it ends in .gz. */
export function readText(path: string): string {
  const bytes = readFileSync(path)
  return (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8')
}

/** Parses JSONL flow-log files below `dir` into objects. */
export function readJsonlRecords(dir: string): Record<string, unknown>[] {
  return listFiles(dir)
    .filter((f) => f.includes('.jsonl'))
    .flatMap((f) =>
      readText(join(dir, f))
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    )
}
