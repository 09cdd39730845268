import { Command } from 'commander'
import { loadConfig } from '../config/load-config.js'
import { DEFAULT_RULESET, renderRuleset } from '../enforce/render-ruleset.js'
import { compilePolicy } from '../policy/compile-policy.js'

export function sgCommand(): Command {
  const sg = new Command('sg').description('security groups')
  sg.command('render')
    .description('print the nftables ruleset that "flowlog run --enforce" loads')
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option(
      '--nflog-groups <accept,drop>',
      'NFLOG groups of accepted and dropped packets',
      `${DEFAULT_RULESET.acceptGroup},${DEFAULT_RULESET.dropGroup}`,
    )
    .option('--nft-table <name>', 'nftables table (family inet)', DEFAULT_RULESET.table)
    .addHelpText(
      'after',
      `
The output loads as is: nft -f <(flowlog sg render --config host.yaml). It is stateful (conntrack),
per device, inbound and outbound; each logged packet's NFLOG prefix names the interface, the
side and the rule id (or the reject reason). Interfaces without a "device" are left out.`,
    )
    .action((flags: { config: string; nflogGroups: string; nftTable: string }) => {
      const network = loadConfig(flags.config)
      const [acceptGroup, dropGroup] = flags.nflogGroups.split(',').map(Number)
      process.stdout.write(
        renderRuleset(network, compilePolicy(network), {
          table: flags.nftTable,
          acceptGroup: acceptGroup ?? DEFAULT_RULESET.acceptGroup,
          dropGroup: dropGroup ?? DEFAULT_RULESET.dropGroup,
        }),
      )
    })
  return sg
}
