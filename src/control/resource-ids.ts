import { randomBytes } from 'node:crypto'
import { ID_PATTERN } from '../config/rules.js'
import { ControlError } from './control-error.js'

/**
 * Ids of resources created through an API: AWS's form, a prefix and 17 lower-case hex digits
 * (`fl-0a1b2c3d4e5f67890`). Resources seeded from a config keep the config's ids, so any id of
 * the config's alphabet is accepted on the way in; anything else is refused before it reaches a
 * store key, a path or a log line.
 */
export type IdPrefix = 'fl' | 'sg' | 'sgr'

export function newId(prefix: IdPrefix): string {
  return `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`
}

/** Throws `code` (AWS's `.Malformed` code of the kind) when `id` is not an id at all. */
export function checkIdParameter(parameter: string, id: unknown, code = 'InvalidParameterValue'): string {
  if (typeof id === 'string' && ID_PATTERN.test(id)) return id
  const shown =
    typeof id === 'string' ? JSON.stringify(id.length > 80 ? `${id.slice(0, 77)}...` : id) : String(id)
  throw new ControlError(
    code,
    `${parameter}: ${shown} is not a valid id (1-128 letters, digits, ".", "_" or "-", starting with a letter or digit)`,
  )
}
