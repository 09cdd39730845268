import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { Command } from 'commander'
import type { ApiAdapter } from '../api/api-handler.js'
import { consoleAdapters } from '../api/console/console-adapters.js'
import { CONSOLE_PATH } from '../api/console/console-assets.js'
import { serveAdapters } from '../api/console/serve-adapters.js'
import { loadApiCredentials } from '../api/ec2/api-credentials.js'
import { createEc2Adapter } from '../api/ec2/ec2-adapter.js'
import { NhnApiAdapter } from '../api/nhn/nhn-adapter.js'
import { loadConfig } from '../config/load-config.js'
import { ControlError } from '../control/control-error.js'
import { ControlService } from '../control/control-service.js'
import { settingsOfConfig, topologyOfConfig } from '../control/effective-network.js'
import { CONFIG_RECORD_ID, type ConfigRecord, reconcileWithConfig } from '../control/seed-state.js'
import { InputError } from '../core/errors.js'
import { createLogger } from '../ops/logger.js'
import { SqliteStore } from '../store/sqlite-store.js'

interface ConsoleFlags {
  config?: string
  state?: string
  listen: string
  apiTokenFile?: string
  apiCredentials?: string
}

export function consoleCommand(): Command {
  return new Command('console')
    .description(
      'the web console: traffic charts, top talkers, who talks to whom, a flow browser, findings, audit, what-if; with --state, flow logs too',
    )
    .argument('[source...]', 'flow-log files, directories (read recursively) or s3://bucket/prefix')
    .option(
      '-c, --config <file>',
      'the network: places to select, and security groups for findings, audit and what-if',
    )
    .option(
      '--state <dir>',
      "a state directory of flowlog run: manage its flow logs (NHN API) and analyse their files; the network is the state's",
    )
    .option('--listen <host:port>', 'address to serve on (port 0 picks a free one)', '127.0.0.1:9475')
    .option(
      '--api-token-file <file>',
      'the token the console asks for (else $FLOWLOG_API_TOKEN); needed with --state, and then for everything',
    )
    .option(
      '--api-credentials <file>',
      "with --state: key pairs (AWS shared-credentials format) that may call the EC2 API: security groups, AWS-style flow logs, findings' blocks",
    )
    .addHelpText(
      'after',
      `
Open the printed address in a browser. Charts are aggregated by DuckDB on the server; new files in
the sources are picked up within seconds. The console listens on 127.0.0.1 unless told otherwise:
flow records say who talks to whom. With --state, flow logs are managed through the same NHN API
\`flowlog run\` serves; the changes go into the state, which a daemon reads when it starts (a
daemon already running on it does not see them: use the console \`flowlog run\` itself serves on
its API address, where they apply at once).
See docs/console.md.

Examples:
  flowlog console flowlogs-out/
  flowlog console --config examples/quickstart/network.yaml flowlogs-out/
  flowlog console --state /var/lib/flowlog --api-token-file /etc/flowlog/token \\
                  --api-credentials /etc/flowlog/credentials
  flowlog console --listen 127.0.0.1:0 s3://bucket/AWSLogs/`,
    )
    .action(async (sources: string[], flags: ConsoleFlags) => {
      const logger = createLogger()
      const token = readToken(flags.apiTokenFile)
      const config = flags.config === undefined ? null : loadConfig(flags.config)
      if (flags.state === undefined && sources.length === 0) {
        throw new InputError('name flow-log sources (files, directories, s3:// prefixes), or give --state')
      }
      const { host, port } = parseListen(flags.listen)
      const state = flags.state === undefined ? null : await openState(flags.state, flags.config, config)
      if (state !== null && token === null) {
        throw new InputError(
          '--state: managing flow logs needs a token: give --api-token-file or set FLOWLOG_API_TOKEN',
        )
      }
      const mount = consoleAdapters({
        sources,
        control: state?.control ?? null,
        network: config,
        token,
        management: state !== null,
      })
      if (flags.apiCredentials !== undefined && state === null) {
        throw new InputError('--api-credentials: the EC2 API needs --state (it changes the state)')
      }
      const credentials = flags.apiCredentials === undefined ? null : loadApiCredentials(flags.apiCredentials)
      const apis: ApiAdapter[] = []
      if (state !== null && token !== null) apis.push(new NhnApiAdapter({ control: state.control, token }))
      // EC2 answers POST / only: the console's page (GET /) is the assets adapter's.
      if (state !== null && credentials !== null) {
        apis.push(createEc2Adapter({ control: state.control, credentials, logger }))
      }
      const server = serveAdapters([...apis, ...mount.adapters], (error) =>
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
      await state?.store.close()
    })
}

/**
 * The state of `flowlog run`: its topology from --config (seeding the state as the daemon does on
 * its first start) or the one the daemon last recorded.
 */
async function openState(
  dir: string,
  configPath: string | undefined,
  config: ReturnType<typeof loadConfig> | null,
) {
  let store: SqliteStore
  try {
    store = SqliteStore.open(dir, { create: config !== null })
  } catch (error) {
    if (error instanceof ControlError) throw new InputError(`--state ${dir}: ${error.message}`)
    throw error
  }
  let record: ConfigRecord
  if (config !== null && configPath !== undefined) {
    await reconcileWithConfig(store, config, configPath)
    record = { topology: topologyOfConfig(config), settings: settingsOfConfig(config), source: configPath }
  } else {
    const stored = await store.read((r) => r.get<ConfigRecord>('topology', CONFIG_RECORD_ID))
    if (stored === undefined) {
      await store.close()
      throw new InputError(
        `--state ${dir}: holds no topology yet (the daemon records it when it starts); give --config`,
      )
    }
    record = stored
  }
  const control = new ControlService({
    store,
    topology: () => record.topology,
    settings: () => record.settings,
  })
  return { store, control }
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
