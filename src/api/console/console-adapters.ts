import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { ControlPlane } from '../../control/control-plane.js'
import type { NetworkConfig } from '../../core/network.js'
import { listSources } from '../../read/list-sources.js'
import { analysisAdapter } from '../analysis/analysis-adapter.js'
import { FlowsCache } from '../analysis/flows-cache.js'
import type { ApiAdapter } from '../api-handler.js'
import { CONSOLE_ASSETS_DIR, consoleAssets } from './console-assets.js'

/**
 * What a server mounts to serve the web console: its page and the read-only analysis endpoints.
 * `flowlog console` mounts these (and, with --state, the NHN API); `flowlog run` mounts them beside
 * its APIs on the same listener. The management pages use the NHN and EC2 APIs the server mounts
 * anyway: the console is a client of the public APIs, nothing more.
 */
export interface ConsoleOptions {
  /** Flow-log sources to analyse (files, directories, s3:// prefixes), besides the flow logs' own. */
  sources: readonly string[]
  /**
   * The control plane, when the server has one: the network and its groups come from it, every
   * flow log's destination is analysed too, and delivery status is answered.
   */
  control: ControlPlane | null
  /**
   * Where the flow logs write now (file:// and s3:// destinations), when not the control plane's
   * own (a daemon run with --out writes elsewhere).
   */
  destinations?: () => Promise<readonly string[]>
  /** The network when there is no control plane (a config file), or null. */
  network: NetworkConfig | null
  /** The API token: when set, the analysis endpoints want it too. */
  token: string | null
  /** The server mounts the NHN flow-log API (and the EC2 API when it has one). */
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
  const control = options.control
  const network = async () => (control === null ? options.network : control.effectiveNetwork())
  const destinations =
    options.destinations ??
    (async () => (control === null ? [] : (await control.listFlowLogs()).map((f) => f.spec.destination)))
  const sources = async () => [...options.sources, ...(await existingSources(await destinations()))]
  const flows = new FlowsCache(sources, { recheckSeconds: options.recheckSeconds ?? 5 })
  const analysis = analysisAdapter({ flows, network, token: options.token, control })
  const assets = consoleAssets(async () => {
    const n = await network()
    return {
      management: options.management,
      analysisNeedsToken: options.token !== null,
      region: n?.region ?? 'us-east-1',
    }
  }, options.assetsDir ?? CONSOLE_ASSETS_DIR)
  return { adapters: [analysis, assets], close: () => flows.close() }
}

/**
 * Flow-log destinations as sources: file:// directories that exist by now, and s3:// prefixes that
 * can be listed (through the S3 client the daemon writes with). Deleted flow logs' files are no
 * longer listed here; name their directory as a source to keep them in view.
 */
async function existingSources(destinations: readonly string[]): Promise<string[]> {
  const out: string[] = []
  for (const d of new Set(destinations)) {
    if (d.startsWith('s3://')) {
      // A bucket that cannot be listed yet (no file written, no access) leaves the others in view.
      if (
        await listSources([d], undefined, undefined).then(
          () => true,
          () => false,
        )
      )
        out.push(d)
    } else if (d.startsWith('file://')) {
      const dir = fileURLToPath(d)
      if (existsSync(dir)) out.push(dir)
    }
  }
  return out
}
