/**
 * Which record times a file or folder can hold, read from its key alone (DESIGN 5, reference 6.1,
 * 6.6), so that --since/--until skip whole folders and files before anything is opened.
 *
 * - date folders: `.../{yyyy}/{mm}/{dd}/[{HH}/]` (aws, nhn) or `year=…/month=…/day=…/[hour=…/]`
 *   (aws-hive, and NHN custom templates in the same style); any prefix of them (a year, a month);
 * - file-name stamps: AWS `_{YYYYMMDDTHHmmZ}_`, NHN `{yyyy}-{mm}-{dd}T{HH}:{mm}:{ss}` with `Z`
 *   (flowlog) or `KST` (NHN Cloud's own names).
 *
 * A key only says roughly when its records are: AWS names a file by the end times of a 5-minute batch
 * whose records may start up to an aggregation interval (10 min) earlier and be up to a minute late;
 * flowlog names a file by its window start (windows of up to 15 min); NHN Cloud names folders in KST,
 * flowlog's nhn layout in UTC. Every span is therefore widened by a slack that covers those cases, and
 * a key that names no time is never pruned. Pruning may read a file it did not need; it never skips
 * one that holds a wanted record.
 */

export interface TimeSpan {
  /** Unix seconds, inclusive. */
  from: number
  /** Unix seconds, exclusive. */
  to: number
}

/** Window (15 min) plus AWS's lateness (1 min) plus the 5-minute batch, rounded up. */
const RECORD_SLACK = 1200
/** Folders outside AWSLogs may be in any time zone (NHN Cloud writes KST): ±14 h. */
const ZONE_SLACK = 14 * 3600
/** NHN Cloud files may span an hour (hourly partitions). */
const NHN_FILE_SLACK = 3600 + RECORD_SLACK

const YEAR = /^(?:year=)?(\d{4})$/
const MONTH = /^(?:month=)?(\d{2})$/
const DAY = /^(?:day=)?(\d{2})$/
const HOUR = /^(?:hour=)?(\d{2})$/
const AWS_STAMP = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_/
const NHN_STAMP = /(\d{4})-(\d{2})-(\d{2})T(\d{2}):?(\d{2}):?(\d{2})(Z|KST)/

/**
 * The span of record times that `key` (a '/'-separated path relative to the source root, a folder or
 * a file) can hold, slack included; null when the key names no time.
 */
export function keyTimeSpan(key: string): TimeSpan | null {
  const segments = key.split('/')
  const aws = segments.includes('AWSLogs') || segments.includes('vpcflowlogs') || key.includes('aws-service=')
  const folders = folderSpan(segments)
  const name = segments[segments.length - 1] ?? ''
  const stamp = fileStamp(name)
  let span: TimeSpan | null = null
  if (folders !== null) {
    const slack = RECORD_SLACK + (aws ? 0 : ZONE_SLACK)
    span = { from: folders.from - slack, to: folders.to + slack }
  }
  if (stamp !== null) {
    const fileSpan = { from: stamp.time - stamp.slack, to: stamp.time + stamp.slack }
    span = span === null ? fileSpan : intersect(span, fileSpan)
  }
  return span
}

/** False only when the key's span lies wholly outside [since, until). */
export function keyMayHold(key: string, since: number | undefined, until: number | undefined): boolean {
  if (since === undefined && until === undefined) return true
  const span = keyTimeSpan(key)
  if (span === null) return true
  if (since !== undefined && span.to <= since) return false
  if (until !== undefined && span.from >= until) return false
  return true
}

/** The span named by the deepest run of date folders year[/month[/day[/hour]]], or null. */
function folderSpan(segments: readonly string[]): TimeSpan | null {
  for (let i = 0; i < segments.length; i++) {
    const year = match(YEAR, segments[i])
    if (year === null) continue
    const month = match(MONTH, segments[i + 1])
    if (month === null || month < 1 || month > 12) {
      // A lone year folder counts only as the last segment (a folder being listed), not in a path
      // where something else follows (that is more likely an id made of digits).
      if (i === segments.length - 1) return { from: utc(year, 1, 1, 0), to: utc(year + 1, 1, 1, 0) }
      continue
    }
    const day = match(DAY, segments[i + 2])
    if (day === null || day < 1 || day > 31)
      return { from: utc(year, month, 1, 0), to: utc(year, month + 1, 1, 0) }
    const hour = match(HOUR, segments[i + 3])
    if (hour === null || hour > 23)
      return { from: utc(year, month, day, 0), to: utc(year, month, day + 1, 0) }
    return { from: utc(year, month, day, hour), to: utc(year, month, day, hour + 1) }
  }
  return null
}

function fileStamp(name: string): { time: number; slack: number } | null {
  const aws = AWS_STAMP.exec(name)
  if (aws !== null) {
    const [, y, mo, d, h, mi] = aws.map(Number) as [number, number, number, number, number, number]
    return { time: utc(y, mo, d, h) + mi * 60, slack: RECORD_SLACK }
  }
  const nhn = NHN_STAMP.exec(name)
  if (nhn !== null) {
    const [y, mo, d, h, mi, s] = nhn.slice(1, 7).map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ]
    const offset = nhn[7] === 'KST' ? 9 * 3600 : 0
    return { time: utc(y, mo, d, h) + mi * 60 + s - offset, slack: NHN_FILE_SLACK }
  }
  return null
}

function match(pattern: RegExp, segment: string | undefined): number | null {
  if (segment === undefined) return null
  const m = pattern.exec(segment)
  return m === null ? null : Number(m[1])
}

function utc(year: number, month: number, day: number, hour: number): number {
  return Date.UTC(year, month - 1, day, hour) / 1000
}

function intersect(a: TimeSpan, b: TimeSpan): TimeSpan {
  return { from: Math.max(a.from, b.from), to: Math.min(a.to, b.to) }
}
