import { Command } from 'commander'
import { jsonChunksStreamed } from '../analyze/output.js'
import { loadProposedGroups } from '../analyze/proposed-groups.js'
import { whatIfRun } from '../analyze/what-if.js'
import { whatIfCsvPieces, whatIfTextPieces } from '../analyze/what-if-text.js'
import { loadConfig } from '../config/load-config.js'
import { addSourceOptions, readFlows, type SourceFlags, startRead } from './analysis-sources.js'
import { formatOption, openOutput, outputOption, writePieces } from './output-options.js'
import { phaseProgressBar } from './phase-progress.js'

const FORMATS = ['table', 'csv', 'json'] as const

interface WhatIfFlags extends SourceFlags {
  config: string
  groups: string
  format?: string
  output?: string
  failOnChange: boolean
  ruleChanges: boolean
}

export function whatIfCommand(): Command {
  return addSourceOptions(
    new Command('what-if')
      .description(
        'replay recorded flows against proposed security groups: every flow whose verdict would change',
      )
      .argument('<source...>', 'flow-log files, directories (read recursively) or s3://bucket/prefix')
      .requiredOption('-c, --config <file>', 'config with the current groups, interfaces and addresses')
      .requiredOption(
        '-g, --groups <file>',
        "proposed security groups (YAML/JSON, the config's securityGroups schema)",
      )
      .addOption(formatOption(FORMATS, 'table'))
      .addOption(outputOption())
      .option('--rule-changes', 'also list flows that keep their verdict but by another rule', false)
      .option('--fail-on-change', 'exit 3 when any verdict would change (for CI)', false)
      .addHelpText(
        'after',
        `
A proposed group replaces the config's group of the same id; the others stay. Records are replayed
in time order through the connection tracker, once with the current groups and once with the
proposed ones. See docs/analysis-reports.md.

Examples:
  flowlog what-if --config net.yaml --groups proposed.yaml logs/
  flowlog what-if --config net.yaml --groups least.yaml --fail-on-change logs/`,
      ),
  ).action(async (sources: string[], flags: WhatIfFlags) => {
    const target = openOutput(flags, FORMATS, 'table')
    const network = loadConfig(flags.config)
    const proposal = loadProposedGroups(flags.groups, network)
    const read = startRead('what-if', flags)
    const reader = readFlows(sources, read.options)
    // DuckDB places, judges (records alone in their connection) and sorts the records (a while on
    // millions), then the replay goes through the rest.
    const sorting = await phaseProgressBar('what-if: placing and sorting', flags.progress, read.stopProgress)
    const judging = await phaseProgressBar('what-if: replaying', flags.progress, () => {
      read.stopProgress()
      sorting?.stop()
    })
    const result = await whatIfRun(reader, network, proposal.network, {
      ruleChanges: flags.ruleChanges,
      ...(judging === null ? {} : { onProgress: judging.update }),
      ...(sorting === null ? {} : { onSorting: sorting.update }),
    }).finally(() => {
      sorting?.stop()
      judging?.stop()
    })
    const notes = proposal.unattached.map(
      (id) => `${id} is on no interface: its rules judge only what refers to it`,
    )
    read.finish(reader.stats, `${result.changedRecords} changed record(s)`)
    if (result.replayed === 0)
      read.nothing(
        result.records === 0
          ? `no traffic records in ${sources.join(' ')} (${reader.stats.rows} record(s) read)`
          : `none of the ${result.records} record(s) is on an interface of ${flags.config} (${result.skipped.unknownInterface} of unknown interfaces)`,
        flags.failOnChange ? '--fail-on-change' : null,
      )
    // The changed flows come from DuckDB a chunk at a time (there may be millions): written so.
    try {
      if (target.format === 'json') {
        await writePieces(target, jsonChunksStreamed({ ...result, changes: result.changes.batches(), notes }))
        target.write('\n')
      } else if (target.format === 'csv') {
        await writePieces(target, whatIfCsvPieces(result))
      } else {
        await writePieces(target, whatIfTextPieces(result, notes))
      }
    } finally {
      result.changes.close()
    }
    await target.close()
    if (flags.failOnChange && result.changedRecords > 0) process.exitCode = 3
  })
}
