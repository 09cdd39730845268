import { closestName } from '../config/closest-name.js'
import { InputError } from '../core/errors.js'
import type { FlowRow, FlowValue } from '../read/flow-row.js'
import { KNOWN_FIELDS } from '../read/flow-row.js'
import { fieldNamed } from './field-names.js'

/** One key of `query --sort`: a field, ascending unless written with a leading `-`. */
export interface SortKey {
  field: string
  descending: boolean
}

/** `bytes`, `-bytes,start`, `-packets, srcaddr`: any field name --where accepts. */
export function parseSort(text: string): SortKey[] {
  const keys = text
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '')
  if (keys.length === 0) throw new InputError(`--sort "${text}": names no field (e.g. -bytes,start)`)
  return keys.map((key) => {
    const descending = key.startsWith('-')
    const name = descending ? key.slice(1) : key.startsWith('+') ? key.slice(1) : key
    const field = fieldNamed(name)
    if (field === null) {
      const near = closestName(name, [...KNOWN_FIELDS.keys()])
      throw new InputError(
        `--sort: "${name}" is not a flow-log field${near === null ? '' : ` (did you mean "${near}"?)`}`,
      )
    }
    return { field, descending }
  })
}

/** Numbers in numeric order, text in code-point order, not applicable (null) last either way. */
function compareValues(a: FlowValue | undefined, b: FlowValue | undefined): number {
  const an = a === null || a === undefined
  const bn = b === null || b === undefined
  if (an || bn) return an === bn ? 0 : an ? 1 : -1
  if (typeof a === 'number' && typeof b === 'number') return a - b
  const as = String(a)
  const bs = String(b)
  return as < bs ? -1 : as > bs ? 1 : 0
}

/**
 * The matching rows in `--sort` order, ties in the order they were read. With a limit only the
 * first `limit` are kept (the buffer is cut back whenever it doubles), so `--sort -bytes --limit 10`
 * holds ten rows whatever the record count; without one every matching row is held.
 */
export class RowSorter {
  #rows: { row: FlowRow; seq: number }[] = []
  #seq = 0

  constructor(
    private readonly keys: readonly SortKey[],
    private readonly limit: number,
  ) {}

  add(row: FlowRow): void {
    this.#rows.push({ row, seq: this.#seq++ })
    if (Number.isFinite(this.limit) && this.#rows.length >= 2 * this.limit + 1024) this.#cut()
  }

  rows(): FlowRow[] {
    this.#cut()
    return this.#rows.map((r) => r.row)
  }

  #cut(): void {
    this.#rows.sort((x, y) => {
      for (const k of this.keys) {
        const c = compareValues(x.row[k.field], y.row[k.field])
        const nulls = (x.row[k.field] ?? null) === null || (y.row[k.field] ?? null) === null
        if (c !== 0) return k.descending && !nulls ? -c : c
      }
      return x.seq - y.seq
    })
    if (this.#rows.length > this.limit) this.#rows.length = this.limit
  }
}
