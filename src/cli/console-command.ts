import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { Command } from 'commander'
import { consoleAdapters } from '../api/console/console-adapters.js'
import { CONSOLE_PATH } from '../api/console/console-assets.js'
import { serveAdapters } from '../api/console/serve-adapters.js'
import { loadConfig } from '../config/load-config.js'
import { InputError } from '../core/errors.js'
import { createLogger } from '../ops/logger.js'

interface ConsoleFlags {
  config?: string
  listen: string
  apiTokenFile?: string
}

export function consoleCommand(): Command {
  return new Command('console')
    .description('the web console over flow-log files: traffic charts, top talkers, a flow browser, findings')
    .argument('<source...>', 'flow-log files, directories (read recursively) or s3://bucket/prefix')
    .option(
      '-c, --config <file>',
      'the network: places to select, and security groups for findings, audit and what-if',
    )
    .option('--listen <host:port>', 'address to serve on (port 0 picks a free one)', '127.0.0.1:9475')
    .option(
      '--api-token-file <file>',
      'a token the console asks for before it shows anything (else $FLOWLOG_API_TOKEN)',
    )
    .addHelpText(
      'after',
      `
Open the printed address in a browser. Charts are aggregated by DuckDB on the server; new files in
the sources are picked up within seconds. The console listens on 127.0.0.1 unless told otherwise:
flow records say who talks to whom. To manage flow logs from the console as well, open the one that
\`flowlog run\` serves on its API address. See docs/console.md.

Examples:
  flowlog console flowlogs-out/
  flowlog console --config examples/quickstart/network.yaml flowlogs-out/
  flowlog console --listen 127.0.0.1:0 s3://bucket/AWSLogs/`,
    )
    .action(async (sources: string[], flags: ConsoleFlags) => {
      const logger = createLogger()
      const network = flags.config === undefined ? null : loadConfig(flags.config)
      const { host, port } = parseListen(flags.listen)
      const mount = consoleAdapters({
        sources,
        network: async () => network,
        token: readToken(flags.apiTokenFile),
        management: false,
      })
      const server = serveAdapters(mount.adapters, (error) =>
        logger.error({ err: error }, 'console request failed'),
      )
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => resolve())
      })
      const address = server.address() as AddressInfo
      const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
      process.stdout.write(`flowlog console: http://${shown}:${address.port}${CONSOLE_PATH}\n`)
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', () => resolve())
        process.once('SIGINT', () => resolve())
      })
      server.close()
      server.closeAllConnections()
      mount.close()
    })
}

function parseListen(value: string): { host: string; port: number } {
  const colon = value.lastIndexOf(':')
  const host = colon < 0 ? '127.0.0.1' : value.slice(0, colon).replace(/^\[|\]$/g, '')
  const port = Number(colon < 0 ? value : value.slice(colon + 1))
  if (!Number.isInteger(port) || port < 0 || port > 65535 || host === '') {
    throw new InputError(`--listen: "${value}" is not host:port (port 0-65535), like 127.0.0.1:9475`)
  }
  return { host, port }
}

function readToken(file: string | undefined): string | null {
  if (file === undefined) return process.env.FLOWLOG_API_TOKEN?.trim() || null
  let token: string
  try {
    token = readFileSync(file, 'utf8').trim()
  } catch (error) {
    throw new InputError(`--api-token-file: cannot read ${file} (${(error as Error).message})`)
  }
  if (token.length < 16)
    throw new InputError(`--api-token-file: ${file} holds a token shorter than 16 characters`)
  return token
}
