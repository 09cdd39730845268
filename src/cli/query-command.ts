import { Command } from 'commander'
import { InputError } from '../core/errors.js'
import type { FilterNode } from '../query/filter.js'
import { andAll, parseFilter } from '../query/parse-filter.js'
import { parseCloudWatchPattern } from '../query/parse-pattern.js'
import { parseSort } from '../query/row-sorter.js'
import { OUTPUT_FORMATS } from '../query/row-writer.js'
import { runQuery } from '../query/run-query.js'
import { checkZone, parseTime } from '../query/time-value.js'
import { parseLogFormat } from '../read/file-schema.js'
import { formatOption, openOutput, outputOption } from './output-options.js'
import { readProgressBar } from './read-progress.js'
import { ReadReport } from './read-report.js'
import { repeatableOption } from './repeatable-option.js'

interface QueryFlags {
  where: string[]
  pattern: string[]
  since?: string
  until?: string
  fields?: string
  format?: string
  output?: string
  tz: string
  unixTimes: boolean
  limit?: string
  sort?: string
  count: boolean
  communityId: boolean
  logFormat?: string
  progress: boolean
  summary: boolean
}

export function queryCommand(): Command {
  return new Command('query')
    .description('records from flow-log files, directories or s3:// prefixes that match a filter')
    .argument('<source...>', 'flow-log files, directories (read recursively) or s3://bucket/prefix')
    .addOption(
      repeatableOption(
        '-w, --where <filter>',
        'filter expression (repeat to and them); one in [ ] is a CloudWatch pattern',
        'every record',
      ),
    )
    .addOption(
      repeatableOption(
        '-p, --pattern <pattern>',
        'CloudWatch filter pattern: [a, b, dstport="22", ...] by position, or terms: REJECT, ?NODATA ?SKIPDATA',
        'none',
      ),
    )
    .option('--since <time>', 'records that end at or after: ISO 8601, unix seconds, or an age (15m, 2h, 7d)')
    .option('--until <time>', 'records that start before (same forms as --since)')
    .option(
      '--fields <list>',
      'fields to show, comma-separated (default: start,end,interface-id,srcaddr,...)',
    )
    .addOption(formatOption(OUTPUT_FORMATS, 'table'))
    .addOption(outputOption())
    .option('--tz <zone>', 'time zone for times shown and times without a zone (IANA name)', 'UTC')
    .option('--unix-times', 'show start/end as unix numbers, not readable times', false)
    .option('-n, --limit <n>', 'stop after n matching records (with --sort: the first n in that order)')
    .option(
      '--sort <fields>',
      'write records in this order: FIELD[,-FIELD] (- for descending), e.g. -bytes,start',
    )
    .option('--count', 'print only the number of matching records', false)
    .option(
      '--community-id',
      "add community-id (Community ID v1 of the packet addresses, as Zeek/Suricata; community-id-elastic in --fields for Elastic's)",
      false,
    )
    .option(
      '--log-format <format>',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: AWS's own ${field} syntax, not a template
      'fields of text files without a header line: v2, v3, v4, v5, v8, tgw, ecs (AWS orders) or "${version} ${srcaddr} ..."',
    )
    .option('--no-progress', 'no progress bar (it shows only on a terminal, for reads over a second)')
    .option('--no-summary', 'no summary line on stderr')
    .addHelpText(
      'after',
      `
Filters (--where): field comparisons joined by and/or/not (&& || !) and parentheses.
  dstport=22                      srcaddr in 10.0.0.0/8          port=1024-65535
  action=REJECT                   dstport in 22,3389             addr=203.0.113.5
  packets>100 and bytes>=1e6      flow-direction=ingress         protocol=udp
  start>=2024-06-01T12:00Z        time=2024-06-01T12:00..12:30Z  interface-id=eni-0a*
  not (srcaddr in 10.0.0.0/8 or srcaddr in 192.168.0.0/16)      instance-id ~ '^i-0(1|2)'
Field names: AWS (srcaddr, dstport, log-status), Athena (log_status), CloudWatch Insights (logStatus)
or NHN (src_addr, filter); addr/port mean either side; time means the record's start..end.
A value "-" means not applicable. Lists, ranges and CIDRs work with = and in; != and "not in" negate.

CloudWatch patterns (--pattern or a --where in brackets) match fields by position:
  [version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes,
   start, end, action="REJECT", status]
  [..., action=REJECT, status]   [v, a, e, src=10.0.2.*, ...]
  [v, a, e, src, dst, sp, dp, proto, packets, bytes >= 400, ...]   (one "..." per pattern)
--pattern without brackets: a list (..., action=REJECT, status) is bracketed for you; anything else
is CloudWatch terms, found as text in the record as written (case-sensitive):
  REJECT   "REJECT OK"   ?NODATA ?SKIPDATA (either)   REJECT -eni-0a1 (REJECT, not eni-0a1)

Examples:
  flowlog query --where 'dstport=22 and action=REJECT' logs/
  flowlog query --pattern '[..., destport="22", protocol="6", packets, bytes, ws, we, action="REJECT", st]' logs/
  flowlog query --since 2h -f csv --fields start,srcaddr,dstaddr,dstport,bytes s3://bucket/AWSLogs/
  flowlog query --where 'addr=203.0.113.5' --tz Asia/Seoul --community-id logs/
  flowlog query --where 'action=ACCEPT' --sort -bytes --limit 10 logs/`,
    )
    .action(async (sources: string[], flags: QueryFlags) => {
      const warn = (message: string) => process.stderr.write(`flowlog query: warning: ${message}\n`)
      const zone = checkZone(flags.tz)
      const filters: FilterNode[] = [
        ...flags.where.map((w) => parseFilter(w, { zone, what: '--where', onWarning: warn })),
        ...flags.pattern.map((p) => parseCloudWatchPattern(p, '--pattern')),
      ]
      const since = flags.since === undefined ? undefined : parseTime(flags.since, '--since', zone)
      const until = flags.until === undefined ? undefined : parseTime(flags.until, '--until', zone)
      if (since !== undefined && until !== undefined && since >= until) {
        throw new InputError(`--since ${flags.since} is not before --until ${flags.until}`)
      }
      let limit: number | undefined
      if (flags.limit !== undefined) {
        limit = Number(flags.limit)
        if (!Number.isInteger(limit) || limit < 1)
          throw new InputError(`--limit: "${flags.limit}" is not a whole number of 1 or more`)
      }
      if (flags.logFormat !== undefined) parseLogFormat(flags.logFormat)
      const fields =
        flags.fields === undefined
          ? null
          : flags.fields
              .split(',')
              .map((f) => f.trim())
              .filter((f) => f !== '')
      const target = openOutput(flags, OUTPUT_FORMATS, 'table')
      const report = new ReadReport('query')
      const progress = flags.progress ? readProgressBar('query') : null
      const result = await runQuery(
        sources,
        {
          filter: andAll(filters),
          format: target.format,
          fields,
          zone,
          unixTimes: flags.unixTimes,
          countOnly: flags.count,
          ...(flags.sort === undefined ? {} : { sort: parseSort(flags.sort) }),
          communityId: flags.communityId,
          onBadLine: report.onBadLine,
          ...(limit === undefined ? {} : { limit }),
          ...(since === undefined ? {} : { since }),
          ...(until === undefined ? {} : { until }),
          ...(flags.logFormat === undefined ? {} : { logFormat: flags.logFormat }),
          ...(progress === null ? {} : { onProgress: progress.update }),
        },
        target.stream,
      ).finally(() => progress?.stop())
      await target.close()
      for (const warning of result.warnings) warn(warning)
      if (result.stats.rows === 0) warn(`no records read from ${sources.join(' ')}`)
      if (flags.summary)
        process.stderr.write(
          `${report.summary(result.stats, `${result.matched.toLocaleString('en-US')} matching record(s)`)}\n`,
        )
    })
}
