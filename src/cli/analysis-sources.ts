import type { Command } from 'commander'
import { useOutputZone } from '../analyze/output.js'
import { InputError } from '../core/errors.js'
import { checkZone, parseTime } from '../query/time-value.js'
import { parseLogFormat } from '../read/file-schema.js'
import { type FlowReader, type ReadOptions, readFlows } from '../read/index.js'
import { readProgressBar } from './read-progress.js'
import { ReadReport } from './read-report.js'

/**
 * The source flags that report, detect, audit and what-if share with query and sql (--since,
 * --until, --tz, --log-format, progress and summary), so every command reads sources the same way.
 */
export interface SourceFlags {
  since?: string
  until?: string
  tz: string
  logFormat?: string
  progress: boolean
  summary: boolean
}

export function addSourceOptions(command: Command): Command {
  return command
    .option(
      '--since <time>',
      'only records that end at or after: ISO 8601, unix seconds, or an age (15m, 2h, 7d)',
    )
    .option('--until <time>', 'only records that start before (same forms as --since)')
    .option(
      '--tz <zone>',
      'time zone of the times shown, and of times without a zone in --since/--until',
      'UTC',
    )
    .option(
      '--log-format <format>',
      'fields of text files without a header line: v2, v3, v4, v5, v8, tgw, ecs (AWS orders) or a list',
    )
    .option('--no-progress', 'no progress bar (it shows only on a terminal, for reads over a second)')
    .option('--no-summary', 'no summary line on stderr')
}

/** A read of the sources with the flags' options; `finish` stops the bar and prints the summary. */
export interface AnalysisRead {
  options: ReadOptions
  finish(stats: FlowReader['stats'], what: string): void
  /** Takes the read's progress bar off the terminal (the read is over; another phase begins). */
  stopProgress(): void
  /**
   * Says on stderr that the analysis had nothing to look at (`why`), never silently; under a
   * --fail-on-* flag (`failing`) that is a failure: exit 1, since an empty input cannot pass a check.
   */
  nothing(why: string, failing: string | null): void
}

export function startRead(command: string, flags: SourceFlags): AnalysisRead {
  const zone = checkZone(flags.tz)
  useOutputZone(zone)
  const since = flags.since === undefined ? undefined : parseTime(flags.since, '--since', zone)
  const until = flags.until === undefined ? undefined : parseTime(flags.until, '--until', zone)
  if (since !== undefined && until !== undefined && since >= until) {
    throw new InputError(`--since ${flags.since} is not before --until ${flags.until}`)
  }
  if (flags.logFormat !== undefined) parseLogFormat(flags.logFormat)
  const report = new ReadReport(command)
  const progress = flags.progress ? readProgressBar(command) : null
  return {
    options: {
      onBadLine: report.onBadLine,
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
      ...(flags.logFormat === undefined ? {} : { logFormat: flags.logFormat }),
      ...(progress === null ? {} : { onProgress: progress.update }),
    },
    stopProgress: () => progress?.stop(),
    finish: (stats, what) => {
      progress?.stop()
      if (flags.summary) process.stderr.write(`${report.summary(stats, what)}\n`)
    },
    nothing: (why, failing) => {
      process.stderr.write(`flowlog ${command}: warning: ${why}\n`)
      if (failing !== null) {
        process.stderr.write(`flowlog ${command}: ${failing}: nothing was checked, so the check fails\n`)
        process.exitCode = 1
      }
    },
  }
}

export { readFlows }
