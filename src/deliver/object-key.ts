import { createHash } from 'node:crypto'
import { InputError } from '../core/errors.js'
import type { FlowLogSpec, NetworkConfig } from '../core/network.js'
import { isRecordTime, LONGEST_WINDOW } from '../core/record-time.js'
import { fileCompression } from './compression.js'

/**
 * The object key of one flow log's file for one window (DESIGN 5, reference §6.1, §6.6).
 *
 * - `aws`:      {prefix/}AWSLogs/{account}/vpcflowlogs/{region}/{yyyy}/{mm}/{dd}/[{HH}/]{name}
 * - `aws-hive`: {prefix/}AWSLogs/aws-account-id={account}/aws-service=vpcflowlogs/aws-region={region}/
 *               year={yyyy}/month={mm}/day={dd}/[hour={HH}/]{name}
 *   with name = {account}_vpcflowlogs_{region}_{flowlogid}_{YYYYMMDDTHHmmZ}_{hash}.{extension}[.gz]
 * - `nhn`:      {prefix/}{yyyy}/{mm}/{dd}/[{HH}/]{fileNameTemplate expanded}.{extension}[.gz]
 *
 * Every time is UTC and comes from the window start: AWS names a 5-minute batch by the end times of
 * its records, but flowlog writes exactly one file per window, so the window's own start names it.
 * The hash makes keys unique per window even when several windows share a minute (intervals under
 * 60 s) and deterministic, so a retried write overwrites instead of duplicating. An agent of a fleet
 * (network.agentHost) puts its host name into the hash, and into the nhn name as `_{host}` (that
 * layout has no hash): many hosts write the same flow log's window, each its own file.
 *
 * `prefix` is the path of an s3:// destination; a file:// destination's directory is the root and
 * adds no prefix.
 *
 * A window outside the times a flow log can carry (record-time.ts) throws a RangeError: the
 * pipeline counts such packets as `bad-timestamp` and never opens their window, so one reaching
 * here is a bug, and a key with `NaN` in its date must never be written.
 */
export function objectKey(
  flowLog: FlowLogSpec,
  network: NetworkConfig,
  windowStart: number,
  windowEnd: number,
  extension: string,
): string {
  if (!isRecordTime(windowStart) || !(windowEnd > windowStart && windowEnd - windowStart <= LONGEST_WINDOW)) {
    throw new RangeError(
      `flowLogs ${flowLog.id}: window ${windowStart}..${windowEnd} is not a window of 1970 to 9999 (unix seconds)`,
    )
  }
  const t = utcParts(windowStart)
  const suffix = `.${extension}${fileCompression(flowLog) === 'gzip' ? '.gz' : ''}`
  const hour = flowLog.perHourPartition
  let key: string
  switch (flowLog.layout) {
    case 'aws':
      key =
        `AWSLogs/${network.account}/vpcflowlogs/${network.region}/${t.year}/${t.month}/${t.day}/` +
        (hour ? `${t.hour}/` : '') +
        awsFileName(flowLog, network, windowStart, windowEnd, t) +
        suffix
      break
    case 'aws-hive':
      key =
        `AWSLogs/aws-account-id=${network.account}/aws-service=vpcflowlogs/aws-region=${network.region}/` +
        `year=${t.year}/month=${t.month}/day=${t.day}/` +
        (hour ? `hour=${t.hour}/` : '') +
        awsFileName(flowLog, network, windowStart, windowEnd, t) +
        suffix
      break
    case 'nhn':
      key =
        `${t.year}/${t.month}/${t.day}/${hour ? `${t.hour}/` : ''}${expandTemplate(flowLog, t)}` +
        (network.agentHost === undefined ? '' : `_${network.agentHost}`) +
        suffix
      break
    default:
      throw new InputError(
        `flowLogs ${flowLog.id}: layout "${String(flowLog.layout)}" is not aws, aws-hive or nhn`,
      )
  }
  key = destinationPrefix(flowLog.destination) + key
  checkKey(flowLog, key)
  return key
}

/**
 * 8 hex characters of SHA-256 over the flow log id, the window, the file format and, for an agent
 * of a fleet, its host name: what makes one file differ from every other, and nothing random.
 */
export function windowHash(
  flowLog: FlowLogSpec,
  windowStart: number,
  windowEnd: number,
  agentHost?: string,
): string {
  const host = agentHost === undefined ? '' : `\n${agentHost}`
  return createHash('sha256')
    .update(`${flowLog.id}\n${windowStart}\n${windowEnd}\n${flowLog.fileFormat}${host}`)
    .digest('hex')
    .slice(0, 8)
}

/** The path of an s3:// destination with one trailing slash, or '' (file:// and anything else). */
export function destinationPrefix(destination: string): string {
  if (!destination.startsWith('s3://')) return ''
  const rest = destination.slice('s3://'.length)
  const slash = rest.indexOf('/')
  if (slash < 0) return ''
  const path = rest
    .slice(slash + 1)
    .split('/')
    .filter((part) => part !== '')
    .join('/')
  return path === '' ? '' : `${path}/`
}

interface UtcParts {
  year: string
  month: string
  day: string
  hour: string
  minute: string
  second: string
}

function utcParts(unixSeconds: number): UtcParts {
  const d = new Date(unixSeconds * 1000)
  const two = (n: number) => String(n).padStart(2, '0')
  return {
    year: String(d.getUTCFullYear()).padStart(4, '0'),
    month: two(d.getUTCMonth() + 1),
    day: two(d.getUTCDate()),
    hour: two(d.getUTCHours()),
    minute: two(d.getUTCMinutes()),
    second: two(d.getUTCSeconds()),
  }
}

function awsFileName(
  flowLog: FlowLogSpec,
  network: NetworkConfig,
  windowStart: number,
  windowEnd: number,
  t: UtcParts,
): string {
  const stamp = `${t.year}${t.month}${t.day}T${t.hour}${t.minute}Z`
  return `${network.account}_vpcflowlogs_${network.region}_${flowLog.id}_${stamp}_${windowHash(flowLog, windowStart, windowEnd, network.agentHost)}`
}

const PLACEHOLDER = /#\{([^}]*)\}/g

function expandTemplate(flowLog: FlowLogSpec, t: UtcParts): string {
  const values: Record<string, string> = { logger_id: flowLog.id, ...t }
  return flowLog.fileNameTemplate.replace(PLACEHOLDER, (whole, name: string) => {
    const value = Object.hasOwn(values, name) ? values[name] : undefined
    if (value === undefined) {
      throw new InputError(
        `flowLogs ${flowLog.id}: fileNameTemplate "${flowLog.fileNameTemplate}": ${whole} is not one of ` +
          '#{logger_id} #{year} #{month} #{day} #{hour} #{minute} #{second}',
      )
    }
    return value
  })
}

/** Keys become file paths and S3 keys: no empty, `.` or `..` segments, no backslashes (DESIGN 9). */
function checkKey(flowLog: FlowLogSpec, key: string): void {
  const bad =
    key.includes('\\') ||
    key.includes('\0') ||
    key.split('/').some((s) => s === '' || s === '.' || s === '..')
  if (bad) throw new InputError(`flowLogs ${flowLog.id}: object key "${key}" is not a safe relative path`)
}
