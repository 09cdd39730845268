import { Command } from 'commander'
import { detect } from '../analyze/detect.js'
import { DETECTION_NAMES, type DetectionName } from '../analyze/detections/finding.js'
import { loadThresholds } from '../analyze/detections/thresholds.js'
import { renderFindings } from '../analyze/findings-text.js'
import { withIsoTimes } from '../analyze/output.js'
import { loadConfig } from '../config/load-config.js'
import { InputError } from '../core/errors.js'
import { addSourceOptions, readFlows, type SourceFlags, startRead } from './analysis-sources.js'
import { formatOption, openOutput, outputOption } from './output-options.js'
import { phaseProgressBar } from './phase-progress.js'
import { repeatableOption } from './repeatable-option.js'

interface DetectFlags extends SourceFlags {
  config?: string
  thresholds?: string
  set: string[]
  only?: DetectionName[]
  format?: string
  output?: string
  failOnFindings: boolean
}

export function detectCommand(): Command {
  return addSourceOptions(
    new Command('detect')
      .description(
        'find port scans, SSH/RDP brute force, sweeps, rejected bursts and unusual egress, with blocks to add',
      )
      .argument('<source...>', 'flow-log files, directories (read recursively) or s3://bucket/prefix')
      .option(
        '-c, --config <file>',
        "config: names the rule that let traffic in, and the network's own CIDRs",
      )
      .option('-t, --thresholds <file>', 'thresholds YAML (see docs/analysis-reports.md)')
      .addOption(
        repeatableOption(
          '-s, --set <key=value>',
          'one threshold, e.g. portScan.minPorts=20 (repeatable)',
          'none',
        ),
      )
      .option('--only <detections>', 'run only these detections, comma-separated', (v: string) =>
        parseDetections(v),
      )
      .addOption(formatOption(['table', 'json'] as const, 'table'))
      .addOption(outputOption())
      .option('--fail-on-findings', 'exit 3 when there is any finding (for scripts and CI)', false)
      .addHelpText(
        'after',
        `
Detections: ${DETECTION_NAMES.join(', ')}. Thresholds and their reasons: docs/analysis-reports.md.

Examples:
  flowlog detect logs/
  flowlog detect --config net.yaml --set bruteForce.minAttempts=10 logs/
  flowlog detect --thresholds thresholds.yaml --format json logs/`,
      ),
  ).action(async (sources: string[], flags: DetectFlags) => {
    const target = openOutput(flags, ['table', 'json'] as const, 'table')
    const thresholds = loadThresholds(flags.thresholds, flags.set)
    const network = flags.config === undefined ? null : loadConfig(flags.config)
    const read = startRead('detect', flags)
    const reader = readFlows(sources, read.options)
    // After the read, DuckDB groups the requests into contacts (a while on millions).
    const grouping = await phaseProgressBar('detect: grouping', flags.progress, read.stopProgress)
    const result = await detect(reader, {
      thresholds,
      network,
      ...(flags.only === undefined ? {} : { only: flags.only }),
      ...(grouping === null ? {} : { onGrouping: grouping.update }),
    }).finally(() => grouping?.stop())
    read.finish(reader.stats, `${result.findings.length} finding(s)`)
    if (result.records === 0)
      read.nothing(
        `no traffic records in ${sources.join(' ')} (${reader.stats.rows} record(s) read)`,
        flags.failOnFindings ? '--fail-on-findings' : null,
      )
    if (target.format === 'json') {
      target.write(
        `${JSON.stringify(withIsoTimes({ records: result.records, ignored: result.ignored, findings: result.findings }), null, 2)}\n`,
      )
    } else {
      target.write(renderFindings(result.findings, result.records))
    }
    await target.close()
    if (flags.failOnFindings && result.findings.length > 0) process.exitCode = 3
  })
}

function parseDetections(value: string): DetectionName[] {
  return value.split(',').map((name) => {
    const n = name.trim().toLowerCase()
    if (!(DETECTION_NAMES as readonly string[]).includes(n)) {
      throw new InputError(`--only: "${n}" is not a detection (detections: ${DETECTION_NAMES.join(', ')})`)
    }
    return n as DetectionName
  })
}
