import { InputError } from '../core/errors.js'

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 }

/**
 * A duration flag in seconds: `90`, `90s`, `1500ms`, `2m`, `1h` (a bare number is seconds).
 * Anything else is an input error naming the flag, the value and the rule.
 */
export function parseDuration(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (match === null) {
    throw new InputError(`${flag}: "${text}" is not a duration (like 90, 90s, 1500ms, 2m or 1h)`)
  }
  return Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1)
}
