import { writeFileSync } from 'node:fs'
import { Command } from 'commander'
import { audit } from '../analyze/audit.js'
import { auditJson, renderAudit } from '../analyze/audit-text.js'
import { leastPrivilegeYaml } from '../analyze/groups-yaml.js'
import { jsonChunks } from '../analyze/output.js'
import { loadConfig } from '../config/load-config.js'
import { addSourceOptions, readFlows, type SourceFlags, startRead } from './analysis-sources.js'
import { formatOption, openOutput, outputOption, writePieces } from './output-options.js'
import { phaseProgressBar } from './phase-progress.js'

interface AuditFlags extends SourceFlags {
  config: string
  format?: string
  output?: string
  writeGroups?: string
  narrowPublic: boolean
}

export function auditCommand(): Command {
  return addSourceOptions(
    new Command('audit')
      .description(
        'check security groups against recorded flows: unused rules, rules too wide, least-privilege rules',
      )
      .argument('<source...>', 'flow-log files, directories (read recursively) or s3://bucket/prefix')
      .requiredOption('-c, --config <file>', 'config whose security groups to audit')
      .addOption(formatOption(['table', 'json'] as const, 'table'))
      .addOption(outputOption())
      .option(
        '--write-groups <file>',
        'write the least-privilege groups as YAML (input for what-if --groups)',
      )
      .option(
        '--narrow-public',
        'narrow public rules too (0.0.0.0/0 or ::/0 on tcp 80/443, or described as public): kept by default',
        false,
      )
      .addHelpText(
        'after',
        `
Records that carry rule-id (a flowlog extra field) say which rule accepted them; without it, the
records are re-judged with the config's groups. See docs/analysis-reports.md.

Examples:
  flowlog audit --config net.yaml logs/
  flowlog audit --config net.yaml --write-groups least.yaml logs/
  flowlog what-if --config net.yaml --groups least.yaml logs/`,
      ),
  ).action(async (sources: string[], flags: AuditFlags) => {
    const target = openOutput(flags, ['table', 'json'] as const, 'table')
    const network = loadConfig(flags.config)
    const read = startRead('audit', flags)
    const reader = readFlows(sources, read.options)
    // DuckDB places, judges (records alone in their connection) and sorts the records (a while on
    // millions), then the replay goes through the rest.
    const sorting = await phaseProgressBar('audit: placing and sorting', flags.progress, read.stopProgress)
    const judging = await phaseProgressBar('audit: re-judging', flags.progress, () => {
      read.stopProgress()
      sorting?.stop()
    })
    const result = await audit(reader, network, {
      narrowPublic: flags.narrowPublic,
      ...(judging === null ? {} : { onProgress: judging.update }),
      ...(sorting === null ? {} : { onSorting: sorting.update }),
    }).finally(() => {
      sorting?.stop()
      judging?.stop()
    })
    read.finish(reader.stats, `${result.rules.length} rule(s) audited`)
    if (result.placed === 0)
      read.nothing(
        result.records === 0
          ? `no traffic records in ${sources.join(' ')} (${reader.stats.rows} record(s) read)`
          : `none of the ${result.records} record(s) is on an interface of ${flags.config} (${result.skipped.unknownInterface} of unknown interfaces): every rule is "not judged"`,
        null,
      )
    if (target.format === 'json') {
      await writePieces(target, jsonChunks(auditJson(result)))
      target.write('\n')
    } else target.write(renderAudit(result))
    if (flags.writeGroups !== undefined) {
      writeFileSync(flags.writeGroups, leastPrivilegeYaml(network, result.rules, sources.join(' ')))
      if (target.format !== 'json') target.write(`\nleast-privilege groups written to ${flags.writeGroups}\n`)
    }
    await target.close()
  })
}
