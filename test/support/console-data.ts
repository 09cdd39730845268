import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runFlowlog } from './cli.js'
import { repoPath } from './paths.js'

/**
 * The quick start's capture replayed against its network with one change: SSH open to the world
 * (sgr-web-ssh from 0.0.0.0/0 instead of the office). The port scanner then reaches port 22, so
 * `detect` finds a scan that a rule let in, and the finding's block is a real rule change.
 */
export interface ConsoleData {
  dir: string
  config: string
  logs: string
}

export function replayConsoleData(): ConsoleData {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-console-'))
  const config = join(dir, 'network.yaml')
  const original = readFileSync(repoPath('examples/quickstart/network.yaml'), 'utf8')
  const wide = original.replace(
    'ports: "22", source: 192.0.2.0/24, description: office SSH',
    'ports: "22", source: 0.0.0.0/0, description: SSH from anywhere',
  )
  if (wide === original) throw new Error('the quick start config changed: sgr-web-ssh not found')
  writeFileSync(config, wide)
  const logs = join(dir, 'logs')
  const replay = runFlowlog([
    'replay',
    '--config',
    config,
    '--out',
    logs,
    repoPath('examples/quickstart/traffic.pcap'),
  ])
  if (replay.code !== 0) throw new Error(`replay failed: ${replay.stderr}`)
  return { dir, config, logs }
}
