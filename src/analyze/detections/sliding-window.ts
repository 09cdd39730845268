/**
 * Which events fall in a time window of `width` seconds that holds at least `min` distinct keys.
 * Windows may start anywhere (not on a grid), so a burst is caught whatever the clock says: any
 * window with enough keys can slide back to start at its first event, and every such start is tried.
 * Events must be sorted by time. O(n) with a two-pointer sweep.
 */
export interface TimedEvent {
  time: number
  key: string
}

export function eventsInDenseWindows(events: readonly TimedEvent[], width: number, min: number): boolean[] {
  const n = events.length
  const marks = new Array<boolean>(n).fill(false)
  if (n === 0 || min <= 0) return marks.fill(n > 0 && min <= 0)
  const counts = new Map<string, number>()
  // diff[i] > 0 marks events covered by some dense window (a running sum over starts and ends).
  const diff = new Int32Array(n + 1)
  let j = 0
  for (let i = 0; i < n; i++) {
    const start = events[i]?.time ?? 0
    while (j < n && (events[j]?.time ?? 0) < start + width) {
      const key = events[j]?.key ?? ''
      counts.set(key, (counts.get(key) ?? 0) + 1)
      j++
    }
    if (counts.size >= min) {
      diff[i] = (diff[i] ?? 0) + 1
      diff[j] = (diff[j] ?? 0) - 1
    }
    const key = events[i]?.key ?? ''
    const left = (counts.get(key) ?? 0) - 1
    if (left <= 0) counts.delete(key)
    else counts.set(key, left)
  }
  let running = 0
  for (let i = 0; i < n; i++) {
    running += diff[i] ?? 0
    marks[i] = running > 0
  }
  return marks
}
