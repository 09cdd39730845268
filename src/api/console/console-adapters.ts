import type { NetworkConfig } from '../../core/network.js'
import { analysisAdapter } from '../analysis/analysis-adapter.js'
import { FlowsCache } from '../analysis/flows-cache.js'
import type { ApiAdapter } from '../api-handler.js'
import { CONSOLE_ASSETS_DIR, consoleAssets } from './console-assets.js'

/**
 * What a server mounts to serve the web console: its page and the read-only analysis endpoints.
 * `flowlog console` mounts these (and, with --state, the control-plane APIs); `flowlog run` mounts
 * them beside its APIs on the same listener. The management pages use the NHN and EC2 APIs the
 * server mounts anyway: the console is a client of the public APIs, nothing more.
 */
export interface ConsoleOptions {
  /** The flow-log sources to analyse now (files, directories, s3:// prefixes). */
  sources: readonly string[] | (() => Promise<readonly string[]>)
  /** The network (topology and groups), or null when only files are known. */
  network: () => Promise<NetworkConfig | null>
  /** The API token: when set, the analysis endpoints want it too. */
  token: string | null
  /** The server mounts the NHN flow-log API and the EC2 API. */
  management: boolean
  assetsDir?: string
  /** Seconds between looks for new flow-log files (default 5). */
  recheckSeconds?: number
}

export interface ConsoleMount {
  adapters: ApiAdapter[]
  close(): void
}

export function consoleAdapters(options: ConsoleOptions): ConsoleMount {
  const flows = new FlowsCache(options.sources, { recheckSeconds: options.recheckSeconds ?? 5 })
  const analysis = analysisAdapter({ flows, network: options.network, token: options.token })
  const assets = consoleAssets(async () => {
    const network = await options.network()
    return {
      management: options.management,
      analysisNeedsToken: options.token !== null,
      region: network?.region ?? 'us-east-1',
    }
  }, options.assetsDir ?? CONSOLE_ASSETS_DIR)
  return { adapters: [analysis, assets], close: () => flows.close() }
}
