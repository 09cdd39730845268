import type { AddressScope } from '../address-scope.js'
import type { RuleNamer } from './rule-namer.js'
import type { Thresholds } from './thresholds.js'

/** What every detection gets besides the records. */
export interface DetectContext {
  thresholds: Thresholds
  /** Which addresses are inside the network. */
  scope: AddressScope
  /** Names the rule that accepted a record. */
  namer: RuleNamer
}

/** "in 2 min", "in 45 s", "in 3.2 h": the span of a finding, for its summary. */
export function spanText(first: number, last: number): string {
  const s = Math.max(0, last - first)
  if (s < 120) return `in ${Math.round(s)} s`
  if (s < 7200) return `in ${Math.round(s / 60)} min`
  return `in ${(s / 3600).toFixed(1)} h`
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
