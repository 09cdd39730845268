import { Command } from 'commander'
import { jsonRows, OUTPUT_FORMATS, render } from '../analyze/output.js'
import { parsePortList, parseWhole } from '../analyze/parse-flags.js'
import {
  checkReportOptions,
  DEFAULT_ADMIN_PORTS,
  DEFAULT_REPORT_KINDS,
  DEFAULT_REPORT_OPTIONS,
  loadInterfaceMap,
  REPORTS,
  type ReportOptions,
  reportColumns,
  reportDefinition,
  runReport,
} from '../analyze/report.js'
import { loadConfig } from '../config/load-config.js'
import { InputError } from '../core/errors.js'
import { openFlowsDatabase } from '../sql/flows-database.js'
import { addSourceOptions, type SourceFlags, startRead } from './analysis-sources.js'
import { formatOption, openOutput, outputOption } from './output-options.js'
import { repeatableOption } from './repeatable-option.js'

interface ReportFlags extends SourceFlags {
  kind: string[]
  format?: string
  output?: string
  limit: string
  interval: string
  address?: string
  adminPorts?: string
  config?: string
}

export function reportCommand(): Command {
  return addSourceOptions(
    new Command('report')
      .description("the analyses of AWS's predefined Athena queries, plus traffic over time")
      .argument('<source...>', 'flow-log files, directories (read recursively) or s3://bucket/prefix')
      .addOption(
        repeatableOption(
          '-k, --kind <kinds>',
          'reports to run, comma-separated or repeated',
          'an overview',
          commaList,
        ),
      )
      .addOption(formatOption(OUTPUT_FORMATS, 'table'))
      .addOption(outputOption())
      .option('-n, --limit <n>', 'rows of ranked reports', String(DEFAULT_REPORT_OPTIONS.limit))
      .option('--interval <seconds>', 'bucket width of over-time', String(DEFAULT_REPORT_OPTIONS.interval))
      .option('--address <ip>', 'the address of the address report')
      .option('--admin-ports <list>', `ports of admin-ports (default ${DEFAULT_ADMIN_PORTS.join(',')})`)
      .option('-c, --config <file>', 'config: maps interfaces to instances and subnets')
      .addHelpText(
        'after',
        `
Reports: ${REPORTS.map((r) => r.kind).join(', ')}.
Default (no --kind): ${DEFAULT_REPORT_KINDS.join(', ')}. See docs/analysis-reports.md.

Examples:
  flowlog report logs/
  flowlog report --kind rejected-tcp --format csv logs/
  flowlog report --kind address --address 198.51.100.7 logs/
  flowlog report --kind over-time --interval 300 logs/
  flowlog report --kind top-instances --config net.yaml logs/`,
      ),
  ).action(async (sources: string[], flags: ReportFlags) => {
    const target = openOutput(flags, OUTPUT_FORMATS, 'table')
    const format = target.format
    const kinds = flags.kind.length > 0 ? flags.kind : [...DEFAULT_REPORT_KINDS]
    const options: ReportOptions = {
      limit: parseWhole('--limit', flags.limit, 1, 1_000_000),
      interval: parseWhole('--interval', flags.interval, 1, 31_536_000),
      address: flags.address ?? null,
      adminPorts:
        flags.adminPorts === undefined
          ? DEFAULT_ADMIN_PORTS
          : parsePortList('--admin-ports', flags.adminPorts),
    }
    checkReportOptions(kinds, options)
    if (format === 'csv' && kinds.length !== 1) {
      throw new InputError(`--format csv: choose one --kind (got ${kinds.length}: ${kinds.join(', ')})`)
    }
    const network = flags.config === undefined ? null : loadConfig(flags.config)
    const read = startRead('report', flags)
    const columns = reportColumns(kinds, options)
    const table = await openFlowsDatabase(sources, read.options, columns === null ? {} : { columns })
    read.finish(table.stats, `${kinds.length} report(s)`)
    if (table.stats.rows === 0) read.nothing(`no records read from ${sources.join(' ')}`, null)
    try {
      await loadInterfaceMap(table.connection, network)
      const results = []
      for (const kind of kinds) {
        const definition = reportDefinition(kind)
        results.push({ definition, table: await runReport(table.connection, definition, options) })
      }
      if (format === 'json') {
        const out = Object.fromEntries(results.map((r) => [r.definition.kind, jsonRows(r.table)]))
        target.write(`${JSON.stringify(kinds.length === 1 ? out[kinds[0] ?? ''] : out, null, 2)}\n`)
        return
      }
      const parts = results.map((r) =>
        format === 'csv'
          ? render(r.table, 'csv')
          : `${r.definition.title} (${r.definition.kind})\n${render(r.table, 'table')}`,
      )
      target.write(parts.join('\n'))
    } finally {
      table.close()
      await target.close()
    }
  })
}

/** `a,b` and `a` `b` alike; report names in any case. */
function commaList(value: string): string[] {
  return value
    .split(',')
    .map((k) => k.trim().toLowerCase())
    .filter((k) => k !== '')
}
