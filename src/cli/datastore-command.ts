import { Command } from 'commander'
import { ControlError } from '../control/control-error.js'
import { InputError } from '../core/errors.js'
import { COPIED_KINDS, copyState } from '../store/copy-state.js'
import { parseDatastore } from '../store/datastore-url.js'
import { openStore } from '../store/open-store.js'
import type { Store } from '../store/store.js'

interface CopyFlags {
  from: string
  to: string
  force?: boolean
  dryRun?: boolean
}

export function datastoreCommand(): Command {
  const datastore = new Command('datastore').description(
    'work on the control-plane state as a whole: move a host’s state into a fleet’s etcd',
  )
  datastore.addCommand(
    new Command('copy')
      .description(
        'copy the control state (security groups, rules, flow logs, tags, interface groups, client tokens) from one datastore to another',
      )
      .requiredOption(
        '--from <datastore>',
        'where to read: sqlite:DIR (a --state directory) or etcd://HOST:PORT[,…][/PREFIX/]',
      )
      .requiredOption('--to <datastore>', 'where to write, in the same forms')
      .option(
        '--force',
        'write into a datastore that already holds state: items of the same id are replaced, the others kept',
      )
      .option('--dry-run', 'say what would be copied, write nothing')
      .addHelpText(
        'after',
        `
The destination must hold no control state yet (else --force). The topology is not copied: in a
fleet every agent publishes its own interfaces from its config when it starts. Stop the daemon of
the source first, so nothing changes while it is read; see docs/fleet.md.

Example (one host's state into the fleet, then the agents):
  flowlog datastore copy --from sqlite:/var/lib/flowlog --to etcd://10.0.0.5:2379,10.0.0.6:2379`,
      )
      .action(async (flags: CopyFlags) => {
        const from = parseDatastore(flags.from, '--from')
        const to = parseDatastore(flags.to, '--to')
        const source = await open(() => openStore(from, { create: false }), '--from', flags.from)
        try {
          const destination = await open(() => openStore(to), '--to', flags.to)
          try {
            const result = await copyState(source, destination, {
              force: flags.force === true,
              dryRun: flags.dryRun === true,
            })
            const counts = COPIED_KINDS.map((k) => `${result.copied[k] ?? 0} ${k}`).join(', ')
            const verb = flags.dryRun === true ? 'would copy' : 'copied'
            const replaced = result.replaced > 0 ? `, replacing ${result.replaced}` : ''
            process.stdout.write(
              `${verb} ${counts}${replaced}: ${source.description} → ${destination.description}\n`,
            )
          } catch (error) {
            if (error instanceof ControlError && error.code === 'Conflict')
              throw new InputError(`--to ${flags.to}: ${error.message}`)
            throw error
          } finally {
            await destination.close()
          }
        } finally {
          await source.close()
        }
      }),
  )
  return datastore
}

/**
 * A source that is not there is the user's to fix (exit 1); an etcd that does not answer is a
 * failure (exit 2). Both name the option.
 */
async function open(opening: () => Promise<Store>, option: string, text: string): Promise<Store> {
  try {
    return await opening()
  } catch (error) {
    if (!(error instanceof ControlError)) throw error
    const message = `${option} ${text}: ${error.message}`
    if (error.code === 'NotFound') throw new InputError(message, [message], { cause: error })
    throw new ControlError(error.code, message, { cause: error })
  }
}
