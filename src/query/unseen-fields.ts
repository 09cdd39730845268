import { closestName } from '../config/closest-name.js'
import type { FilterNode } from './filter.js'

/** A field a query asks about: as written, and the record fields it stands for. */
export interface WantedField {
  option: '--where' | '--fields'
  written: string
  fields: readonly string[]
}

/** Fields a query computes itself: never in a file, never missing. */
const COMPUTED = new Set(['community-id', 'community-id-elastic'])

/** The fields a filter compares (CloudWatch patterns go by position, terms by text: none). */
export function filterFields(node: FilterNode): WantedField[] {
  switch (node.kind) {
    case 'and':
    case 'or':
      return node.items.flatMap(filterFields)
    case 'not':
      return filterFields(node.item)
    case 'match':
      return [{ option: '--where', written: node.field.written, fields: node.field.fields }]
    default:
      return []
  }
}

/**
 * A warning for each field no source file has (none of the fields it stands for): a filter on it
 * matches nothing, a column of it is empty. Said once per name, with the nearest field the files do
 * have. Nothing is said when no file was read (that is said on its own).
 */
export function unseenFieldWarnings(wanted: readonly WantedField[], seen: ReadonlySet<string>): string[] {
  if (seen.size === 0) return []
  const said = new Set<string>()
  const out: string[] = []
  for (const w of wanted) {
    if (w.fields.some((f) => seen.has(f) || COMPUTED.has(f))) continue
    const key = `${w.option} ${w.written}`
    if (said.has(key)) continue
    said.add(key)
    const near = closestName(w.written, [...seen])
    out.push(
      `${w.option}: no source file has the field ${w.written}${w.option === '--where' ? ', so it matches nothing there' : ''}${near === null ? '' : ` (did you mean "${near}"?)`}`,
    )
  }
  return out
}
