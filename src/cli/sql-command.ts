import { Command } from 'commander'
import { InputError } from '../core/errors.js'
import { OUTPUT_FORMATS } from '../query/row-writer.js'
import { checkZone, parseTime } from '../query/time-value.js'
import { parseLogFormat } from '../read/file-schema.js'
import { runSql } from '../sql/run-sql.js'
import { formatOption, openOutput, outputOption } from './output-options.js'
import { readProgressBar } from './read-progress.js'
import { ReadReport } from './read-report.js'

interface SqlFlags {
  since?: string
  until?: string
  format?: string
  output?: string
  tz: string
  logFormat?: string
  progress: boolean
  summary: boolean
}

export function sqlCommand(): Command {
  return new Command('sql')
    .description(
      'SQL over flow-log records through embedded DuckDB: a table "flows" shaped like AWS\'s Athena table',
    )
    .argument(
      '<query>',
      'SQL, e.g. "SELECT srcaddr, sum(bytes) FROM flows GROUP BY 1 ORDER BY 2 DESC LIMIT 10"',
    )
    .argument('<source...>', 'flow-log files, directories (read recursively) or s3://bucket/prefix')
    .option(
      '--since <time>',
      'only records that end at or after: ISO 8601, unix seconds, or an age (15m, 2h, 7d)',
    )
    .option('--until <time>', 'only records that start before (same forms as --since)')
    .addOption(formatOption(OUTPUT_FORMATS, 'table'))
    .addOption(outputOption())
    .option('--tz <zone>', 'time zone for times without a zone in --since/--until', 'UTC')
    .option(
      '--log-format <format>',
      'fields of text files without a header line: v2, v3, v4, v5, v8, tgw, ecs (AWS orders) or a list',
    )
    .option('--no-progress', 'no progress bar (it shows only on a terminal, for reads over a second)')
    .option('--no-summary', 'no summary line on stderr')
    .addHelpText(
      'after',
      `
The table "flows" has AWS's Athena columns (version, account_id, interface_id, srcaddr, dstaddr,
srcport, dstport, protocol, packets, bytes, start, "end", action, log_status, vpc_id, subnet_id,
instance_id, tcp_flags, type, pkt_srcaddr, pkt_dstaddr, region, az_id, ..., flow_direction,
traffic_path), every later AWS field, flowlog's extras (rule_id, reject_reason_detail, ...),
community_id, community_id_elastic (docs/analysis.md#community-id) and "date" (the UTC day of start). NHN records use the same names (filter DROP is
action REJECT). Athena functions such as from_unixtime, to_iso8601 and day_of_week work as in Athena.

Examples:
  flowlog sql "SELECT srcaddr, dstaddr, sum(bytes) AS b FROM flows GROUP BY 1, 2 ORDER BY b DESC LIMIT 10" logs/
  flowlog sql "SELECT * FROM flows WHERE action = 'REJECT' AND protocol = 6 LIMIT 100" logs/
  flowlog sql -f csv "SELECT to_iso8601(from_unixtime(start)) AS t, community_id FROM flows" s3://bucket/AWSLogs/`,
    )
    .action(async (query: string, sources: string[], flags: SqlFlags) => {
      const zone = checkZone(flags.tz)
      const since = flags.since === undefined ? undefined : parseTime(flags.since, '--since', zone)
      const until = flags.until === undefined ? undefined : parseTime(flags.until, '--until', zone)
      if (since !== undefined && until !== undefined && since >= until) {
        throw new InputError(`--since ${flags.since} is not before --until ${flags.until}`)
      }
      if (flags.logFormat !== undefined) parseLogFormat(flags.logFormat)
      const target = openOutput(flags, OUTPUT_FORMATS, 'table')
      const report = new ReadReport('sql')
      const progress = flags.progress ? readProgressBar('sql') : null
      const result = await runSql(
        query,
        sources,
        {
          format: target.format,
          onBadLine: report.onBadLine,
          ...(since === undefined ? {} : { since }),
          ...(until === undefined ? {} : { until }),
          ...(flags.logFormat === undefined ? {} : { logFormat: flags.logFormat }),
          ...(progress === null ? {} : { onProgress: progress.update }),
        },
        target.stream,
      ).finally(() => progress?.stop())
      await target.close()
      if (result.stats.rows === 0)
        process.stderr.write(`flowlog sql: warning: no records read from ${sources.join(' ')}\n`)
      if (result.hidden.length > 0) {
        const list =
          result.hidden.length > 8
            ? `${result.hidden.slice(0, 8).join(', ')} (+${result.hidden.length - 8} more)`
            : result.hidden.join(', ')
        process.stderr.write(
          `flowlog sql: ${result.hidden.length} column(s) no record has a value in are not shown in the table: ${list} (-f csv or json shows every column)\n`,
        )
      }
      if (flags.summary) {
        process.stderr.write(
          `${report.summary(result.stats, `${result.rows.toLocaleString('en-US')} result row(s)`)}\n`,
        )
      }
    })
}
