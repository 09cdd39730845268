/**
 * Flow logs published to CloudWatch Logs and exported from there to S3 (CreateExportTask) carry
 * each event's timestamp in front of its message: `2024-06-01T13:00:05.000Z 2 123456789012 eni-…`.
 * The record is the message; the readers skip the timestamp, so the fields and CloudWatch's
 * positional patterns count from the message as CloudWatch itself does.
 */

const DIGIT_0 = 48
const DIGIT_9 = 57
/** Offsets of the separators in `YYYY-MM-DDTHH:MM:SS`. */
const SEPARATORS: readonly (readonly [number, number])[] = [
  [4, 45], // -
  [7, 45], // -
  [10, 84], // T
  [13, 58], // :
  [16, 58], // :
]
const STAMP = 19
const DOT = 46
const Z = 90
const SPACE = 32

/**
 * The length of an export timestamp and the space after it at `start` (ISO 8601 in UTC, with or
 * without fractions of a second), or 0 when the line does not start with one. Never reads at or past
 * `limit` or a line break.
 */
export function exportStampLength(buf: Uint8Array, start: number, limit: number): number {
  if (limit - start < STAMP + 2) return 0
  let sep = 0
  for (let i = 0; i < STAMP; i++) {
    const b = buf[start + i]!
    const expected = SEPARATORS[sep]
    if (expected !== undefined && expected[0] === i) {
      if (b !== expected[1]) return 0
      sep++
    } else if (b < DIGIT_0 || b > DIGIT_9) return 0
  }
  let i = start + STAMP
  if (buf[i] === DOT) {
    i++
    const digits = i
    while (i < limit && buf[i]! >= DIGIT_0 && buf[i]! <= DIGIT_9) i++
    if (i === digits) return 0
  }
  if (i + 1 >= limit || buf[i] !== Z || buf[i + 1] !== SPACE) return 0
  return i + 2 - start
}
