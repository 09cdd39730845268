import { readFileSync } from 'node:fs'
import { Command, InvalidArgumentError } from 'commander'
import { InputError } from '../core/errors.js'
import { DEFAULT_RULESET } from '../enforce/render-ruleset.js'
import { CAPTURE_BACKENDS, type CaptureBackendChoice, chooseCaptureBackend } from '../live/capture-backend.js'
import { DEFAULT_CAPTURE_BUFFER_MIB } from '../live/device-capture.js'
import { LiveDaemon } from '../live/live-daemon.js'
import { DEFAULT_SNAP_LENGTH } from '../live/tcpdump-capture.js'
import { startApi } from '../ops/http-api.js'
import { createLogger } from '../ops/logger.js'
import { LiveMetrics } from '../ops/metrics.js'

interface RunFlags {
  config: string
  enforce: boolean
  out?: string
  api: string | false
  apiTokenFile?: string
  nflogGroups: [number, number]
  nftTable: string
  captureBuffer: number
  captureBackend: CaptureBackendChoice
  snapLength: number
}

export function runCommand(): Command {
  return new Command('run')
    .description("live daemon: capture the interfaces' devices and write flow-log files as windows close")
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON); interfaces name their host device')
    .option(
      '--enforce',
      'load the security groups into nftables; record the kernel verdicts read through NFLOG',
      false,
    )
    .option('-o, --out <dir>', 'write every flow log to file://DIR instead of its configured destination')
    .option('--api <host:port>', 'HTTP API and /metrics address (port 0 picks a free one)', '127.0.0.1:9474')
    .option('--no-api', 'no HTTP API')
    .option('--api-token-file <file>', 'bearer token for state-changing API calls (else $FLOWLOG_API_TOKEN)')
    .option(
      '--nflog-groups <accept,drop>',
      'enforce mode: NFLOG groups of accepted and dropped packets',
      parseGroups,
      [DEFAULT_RULESET.acceptGroup, DEFAULT_RULESET.dropGroup] as [number, number],
    )
    .option('--nft-table <name>', 'enforce mode: nftables table (family inet)', DEFAULT_RULESET.table)
    .option(
      '--capture-buffer <MiB>',
      'kernel ring per capture device: bursts beyond it are dropped (and counted as SKIPDATA)',
      parseMiB,
      DEFAULT_CAPTURE_BUFFER_MIB,
    )
    .option(
      '--capture-backend <backend>',
      'auto (tcpdump when installed and allowed to capture, else libpcap), tcpdump (a tcpdump child per device) or libpcap (in-process, the "cap" binding)',
      parseBackend,
      'auto' as CaptureBackendChoice,
    )
    .option(
      '--snap-length <bytes>',
      'tcpdump backend: bytes kept of each packet; headers are all flow logs read (byte counts come from the IP length)',
      parseSnapLength,
      DEFAULT_SNAP_LENGTH,
    )
    .addHelpText(
      'after',
      `
Privileges: capturing and loading nftables need root, or the capabilities CAP_NET_RAW and
CAP_NET_ADMIN. Capture backends: tcpdump (the default when it is installed) runs one
"tcpdump -w -" per device and reads its pcap stream, 256 bytes of each packet (--snap-length),
with the kernel's timestamps and drop counts; a child does not inherit node's capabilities, so
without root grant them to tcpdump: setcap cap_net_raw,cap_net_admin+ep "$(command -v tcpdump)".
libpcap (the fallback) captures inside node through the optional "cap" binding (grant node the
capabilities: setcap cap_net_raw,cap_net_admin+ep "$(readlink -f "$(command -v node)")"); it
builds only with libpcap's headers:
  apt-get install libpcap-dev && npm rebuild cap

Observe mode (default) opens one capture per interface "device" and judges packets with
flowlog's own security-group engine. --enforce renders the groups to nftables (see
"flowlog sg render"), loads them atomically, reads the kernel's verdicts from NFLOG and removes
the table on exit (and on the next start after a crash). Devices may be routed taps or ports of
a Linux bridge (libvirt, Proxmox, OpenStack linuxbridge): for bridge ports flowlog turns on
net.bridge.bridge-nf-call-iptables/-ip6tables (br_netfilter) in its network namespace while it
runs and restores them on exit, or on the next start after a crash (originals kept in
/run/flowlog). Open vSwitch ports bypass netfilter: enforce mode refuses them.

Windows close by the clock: a flow log's file for a window appears about a second after the
window ends, with NODATA records for idle interfaces. Signals: SIGTERM/SIGINT flush the open
windows and exit; SIGHUP reloads the config (security-group changes apply to new connections,
tracked ones keep their state; changed flow logs are refused: they are immutable).

Logs are JSON lines on stdout. The API (127.0.0.1 by default): GET /metrics (Prometheus),
GET /status, GET /healthz, POST /reload (needs Authorization: Bearer <token>).

Examples:
  sudo flowlog run --config host.yaml
  sudo flowlog run --config host.yaml --enforce --api 127.0.0.1:0
  kill -HUP <pid>    # reload security groups`,
    )
    .action(async (flags: RunFlags) => {
      const logger = createLogger()
      const capture = chooseCaptureBackend(flags.captureBackend, {
        enforce: flags.enforce,
        snapLength: flags.snapLength,
      })
      const token = readToken(flags.apiTokenFile)
      const [acceptGroup, dropGroup] = flags.nflogGroups
      let metrics: LiveMetrics | null = null
      const daemon = await LiveDaemon.start({
        configPath: flags.config,
        ...(flags.out === undefined ? {} : { out: flags.out }),
        enforce: flags.enforce,
        captureBufferMiB: flags.captureBuffer,
        capture,
        ruleset: { table: flags.nftTable, acceptGroup, dropGroup },
        logger,
        onFile: (file, delay) => metrics?.fileWritten(file.flowLogId, delay),
      })
      const live = new LiveMetrics(() => daemon.snapshot())
      metrics = live
      const reload = () => {
        const result = daemon.reload()
        live.reloaded(result.ok)
        return result
      }
      let api: Awaited<ReturnType<typeof startApi>> | null = null
      if (flags.api !== false) {
        const { host, port } = parseListen(flags.api)
        try {
          api = await startApi(
            { host, port, token },
            {
              metrics: () => live.text(),
              metricsContentType: live.registry.contentType,
              status: () => ({ mode: daemon.mode, config: flags.config, ...daemon.snapshot() }),
              reload: async () => reload(),
            },
          )
          logger.info({ host, port: api.port, reloadEnabled: token !== null }, 'api listening')
        } catch (error) {
          await daemon.stop()
          throw error
        }
      }
      await new Promise<void>((resolve, reject) => {
        const stop = (signal: string) => {
          logger.info({ signal }, 'stopping: flushing open windows')
          daemon.stop().then(() => resolve(), reject)
        }
        process.once('SIGTERM', () => stop('SIGTERM'))
        process.once('SIGINT', () => stop('SIGINT'))
        process.on('SIGHUP', () => {
          logger.info({ signal: 'SIGHUP' }, 'reloading the config')
          reload()
        })
      })
      api?.server.close()
    })
}

function parseMiB(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 4096)
    throw new InvalidArgumentError(`"${value}" is not a size in MiB from 1 to 4096`)
  return n
}

function parseBackend(value: string): CaptureBackendChoice {
  const backend = CAPTURE_BACKENDS.find((b) => b === value)
  if (backend === undefined)
    throw new InvalidArgumentError(`"${value}" is not a capture backend: ${CAPTURE_BACKENDS.join(', ')}`)
  return backend
}

function parseSnapLength(value: string): number {
  const n = Number(value)
  // 96: Ethernet + VLAN + IPv6 + the first 38 bytes of TCP; libpcap's own maximum is 262144.
  if (!Number.isInteger(n) || n < 96 || n > 262_144)
    throw new InvalidArgumentError(`"${value}" is not a snap length in bytes from 96 to 262144`)
  return n
}

function parseGroups(value: string): [number, number] {
  const parts = value.split(',').map((p) => Number(p.trim()))
  const ok =
    parts.length === 2 &&
    parts.every((n) => Number.isInteger(n) && n >= 0 && n <= 65535) &&
    parts[0] !== parts[1]
  if (!ok)
    throw new InvalidArgumentError(`"${value}" is not two different NFLOG groups 0-65535, like 27001,27002`)
  return [parts[0]!, parts[1]!]
}

function parseListen(value: string): { host: string; port: number } {
  const colon = value.lastIndexOf(':')
  const host = colon < 0 ? '127.0.0.1' : value.slice(0, colon).replace(/^\[|\]$/g, '')
  const port = Number(colon < 0 ? value : value.slice(colon + 1))
  if (!Number.isInteger(port) || port < 0 || port > 65535 || host === '') {
    throw new InputError(`--api: "${value}" is not host:port (port 0-65535), like 127.0.0.1:9474`)
  }
  return { host, port }
}

function readToken(file: string | undefined): string | null {
  if (file === undefined) return process.env.FLOWLOG_API_TOKEN?.trim() || null
  try {
    const token = readFileSync(file, 'utf8').trim()
    if (token.length < 16)
      throw new InputError(`--api-token-file: ${file} holds a token shorter than 16 characters`)
    return token
  } catch (error) {
    if (error instanceof InputError) throw error
    throw new InputError(`--api-token-file: cannot read ${file} (${(error as Error).message})`)
  }
}
