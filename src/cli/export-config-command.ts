import { writeFileSync } from 'node:fs'
import { Command } from 'commander'
import { loadConfig } from '../config/load-config.js'
import { ControlError } from '../control/control-error.js'
import { readControlState } from '../control/control-service.js'
import { settingsOfConfig, topologyOfConfig } from '../control/effective-network.js'
import { exportConfigYaml } from '../control/export-config.js'
import { HOST_RECORD_PREFIX, joinTopologies } from '../control/fleet-topology.js'
import { CONFIG_RECORD_ID, type ConfigRecord } from '../control/seed-state.js'
import { InputError } from '../core/errors.js'
import { parseDatastore } from '../store/datastore-url.js'
import { defaultStateDir } from '../store/default-state-dir.js'
import { openStore } from '../store/open-store.js'
import type { Store } from '../store/store.js'

interface ExportFlags {
  state: string
  datastore?: string
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
      '--datastore <url>',
      "read this datastore instead of --state: sqlite:DIR, or a fleet's etcd://HOST:PORT[,…][/PREFIX/] (the topology is then every host's)",
    )
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
      const [option, text] =
        flags.datastore === undefined ? ['--state', flags.state] : ['--datastore', flags.datastore]
      const datastore =
        flags.datastore === undefined
          ? { type: 'sqlite' as const, dir: flags.state }
          : parseDatastore(flags.datastore)
      let store: Store
      try {
        store = await openStore(datastore, { create: false })
      } catch (error) {
        if (error instanceof ControlError && error.code === 'NotFound')
          throw new InputError(`${option} ${text}: ${error.message}`)
        throw error
      }
      try {
        const { state, record } = await store.read(async (r) => ({
          state: await readControlState(r),
          record:
            (await r.get<ConfigRecord>('topology', CONFIG_RECORD_ID)) ??
            fleetRecord(await r.list<ConfigRecord>('topology')),
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
            `${option} ${text}: holds no topology yet (the daemon records it when it starts); give --config`,
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

/**
 * A fleet's topology as one record: every host's (docs/fleet.md), joined as the agents join them
 * (the first host by name winning clashes), with that host's settings. Undefined without hosts.
 */
function fleetRecord(records: ReadonlyArray<{ id: string; value: ConfigRecord }>): ConfigRecord | undefined {
  const hosts = records
    .filter((r) => r.id.startsWith(HOST_RECORD_PREFIX))
    .map((r) => ({ host: r.id.slice(HOST_RECORD_PREFIX.length), record: r.value }))
  const first = hosts[0]
  if (first === undefined) return undefined
  const { topology } = joinTopologies(hosts, first.host)
  return {
    topology,
    settings: first.record.settings,
    source: `the fleet's hosts (${hosts.map((h) => h.host).join(', ')})`,
  }
}
