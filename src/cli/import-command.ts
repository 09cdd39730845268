import { readFileSync, writeFileSync } from 'node:fs'
import { Command } from 'commander'
import { Document, isMap, isSeq, visit } from 'yaml'
import { parseConfig } from '../config/load-config.js'
import { InputError } from '../core/errors.js'
import { type ImportResult, importAwsDescribe, type Named } from '../import/aws-describe.js'

interface ImportAwsFlags {
  securityGroups: string
  networkInterfaces: string
  vpcs?: string
  subnets?: string
  account?: string
  region?: string
  output?: string
}

export function importCommand(): Command {
  const command = new Command('import').description(
    "turn a cloud's own descriptions of its network into a flowlog config (for audit, what-if, detect)",
  )
  command.addCommand(
    new Command('aws')
      .description(
        'a config from the JSON of aws ec2 describe-security-groups, describe-network-interfaces, ...',
      )
      .requiredOption('--security-groups <file>', 'output of aws ec2 describe-security-groups (JSON)')
      .requiredOption('--network-interfaces <file>', 'output of aws ec2 describe-network-interfaces (JSON)')
      .option('--vpcs <file>', "output of aws ec2 describe-vpcs (JSON): the VPCs' CIDRs")
      .option('--subnets <file>', "output of aws ec2 describe-subnets (JSON): the subnets' CIDRs and zones")
      .option('--account <id>', 'account id (default: the OwnerId in the outputs)')
      .option('--region <name>', 'region (default: from the Availability Zones in the outputs)')
      .option('-o, --output <file>', 'write the config here (default: standard output)')
      .addHelpText(
        'after',
        `
The config is checked as \`flowlog validate\` would before it is written. What a config cannot hold
(prefix-list rules, interfaces without security groups) is left out and said on stderr.
Real flow logs name interfaces by id, so audit, what-if and detect judge them by these groups.

Examples:
  aws ec2 describe-security-groups > sg.json
  aws ec2 describe-network-interfaces > eni.json
  aws ec2 describe-vpcs > vpcs.json; aws ec2 describe-subnets > subnets.json
  flowlog import aws --security-groups sg.json --network-interfaces eni.json \\
      --vpcs vpcs.json --subnets subnets.json -o net.yaml
  flowlog audit --config net.yaml s3://bucket/AWSLogs/`,
      )
      .action((flags: ImportAwsFlags) => {
        const result = importAwsDescribe(
          {
            securityGroups: readJson(flags.securityGroups, '--security-groups'),
            networkInterfaces: readJson(flags.networkInterfaces, '--network-interfaces'),
            ...(flags.vpcs === undefined ? {} : { vpcs: readJson(flags.vpcs, '--vpcs') }),
            ...(flags.subnets === undefined ? {} : { subnets: readJson(flags.subnets, '--subnets') }),
          },
          {
            ...(flags.account === undefined ? {} : { account: flags.account }),
            ...(flags.region === undefined ? {} : { region: flags.region }),
          },
        )
        const text = configYaml(result, flags)
        // Checked as a config before anything is written: a file that does not load is never left.
        parseConfig(text, flags.output ?? 'imported config')
        for (const note of result.notes) process.stderr.write(`flowlog import: ${note}\n`)
        if (flags.output === undefined) process.stdout.write(text)
        else {
          writeFileSync(flags.output, text)
          const c = result.config
          process.stderr.write(
            `flowlog import: ${flags.output}: ${c.vpcs.length} VPC(s), ${c.interfaces.length} interface(s), ${c.securityGroups.length} security group(s)\n`,
          )
        }
      }),
  )
  return command
}

function readJson(path: string, option: string): Named<unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new InputError(`${option} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code})`)
  }
  try {
    return { name: path, json: JSON.parse(text) }
  } catch (error) {
    throw new InputError(`${option} ${path}: not JSON (${(error as Error).message}); use aws --output json`)
  }
}

/** The config as YAML, one rule per line (as the quick start writes them). */
function configYaml(result: ImportResult, flags: ImportAwsFlags): string {
  const inputs = [flags.securityGroups, flags.networkInterfaces, flags.vpcs, flags.subnets].filter(
    (f) => f !== undefined,
  )
  const doc = new Document(result.config)
  visit(doc, {
    Pair: (_key, pair) => {
      const k = String((pair.key as { value?: unknown } | null)?.value ?? '')
      if ((k === 'inbound' || k === 'outbound') && isSeq(pair.value))
        for (const rule of pair.value.items) if (isMap(rule)) rule.flow = true
      if ((k === 'cidrs' || k === 'addresses' || k === 'securityGroups') && isSeq(pair.value)) {
        if (pair.value.items.every((i) => !isMap(i))) pair.value.flow = true
      }
    },
  })
  doc.commentBefore = ` flowlog config imported from ${inputs.join(', ')} by flowlog import aws.\n Rule ids are {group}-in-N / {group}-out-N, in the order AWS lists them.`
  return doc.toString({ lineWidth: 0 })
}
