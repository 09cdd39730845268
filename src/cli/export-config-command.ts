import { writeFileSync } from 'node:fs'
import { Command } from 'commander'
import { loadConfig } from '../config/load-config.js'
import { ControlError } from '../control/control-error.js'
import { readControlState } from '../control/control-service.js'
import { settingsOfConfig, topologyOfConfig } from '../control/effective-network.js'
import { exportConfigYaml } from '../control/export-config.js'
import { CONFIG_RECORD_ID, type ConfigRecord } from '../control/seed-state.js'
import { InputError } from '../core/errors.js'
import { defaultStateDir } from '../store/default-state-dir.js'
import { SqliteStore } from '../store/sqlite-store.js'

interface ExportFlags {
  state: string
  config?: string
  out?: string
}

export function exportConfigCommand(): Command {
  return new Command('export-config')
    .description(
      'write the control state (security groups, rules, flow logs, interface groups) as a config file that validate accepts and replay runs',
    )
    .option('--state <dir>', 'state directory of `flowlog run`', defaultStateDir())
    .option(
      '-c, --config <file>',
      'take the topology (VPCs, subnets, interfaces) and settings from this config (default: the ones the daemon last started with)',
    )
    .option('-o, --out <file>', 'write to this file instead of stdout')
    .addHelpText(
      'after',
      `
The state is the truth for groups, rules, flow logs, tags and interface groups once the daemon has
started; the config file gives the topology. See docs/api.md ("Config and state").

Example:
  flowlog export-config --state /var/lib/flowlog > now.yaml && flowlog validate --config now.yaml`,
    )
    .action(async (flags: ExportFlags) => {
      let store: SqliteStore
      try {
        store = SqliteStore.open(flags.state, { create: false })
      } catch (error) {
        if (error instanceof ControlError) throw new InputError(`--state ${flags.state}: ${error.message}`)
        throw error
      }
      try {
        const { state, record } = await store.read(async (r) => ({
          state: await readControlState(r),
          record: await r.get<ConfigRecord>('topology', CONFIG_RECORD_ID),
        }))
        let source: ConfigRecord
        if (flags.config !== undefined) {
          const config = loadConfig(flags.config)
          source = {
            topology: topologyOfConfig(config),
            settings: settingsOfConfig(config),
            source: flags.config,
          }
        } else if (record !== undefined) {
          source = record
        } else {
          throw new InputError(
            `--state ${flags.state}: holds no topology yet (the daemon records it when it starts); give --config`,
          )
        }
        const header = [
          `flowlog export-config: the state of ${store.description}`,
          `with the topology and settings of ${source.source}, at ${new Date().toISOString()}`,
        ].join('\n')
        const { yaml, problems } = exportConfigYaml(source.topology, state, source.settings, header)
        if (problems.length > 0) {
          throw new InputError(
            `the state and the topology of ${source.source} do not make a valid config (${problems.length} problem(s)):\n  ${problems.join('\n  ')}`,
            problems,
          )
        }
        if (flags.out !== undefined) writeFileSync(flags.out, yaml)
        else process.stdout.write(yaml)
      } finally {
        await store.close()
      }
    })
}
