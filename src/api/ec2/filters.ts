import type { Tags } from '../../control/resources.js'
import { invalidValue, missingParameter, type Params } from './query-params.js'

/**
 * EC2's `Filter.N.Name` / `Filter.N.Value.M`: a resource matches when, for every filter, one of
 * its values for that name equals one of the filter's values (`*` and `?` are wildcards, as on
 * EC2). Each Describe action names what its filters read; `tag:<key>` and `tag-key` work
 * everywhere tags exist. An unknown filter name is InvalidParameterValue naming it.
 */
export type FilterFields<T> = Record<string, (item: T) => ReadonlyArray<string | null | undefined>>

function wildcard(pattern: string): (value: string) => boolean {
  if (!/[*?]/.test(pattern)) return (value) => value === pattern
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  const re = new RegExp(`^${escaped}$`, 's')
  return (value) => re.test(value)
}

export function compileFilters<T>(
  filters: readonly Params[],
  fields: FilterFields<T>,
  tagsOf: ((item: T) => Tags) | null,
): (item: T) => boolean {
  const predicates: Array<(item: T) => boolean> = []
  for (const filter of filters) {
    const name = filter.string('Name')
    if (name === undefined) throw missingParameter(filter.nameOf('Name'))
    const matchers = filter.strings('Values').map(wildcard)
    const matchesAny = (values: ReadonlyArray<string | null | undefined>): boolean =>
      values.some((v) => v !== null && v !== undefined && matchers.some((m) => m(v)))
    const field = fields[name]
    if (field !== undefined) {
      predicates.push((item) => matchesAny(field(item)))
    } else if (tagsOf !== null && name.startsWith('tag:')) {
      const key = name.slice(4)
      predicates.push((item) => matchesAny([tagsOf(item)[key]]))
    } else if (tagsOf !== null && name === 'tag-key') {
      predicates.push((item) => matchesAny(Object.keys(tagsOf(item))))
    } else {
      const known = [...Object.keys(fields), ...(tagsOf !== null ? ['tag:<key>', 'tag-key'] : [])]
      throw invalidValue(
        filter.nameOf('Name'),
        name,
        `The filter '${name}' is invalid; filters here: ${known.join(', ')}.`,
      )
    }
  }
  return (item) => predicates.every((p) => p(item))
}
