import { Command } from 'commander'
import { loadConfig } from '../config/load-config.js'
import { InputError } from '../core/errors.js'
import { coveredInterfaces } from '../pipeline/flow-log-coverage.js'

export function validateCommand(): Command {
  return new Command('validate')
    .description('check a config file; exit 1 with every problem listed')
    .argument('[file]', 'config file (YAML or JSON), the same as --config')
    .option('-c, --config <file>', 'config file (YAML or JSON)')
    .addHelpText(
      'after',
      '\nExamples:\n  flowlog validate examples/quickstart/network.yaml\n  flowlog validate --config examples/quickstart/network.yaml',
    )
    .action((file: string | undefined, options: { config?: string }) => {
      if (file !== undefined && options.config !== undefined && file !== options.config)
        throw new InputError(`validate: two configs given (${file} and --config ${options.config}): give one`)
      const path = file ?? options.config
      if (path === undefined)
        throw new InputError('validate: give the config file (flowlog validate net.yaml)')
      const network = loadConfig(path)
      const groups = network.securityGroups
      const rules = groups.reduce((n, g) => n + g.inbound.length + g.outbound.length, 0)
      console.log(`${path}: valid`)
      console.log(
        `  ${network.vpcs.length} VPC(s), ${network.interfaces.length} interface(s), ${groups.length} security group(s) with ${rules} rule(s)`,
      )
      for (const f of network.flowLogs) {
        const covered = coveredInterfaces(network, f).length
        console.log(
          `  flow log ${f.id}: ${f.resource} (${covered} interface(s)), ${f.trafficType}, every ${f.aggregationInterval} s, ${f.fileFormat}${f.compression === 'gzip' ? '+gzip' : ''} -> ${f.destination}`,
        )
      }
    })
}
