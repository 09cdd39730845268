import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Command } from 'commander'
import { loadConfig } from '../config/load-config.js'
import { InputError } from '../core/errors.js'
import type { NetworkConfig } from '../core/network.js'
import { replay } from '../pipeline/replay.js'
import { parseDuration } from './duration.js'
import { startProgress } from './progress.js'
import { stillWaiting } from './spool-command.js'
import { printReplaySummary } from './summary.js'

interface ReplayFlags {
  config: string
  out?: string
  device?: string
  summaryJson?: string
  progress: boolean
  spool?: string
  deliveryTimeout?: string
}

export function replayCommand(): Command {
  return new Command('replay')
    .description('turn packet captures (pcap/pcapng) into the flow-log files of every flow log in the config')
    .argument(
      '<capture...>',
      "capture files (pcap, pcapng); several, and a pcapng file's interfaces, are merged in time order",
    )
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('-o, --out <dir>', 'write every flow log to file://DIR instead of its configured destination')
    .option(
      '-d, --device <name>',
      "the whole capture was taken on this interface's device (attribute by device)",
    )
    .option('--summary-json <file>', 'also write the summary as JSON to this file')
    .option('--no-progress', 'no progress bar (it shows only on a terminal anyway)')
    .option('--spool <dir>', "where files wait while a destination fails (default: the config's spoolDir)")
    .option(
      '--delivery-timeout <duration>',
      "keep retrying undelivered files this long after the last window (e.g. 60s, 5m; default: the config's deliveryTimeout, 60s)",
    )
    .addHelpText(
      'after',
      `
Packets are judged against the interfaces' security groups, aggregated per flow log interval and
written as one file per flow log per window. Without --device, packets are attributed by address
(and MAC); a pcapng interface named like an interface's "device" is attributed by device. Frames
that are not flow packets are counted by reason in the summary (not-ip, truncated-*,
bad-timestamp, ...: docs/decoding.md).

Examples:
  flowlog replay --config net.yaml capture.pcap
  flowlog replay --config net.yaml --out ./logs day1.pcapng day2.pcapng
  flowlog replay --config net.yaml --device tap-web1 tap-web1.pcap`,
    )
    .action(async (captures: string[], flags: ReplayFlags) => {
      let network = loadConfig(flags.config)
      if (flags.out !== undefined) network = redirect(network, flags.out)
      if (flags.device !== undefined && !network.interfaces.some((i) => i.device === flags.device)) {
        throw new InputError(
          `--device: "${flags.device}" is not the device of any interface in ${flags.config} (devices: ${
            network.interfaces.flatMap((i) => (i.device === null ? [] : [i.device])).join(', ') || 'none'
          })`,
        )
      }
      const deliveryTimeout =
        flags.deliveryTimeout === undefined
          ? undefined
          : parseDuration('--delivery-timeout', flags.deliveryTimeout)
      const progress = flags.progress ? startProgress(captures) : null
      const summary = await replay({
        network,
        captures,
        ...(flags.device === undefined ? {} : { device: flags.device }),
        ...(flags.spool === undefined ? {} : { spoolDir: resolve(flags.spool) }),
        ...(deliveryTimeout === undefined ? {} : { deliveryTimeout }),
        ...(progress === null ? {} : { onProgress: progress.update }),
      }).finally(() => progress?.stop())
      printReplaySummary(summary)
      if (flags.summaryJson !== undefined) {
        writeFileSync(flags.summaryJson, `${JSON.stringify({ ...summary, files: summary.files }, null, 2)}\n`)
      }
      const { waiting, spoolDir, stats } = summary.delivery
      if (stats.spooled > 0 || stats.failedAttempts > 0) {
        console.log(
          `delivery: ${stats.delivered} file(s) delivered, ${stats.failedAttempts} failed attempt(s), ` +
            `${waiting.length} file(s) waiting in the spool ${spoolDir}`,
        )
      }
      if (waiting.length > 0) throw stillWaiting(spoolDir, waiting, 'could not be delivered in time')
    })
}

/** --out DIR: every flow log writes to file://DIR, keeping its layout and format. */
function redirect(network: NetworkConfig, out: string): NetworkConfig {
  const destination = pathToFileURL(resolve(out)).href
  return { ...network, flowLogs: network.flowLogs.map((f) => ({ ...f, destination })) }
}
