import { InputError } from '../core/errors.js'

/**
 * Times as users write them, to unix seconds:
 * - unix seconds (`1717243200`);
 * - ISO 8601 dates and times (`2024-06-01`, `2024-06-01T12:00`, `2024-06-01 12:00:00Z`,
 *   `2024-06-01T21:00:00+09:00`); without a zone they are in `zone` (UTC unless --tz says otherwise);
 * - `now`, or a time ago: `30s`, `15m`, `2h`, `7d`, `1w`.
 */
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i
const AGO = /^(\d+)\s*(s|m|h|d|w)$/i
const UNIT: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }

export function parseTime(text: string, what: string, zone = 'UTC', now = Date.now() / 1000): number {
  const t = text.trim()
  if (/^\d+(?:\.\d+)?$/.test(t)) return Number(t)
  if (t.toLowerCase() === 'now') return Math.floor(now)
  const ago = AGO.exec(t)
  if (ago !== null) return Math.floor(now) - Number(ago[1]) * (UNIT[ago[2]!.toLowerCase()] ?? 1)
  const m = ISO.exec(t)
  if (m !== null) {
    const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) => Number(v ?? 0)) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ]
    const fraction = m[7] === undefined ? 0 : Number(`0.${m[7]}`)
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
      throw new InputError(`${what}: "${text}" is not a valid date and time`)
    }
    const wall = Date.UTC(y, mo - 1, d, h, mi, s) / 1000 + fraction
    const offset = m[8]
    if (offset === undefined) return wall - zoneOffset(zone, wall)
    if (offset.toUpperCase() === 'Z') return wall
    const sign = offset.startsWith('-') ? -1 : 1
    const digits = offset.slice(1).replace(':', '')
    return wall - sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2)) * 60)
  }
  throw new InputError(
    `${what}: "${text}" is not a time (unix seconds, ISO 8601 such as 2024-06-01T12:00:00Z, now, or an age such as 15m, 2h, 7d)`,
  )
}

/** Seconds to add to UTC to get wall time in `zone` at about `wallSeconds` (DST checked twice). */
export function zoneOffset(zone: string, wallSeconds: number): number {
  if (zone === 'UTC') return 0
  const first = offsetAt(zone, wallSeconds)
  return offsetAt(zone, wallSeconds - first)
}

const formatters = new Map<string, Intl.DateTimeFormat>()

/** Seconds to add to the UTC instant `utcSeconds` to get wall time in `zone`. */
export function offsetAt(zone: string, utcSeconds: number): number {
  let format = formatters.get(zone)
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
    formatters.set(zone, format)
  }
  const parts: Record<string, number> = {}
  for (const p of format.formatToParts(new Date(Math.floor(utcSeconds) * 1000))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value)
  }
  const wall =
    Date.UTC(
      parts.year ?? 1970,
      (parts.month ?? 1) - 1,
      parts.day ?? 1,
      parts.hour ?? 0,
      parts.minute ?? 0,
      parts.second ?? 0,
    ) / 1000
  return wall - Math.floor(utcSeconds)
}

/** Checks an IANA zone name (`Asia/Seoul`, `UTC`); bad input names it. */
export function checkZone(zone: string): string {
  if (zone === 'UTC') return zone
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
    return zone
  } catch {
    throw new InputError(
      `--tz: "${zone}" is not a time zone (IANA names such as UTC, Asia/Seoul, Europe/Berlin)`,
    )
  }
}
