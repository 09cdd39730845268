import { resolve } from 'node:path'
import { Command } from 'commander'
import { loadConfig } from '../config/load-config.js'
import { FlowlogError } from '../core/errors.js'
import type { NetworkConfig } from '../core/network.js'
import { Delivery, deliverySetupFor } from '../deliver/delivery.js'
import type { SpoolEntry } from '../deliver/spool.js'
import { parseDuration } from './duration.js'

interface SpoolFlags {
  spool?: string
  config?: string
}

const n = (v: number) => v.toLocaleString('en-US')

/**
 * `flowlog spool list | deliver`: what waits in the spool and why, and delivering it now
 * (after an outage, a crash, or a replay that ran out of time).
 */
export function spoolCommand(): Command {
  const spool = new Command('spool')
    .description('files waiting for their destination: list them, or deliver them now')
    .addHelpText(
      'after',
      `
Finished files wait in the spool while their destination is down or refuses them. The spool is
--spool DIR, else the config's spoolDir (with --config), else $FLOWLOG_SPOOL_DIR, else
~/.cache/flowlog/spool. Credentials come from the AWS chain, as for every s3:// destination.

Examples:
  flowlog spool list
  flowlog spool deliver --spool /var/spool/flowlog --timeout 5m`,
    )
  spool
    .command('list')
    .description('show the files waiting, their destination, attempts and last error')
    .option('-s, --spool <dir>', 'spool directory')
    .option('-c, --config <file>', "take the spool directory from this config's spoolDir")
    .option('--json', 'one JSON object per file instead of the table')
    .action(async (flags: SpoolFlags & { json?: boolean }) => {
      const delivery = new Delivery(deliverySetupFor(configOf(flags), spoolOf(flags)))
      const { entries, broken } = await delivery.spool.list()
      if (flags.json === true) {
        for (const entry of entries) console.log(JSON.stringify(entry))
      } else {
        console.log(describeSpool(delivery.spool.dir, entries))
      }
      for (const problem of broken) console.error(`flowlog: unreadable spool entry ${problem}`)
    })
  spool
    .command('deliver')
    .description('deliver every waiting file now; exit 2 if some still cannot go')
    .option('-s, --spool <dir>', 'spool directory')
    .option('-c, --config <file>', "take the spool directory from this config's spoolDir")
    .option('-t, --timeout <duration>', 'keep retrying failures with backoff this long (e.g. 60s, 5m)', '0')
    .action(async (flags: SpoolFlags & { timeout: string }) => {
      const timeout = parseDuration('--timeout', flags.timeout)
      const delivery = new Delivery(deliverySetupFor(configOf(flags), spoolOf(flags)))
      try {
        const entries = await delivery.resume()
        if (entries.length === 0) {
          console.log(`spool ${delivery.spool.dir}: nothing waits`)
          return
        }
        delivery.retryAllNow()
        const left = await delivery.settle(Date.now() + timeout * 1000)
        const sent = entries.length - left.length
        console.log(`spool ${delivery.spool.dir}: delivered ${n(sent)} of ${n(entries.length)} file(s)`)
        if (left.length > 0) throw stillWaiting(delivery.spool.dir, left, 'could not be delivered')
      } finally {
        delivery.close()
      }
    })
  return spool
}

/** The spool of the flags: --spool, else the config's spoolDir (the default when neither says). */
function spoolOf(flags: SpoolFlags): { spoolDir?: string } {
  return flags.spool === undefined ? {} : { spoolDir: resolve(flags.spool) }
}

/** Without a config only the spool directory matters: entries carry their own s3 settings. */
function configOf(flags: SpoolFlags): Pick<NetworkConfig, 'delivery'> {
  return flags.config === undefined ? {} : loadConfig(flags.config)
}

/** The spool as a short table: one line per file with why it waits. */
export function describeSpool(dir: string, entries: readonly SpoolEntry[]): string {
  if (entries.length === 0) return `spool ${dir}: nothing waits`
  const bytes = entries.reduce((sum, e) => sum + e.bytes, 0)
  const lines = [`spool ${dir}: ${n(entries.length)} file(s), ${n(bytes)} bytes waiting`]
  for (const e of entries) lines.push(`  ${describeEntry(e)}`)
  return lines.join('\n')
}

/** `s3://b/k  1,234 bytes  since ...  attempts 3  refused: no-such-bucket: ...` */
export function describeEntry(e: SpoolEntry): string {
  const where = e.destination.startsWith('s3://') ? locateS3(e) : `${e.destination}/${e.key}`
  const state =
    e.attempts === 0
      ? 'not tried yet'
      : `attempts ${e.attempts}, ${e.refused ? 'refused' : 'last error'}: ${e.lastError ?? 'none'}`
  return `${where}  ${n(e.bytes)} bytes, since ${e.createdAt}, ${state}`
}

function locateS3(e: SpoolEntry): string {
  const bucket = e.destination.slice('s3://'.length).split('/')[0] ?? ''
  return `s3://${bucket}/${e.key}`
}

/** The runtime failure (exit 2) of files left in the spool, saying where and how to send them. */
export function stillWaiting(dir: string, entries: readonly SpoolEntry[], what: string): FlowlogError {
  const shown = entries.slice(0, 20).map((e) => `  ${describeEntry(e)}`)
  if (entries.length > shown.length) shown.push(`  ... and ${n(entries.length - shown.length)} more`)
  const refused = entries.filter((e) => e.refused).length
  const why = refused > 0 ? ` (${n(refused)} refused by their destination: fix it first)` : ''
  return new FlowlogError(
    'ERR_UNDELIVERED',
    `${n(entries.length)} file(s) ${what} and wait in the spool ${dir}${why}:\n${shown.join('\n')}\n` +
      `Deliver them later with: flowlog spool deliver --spool ${dir}`,
  )
}
