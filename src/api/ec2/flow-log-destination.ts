import { checkDestination } from '../../config/rules.js'
import { ControlError } from '../../control/control-error.js'
import { invalidValue, missingParameter } from './query-params.js'

/**
 * CreateFlowLogs' LogDestinationType + LogDestination ↔ flowlog's destination URL.
 * - `s3` with `arn:aws:s3:::bucket[/prefix/]` (any AWS partition) → `s3://bucket/prefix`, delivered
 *   by flowlog's S3 client to the store its AWS environment names (AWS_ENDPOINT_URL_S3, ...).
 * - `s3` with `file:///dir` → the local directory (flowlog's extension: the embedded default).
 * - `cloud-watch-logs` (AWS's default when LogDestinationType is absent) and
 *   `kinesis-data-firehose` are refused by name: flowlog writes files, never log streams.
 */
const S3_ARN = /^arn:aws(?:-[a-z]+)*:s3:::([^/]*)(?:\/(.*))?$/

export function destinationOf(type: string | undefined, logDestination: string | undefined): string {
  if (type === undefined || type === 'cloud-watch-logs' || type === 'kinesis-data-firehose') {
    const which =
      type === undefined ? 'cloud-watch-logs (the default when LogDestinationType is absent)' : type
    throw new ControlError(
      'InvalidParameterValue',
      `LogDestinationType ${which} is not supported: flowlog delivers files; use LogDestinationType s3 with LogDestination arn:aws:s3:::bucket[/prefix/] or file:///directory`,
    )
  }
  if (logDestination === undefined) throw missingParameter('LogDestination')
  if (logDestination.startsWith('file://')) {
    const checked = checkDestination(logDestination)
    if (!checked.ok) throw invalidValue('LogDestination', logDestination, `It ${checked.rule}.`)
    return checked.value
  }
  const arn = S3_ARN.exec(logDestination)
  if (arn === null)
    throw invalidValue(
      'LogDestination',
      logDestination,
      'It must be arn:aws:s3:::bucket[/prefix/] or file:///directory.',
    )
  const bucket = arn[1] ?? ''
  const prefix = (arn[2] ?? '').replace(/\/+$/, '')
  // AWS reserves AWSLogs for its own key layout (prefix/AWSLogs/account/...).
  if (prefix.split('/')[0] === 'AWSLogs')
    throw invalidValue('LogDestination', logDestination, 'AWSLogs may not be used as a subfolder name.')
  const checked = checkDestination(prefix === '' ? `s3://${bucket}` : `s3://${bucket}/${prefix}`)
  if (!checked.ok) throw invalidValue('LogDestination', logDestination, `It ${checked.rule}.`)
  return checked.value
}

/** What DescribeFlowLogs shows: the S3 ARN (with the prefix's trailing slash) or the file URL. */
export function logDestinationOf(destination: string): string {
  if (!destination.startsWith('s3://')) return destination
  const rest = destination.slice('s3://'.length)
  return rest.includes('/') ? `arn:aws:s3:::${rest}/` : `arn:aws:s3:::${rest}`
}
