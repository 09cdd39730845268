/**
 * "Did you mean" for misspelt keys and field names: the known name nearest by edit distance,
 * when it is near enough to be a plausible typo rather than a different word.
 */
export function closestName(name: string, known: readonly string[]): string | null {
  let best: string | null = null
  let bestDistance = Number.POSITIVE_INFINITY
  const lower = name.toLowerCase()
  for (const candidate of known) {
    const d = editDistance(lower, candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  // A third of the name (at least 2 edits) still reads as a typo; more is a different name.
  const limit = Math.max(2, Math.floor(name.length / 3))
  if (bestDistance <= limit) return best
  // A shortened or truncated name (connectionTables for connectionTableCapacity) shares a long start.
  for (const candidate of known) {
    const shared = commonPrefix(lower, candidate.toLowerCase())
    if (shared >= 4 && shared >= 0.75 * Math.min(name.length, candidate.length)) return candidate
  }
  return null
}

function commonPrefix(a: string, b: string): number {
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  return i
}

/** Levenshtein distance, counting a swap of two neighbours as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1
  const cols = b.length + 1
  const d = new Array<number>(rows * cols).fill(0)
  for (let i = 0; i < rows; i++) d[i * cols] = i
  for (let j = 0; j < cols; j++) d[j] = j
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(
        (d[(i - 1) * cols + j] ?? 0) + 1,
        (d[i * cols + j - 1] ?? 0) + 1,
        (d[(i - 1) * cols + j - 1] ?? 0) + cost,
      )
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, (d[(i - 2) * cols + j - 2] ?? 0) + 1)
      }
      d[i * cols + j] = v
    }
  }
  return d[rows * cols - 1] ?? 0
}
