import { offsetAt } from './time-value.js'

/**
 * Unix times shown as readable times: ISO 8601 in UTC (`2024-06-01T12:00:08Z`) or in a zone given
 * by --tz (`2024-06-01T21:00:08+09:00`). Offsets are looked up once per hour of time shown, since a
 * query prints many records from the same hours.
 */
/** The largest time a JavaScript Date holds, less a day for the zone offset. */
const MAX_DATE_SECONDS = 8.64e12 - 86_400

/** Whole seconds whose text is remembered at most (a day has 86,400); past it, the memory starts again. */
const REMEMBERED = 200_000

export class TimeFormat {
  private readonly offsets = new Map<number, number>()
  /** Whole seconds → their text: records of one second are many, and a Date costs a microsecond. */
  private readonly texts = new Map<number, string>()

  constructor(
    readonly zone: string,
    /** Table style: a space instead of `T`, no zone suffix (the header names the zone). */
    private readonly table: boolean,
  ) {}

  /** `seconds` may be fractional (milliseconds fields are divided by 1000 by the caller). */
  format(seconds: number, withMillis: boolean): string {
    // A time no calendar can show (a corrupt 18446744073204 s in someone's file) is data, not an
    // error that would hide the file's other records: it is shown as the number it is.
    if (!Number.isFinite(seconds) || Math.abs(seconds) > MAX_DATE_SECONDS) return String(seconds)
    if (withMillis || !Number.isInteger(seconds)) return this.compose(seconds, withMillis)
    let text = this.texts.get(seconds)
    if (text === undefined) {
      if (this.texts.size >= REMEMBERED) this.texts.clear()
      text = this.compose(seconds, false)
      this.texts.set(seconds, text)
    }
    return text
  }

  private compose(seconds: number, withMillis: boolean): string {
    const offset = this.offsetAt(seconds)
    const iso = new Date(Math.round((seconds + offset) * 1000)).toISOString()
    const body = withMillis ? iso.slice(0, 23) : iso.slice(0, 19)
    if (this.table) return body.replace('T', ' ')
    return `${body}${offset === 0 && this.zone === 'UTC' ? 'Z' : suffix(offset)}`
  }

  private offsetAt(seconds: number): number {
    if (this.zone === 'UTC') return 0
    const hour = Math.floor(seconds / 3600)
    let offset = this.offsets.get(hour)
    if (offset === undefined) {
      offset = offsetAt(this.zone, hour * 3600)
      this.offsets.set(hour, offset)
    }
    return offset
  }
}

function suffix(offset: number): string {
  const sign = offset < 0 ? '-' : '+'
  const abs = Math.abs(offset)
  const h = String(Math.floor(abs / 3600)).padStart(2, '0')
  const m = String(Math.floor((abs % 3600) / 60)).padStart(2, '0')
  return `${sign}${h}:${m}`
}

/** Fields that hold unix times, and whether in milliseconds. */
export const TIME_FIELDS: ReadonlyMap<string, 'seconds' | 'millis'> = new Map([
  ['start', 'seconds'],
  ['end', 'seconds'],
  ['start-ms', 'millis'],
  ['end-ms', 'millis'],
])
