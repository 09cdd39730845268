import { Command } from 'commander'
import { loadConfig } from '../config/load-config.js'
import { readDeviceLayouts } from '../enforce/device-layout.js'
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
    .option(
      '--detect-devices',
      'render for the devices as this host has them (ports of a Linux bridge found by MAC or address), as "flowlog run --enforce" does; without it every device is rendered as routed',
      false,
    )
    .addHelpText(
      'after',
      `
The output loads as is: nft -f <(flowlog sg render --config host.yaml). It is stateful (conntrack),
per device, inbound and outbound; each logged packet's NFLOG prefix names the interface, the
side and the rule id (or the reject reason). Interfaces without a "device" are left out.
A bridge port also needs br_netfilter's net.bridge.bridge-nf-call-iptables/-ip6tables=1, which
"flowlog run --enforce" sets (and restores) itself.`,
    )
    .action((flags: { config: string; nflogGroups: string; nftTable: string; detectDevices: boolean }) => {
      const network = loadConfig(flags.config)
      const [acceptGroup, dropGroup] = flags.nflogGroups.split(',').map(Number)
      const devices = network.interfaces.flatMap((nic) => (nic.device === null ? [] : [nic.device]))
      process.stdout.write(
        renderRuleset(
          network,
          compilePolicy(network),
          {
            table: flags.nftTable,
            acceptGroup: acceptGroup ?? DEFAULT_RULESET.acceptGroup,
            dropGroup: dropGroup ?? DEFAULT_RULESET.dropGroup,
          },
          flags.detectDevices ? readDeviceLayouts(devices) : new Map(),
        ),
      )
    })
  return sg
}
