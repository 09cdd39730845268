import { Command } from 'commander'
import { loadConfig } from '../config/load-config.js'
import { coveredInterfaces } from '../pipeline/flow-log-coverage.js'

export function validateCommand(): Command {
  return new Command('validate')
    .description('check a config file; exit 1 with every problem listed')
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .addHelpText('after', '\nExample:\n  flowlog validate --config examples/quickstart/network.yaml')
    .action((options: { config: string }) => {
      const network = loadConfig(options.config)
      const groups = network.securityGroups
      const rules = groups.reduce((n, g) => n + g.inbound.length + g.outbound.length, 0)
      console.log(`${options.config}: valid`)
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
