/**
 * The capture times a flow log can carry. A record's start and end, its window and the object key
 * named after that window are all unix seconds printed as dates: a time before 1970 or past year
 * 9999 has no such date (and a corrupt pcapng timestamp, 2^64 units, is far past both), so a frame
 * with one is bad input, counted as `bad-timestamp`, never recorded.
 *
 * The upper end leaves room for the longest window (900 s) to close within 9999, so no window
 * start, end or key can fall outside the range either.
 */
export const FIRST_RECORD_TIME = 0
/** The longest aggregation interval a flow log may have (config: 1..900 s). */
export const LONGEST_WINDOW = 900
/** 9999-12-31T23:45:00Z: 10000-01-01T00:00:00Z less the longest window. */
export const END_OF_RECORD_TIME = 253402300800 - LONGEST_WINDOW

/** True for a finite time in [FIRST_RECORD_TIME, END_OF_RECORD_TIME). False for NaN and infinities. */
export function isRecordTime(seconds: number): boolean {
  return seconds >= FIRST_RECORD_TIME && seconds < END_OF_RECORD_TIME
}
