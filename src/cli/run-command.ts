import { readFileSync } from 'node:fs'
import { Command, InvalidArgumentError } from 'commander'
import { loadApiCredentials } from '../api/ec2/api-credentials.js'
import { agentHostName } from '../control/control-source.js'
import { InputError } from '../core/errors.js'
import { DEFAULT_RULESET } from '../enforce/render-ruleset.js'
import { CAPTURE_BACKENDS, type CaptureBackendChoice, chooseCaptureBackend } from '../live/capture-backend.js'
import { DEFAULT_CAPTURE_BUFFER_MIB } from '../live/device-capture.js'
import { ServiceDaemon } from '../live/service-daemon.js'
import { DEFAULT_SNAP_LENGTH } from '../live/tcpdump-capture.js'
import { createLogger } from '../ops/logger.js'
import { type Datastore, parseDatastore } from '../store/datastore-url.js'
import { defaultStateDir } from '../store/default-state-dir.js'

interface RunFlags {
  config: string
  state: string | false
  datastore?: string
  hostName?: string
  enforce: boolean
  out?: string
  api: string | false
  apiCredentials?: string
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
    .requiredOption(
      '-c, --config <file>',
      'config file (YAML or JSON): the topology (interfaces name their host device); its groups and flow logs seed an empty state',
    )
    .option(
      '--state <dir>',
      'state directory (created 0700): flow logs, security groups, rules, tags and attachments, kept across restarts',
      defaultStateDir(),
    )
    .option('--no-state', 'run the config alone, without the control-plane APIs (SIGHUP reloads its groups)')
    .option(
      '--datastore <url>',
      "where the control state lives (default: --state's SQLite): sqlite:DIR, or etcd://HOST:PORT[,HOST:PORT…][/PREFIX/] to run as one agent of a fleet sharing it (docs/fleet.md)",
    )
    .option(
      '--host-name <name>',
      "this agent's name in a fleet: its interfaces are those of the config with this host: (or none); default: the machine's host name",
    )
    .option(
      '--enforce',
      'load the security groups into nftables; record the kernel verdicts read through NFLOG',
      false,
    )
    .option('-o, --out <dir>', 'write every flow log to file://DIR instead of its configured destination')
    .option('--api <host:port>', 'HTTP API and /metrics address (port 0 picks a free one)', '127.0.0.1:9474')
    .option('--no-api', 'no HTTP API')
    .option(
      '--api-credentials <file>',
      'key pairs allowed to call the EC2 API (AWS shared-credentials format: [profile] aws_access_key_id, aws_secret_access_key)',
    )
    .option(
      '--api-token-file <file>',
      "token of the NHN API's X-Auth-Token and of POST /reload's bearer (else $FLOWLOG_API_TOKEN)",
    )
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
      'auto (af-packet where its addon is built and node may capture, else tcpdump when installed and allowed to, else libpcap), af-packet (the kernel ring read in-process), tcpdump (a tcpdump child per device) or libpcap (in-process, the "cap" binding)',
      parseBackend,
      'auto' as CaptureBackendChoice,
    )
    .option(
      '--snap-length <bytes>',
      'af-packet and tcpdump: bytes kept of each packet; headers are all flow logs read (byte counts come from the IP length)',
      parseSnapLength,
      DEFAULT_SNAP_LENGTH,
    )
    .addHelpText(
      'after',
      `
Privileges: capturing and loading nftables need root, or the capabilities CAP_NET_RAW and
CAP_NET_ADMIN. Capture backends (docs/live.md), chosen once at start-up (the log says which, why):
af-packet (the default where it can run) reads each device's kernel ring (AF_PACKET, TPACKET_V3)
inside node through a small addon that npm install builds on Linux (npm run build:native again
after installing a C compiler); 256 bytes of each packet (--snap-length), the kernel's
timestamps and drop counts; without root grant node CAP_NET_RAW:
  setcap cap_net_raw,cap_net_admin+ep "$(readlink -f "$(command -v node)")"
tcpdump (the default without the addon, and in enforce mode) runs one "tcpdump -w -" per device
and reads its pcap stream, likewise 256 bytes, timestamps and drop counts; a child does not
inherit node's capabilities, so without root grant them to tcpdump:
  setcap cap_net_raw,cap_net_admin+ep "$(command -v tcpdump)"
libpcap (the last fallback) captures inside node through the optional "cap" binding, one call
per packet; it builds only with libpcap's headers:
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
window ends, with NODATA records for idle interfaces.

State and APIs: the config gives the topology (VPCs, subnets, interfaces and their devices) and
the daemon settings; flow logs, security groups, rules, tags and interface groups live in an
SQLite database under --state (/var/lib/flowlog for root, else ~/.local/state/flowlog, unless
FLOWLOG_STATE_DIR says). The first start seeds an empty state from the config's groups and flow
logs; afterwards the state is the truth, and a config that differs is reported (flowlog
export-config writes the state as a config). A config may hold no flow logs: the daemon then
waits for API calls. Changes made through the APIs apply live: a created flow log starts at its
next window boundary, a deleted (or paused) one writes its open window at once and stops, a
security-group change judges new connections at once (tracked ones keep their state, as on
AWS), and in enforce mode the nftables ruleset is replaced atomically. --no-state runs the
config alone, as before: no API adapters, and SIGHUP applies the config's group changes
(changed flow logs are refused).

A fleet (docs/fleet.md): --datastore etcd://HOST:PORT[,…] keeps the state in etcd, shared by
every host's agent. Each agent publishes the interfaces of its config on its host (host: equal to
--host-name, or none) and captures only those; the topology joins every host's, so flow logs and
group references span the fleet, and a change through any agent's API applies on every host.
While etcd is unreachable the agent logs on with the last state it had, /status and
flowlog_datastore_up say so, and API writes are refused (503).

The API listens on 127.0.0.1 by default (--api; one listener):
  POST /                 EC2 Query API (awscli, AWS SDKs), SigV4 with --api-credentials
  /v2.0/flowlog-loggers  NHN Cloud Flow Log API v2, X-Auth-Token from --api-token-file
  GET /openapi.json      the OpenAPI document of the REST routes
  GET /console/          the web console (docs/console.md), and /v2.0/flowlog-analysis/ under it
  GET /metrics (Prometheus), GET /status, GET /healthz
  POST /reload           reloads the config (Authorization: Bearer <token>)
Bodies over 1 MiB are refused (413). Logs are JSON lines on stdout.

Signals: SIGTERM/SIGINT flush the open windows and exit; SIGHUP reloads the config file (its
topology and settings; interfaces, VPCs and limits need a restart).

Examples:
  sudo flowlog run --config host.yaml --state /var/lib/flowlog --api 127.0.0.1:9474 \
       --api-credentials /etc/flowlog/credentials --api-token-file /etc/flowlog/token
  aws ec2 describe-flow-logs --endpoint-url http://127.0.0.1:9474
  curl -H "X-Auth-Token: $(cat /etc/flowlog/token)" http://127.0.0.1:9474/v2.0/flowlog-loggers
  sudo flowlog run --config fleet.yaml --datastore etcd://10.0.0.5:2379,10.0.0.6:2379 \
       --host-name hv-01 --api 127.0.0.1:9474
  sudo flowlog run --config host.yaml --no-state --enforce --api 127.0.0.1:0
  kill -HUP <pid>    # reload the config`,
    )
    .action(async (flags: RunFlags) => {
      const logger = createLogger()
      const capture = chooseCaptureBackend(flags.captureBackend, {
        enforce: flags.enforce,
        snapLength: flags.snapLength,
      })
      const token = readToken(flags.apiTokenFile)
      const [acceptGroup, dropGroup] = flags.nflogGroups
      const service = await ServiceDaemon.start({
        live: {
          configPath: flags.config,
          ...(flags.out === undefined ? {} : { out: flags.out }),
          enforce: flags.enforce,
          captureBufferMiB: flags.captureBuffer,
          capture,
          ruleset: { table: flags.nftTable, acceptGroup, dropGroup },
          logger,
        },
        stateDir: flags.state === false ? null : flags.state,
        datastore: datastoreOf(flags),
        hostName: flags.hostName === undefined ? undefined : agentHostName(flags.hostName),
        api: flags.api === false ? null : parseListen(flags.api),
        token,
        credentials: flags.apiCredentials === undefined ? null : loadApiCredentials(flags.apiCredentials),
        logger,
      })
      await new Promise<void>((resolve, reject) => {
        const stop = (signal: string) => {
          logger.info({ signal }, 'stopping: flushing open windows')
          service.stop().then(() => resolve(), reject)
        }
        process.once('SIGTERM', () => stop('SIGTERM'))
        process.once('SIGINT', () => stop('SIGINT'))
        process.on('SIGHUP', () => {
          logger.info({ signal: 'SIGHUP' }, 'reloading the config')
          void service.reload()
        })
      })
    })
}

/** --datastore, which --no-state contradicts. */
function datastoreOf(flags: RunFlags): Datastore | undefined {
  if (flags.datastore === undefined) return undefined
  if (flags.state === false)
    throw new InputError(
      '--datastore and --no-state contradict each other: --no-state runs without any state',
    )
  return parseDatastore(flags.datastore)
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
