import { InputError } from '../core/errors.js'

/** Flag parsing shared by the analysis commands; each bad value names the flag, the value and the rule. */

export function parseWhole(flag: string, value: string, min: number, max: number): number {
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
    throw new InputError(`${flag}: "${value}" is not a whole number from ${min} to ${max}`)
  }
  return n
}

export function parsePortList(flag: string, value: string): number[] {
  const parts = value.split(',').map((p) => p.trim())
  return parts.map((p) => {
    if (!/^\d{1,5}$/.test(p) || Number(p) > 65535) {
      throw new InputError(`${flag}: "${p}" is not a port 0-65535 (write a comma-separated list: 22,3389)`)
    }
    return Number(p)
  })
}
