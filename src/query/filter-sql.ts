import { isV4Mapped } from '../core/address.js'
import { sqlIdentifier, sqlString } from '../read/duckdb-connection.js'
import type { FileSchema } from '../read/file-schema.js'
import type { FilterNode, MatchNode, Relation, ValueMatcher } from './filter.js'

/** True when the filter compares `field` anywhere. */
export function usesField(node: FilterNode, field: string): boolean {
  switch (node.kind) {
    case 'and':
    case 'or':
      return node.items.some((n) => usesField(n, field))
    case 'not':
      return usesField(node.item, field)
    case 'match':
      return node.field.fields.includes(field)
    default:
      return false
  }
}

/**
 * The filter as a SQL condition over a Parquet file's own columns, so DuckDB drops records before
 * they reach JavaScript. It must take exactly the records the JavaScript test takes: comparisons with
 * NULL are false (coalesce), `!=` is the negation of `=` (NOT over a never-NULL condition). Null when
 * some part has no exact SQL twin (CloudWatch patterns, user regular expressions, IPv6 CIDRs, NHN
 * value mapping): the JavaScript test then runs instead.
 */
export function filterToSql(
  node: FilterNode,
  schema: FileSchema,
  columnOf: (field: string) => string | null,
): string | null {
  switch (node.kind) {
    case 'all':
      return 'TRUE'
    case 'not': {
      const inner = filterToSql(node.item, schema, columnOf)
      return inner === null ? null : `NOT (${inner})`
    }
    case 'and':
    case 'or': {
      const parts = node.items.map((n) => filterToSql(n, schema, columnOf))
      if (parts.some((p) => p === null)) return null
      return parts.map((p) => `(${p})`).join(node.kind === 'and' ? ' AND ' : ' OR ')
    }
    case 'match':
      return matchSql(node, schema, columnOf)
    case 'pattern':
      return null
  }
}

function matchSql(
  node: MatchNode,
  schema: FileSchema,
  columnOf: (field: string) => string | null,
): string | null {
  const { field, matcher, negate } = node
  let condition: string | null
  if (field.pseudo === 'time') {
    const start = columnOf('start') ?? columnOf('end')
    const end = columnOf('end') ?? columnOf('start')
    if (start === null || end === null) return null
    condition = timeSql(matcher, sqlIdentifier(start), sqlIdentifier(end))
  } else {
    const parts: string[] = []
    for (const f of field.fields) {
      const column = schema.index.get(f)
      if (column !== undefined && schema.valueMaps[column] != null) return null
      const name = columnOf(f)
      if (name === null) {
        // Absent from the file: every value is NULL.
        parts.push(matcher.kind === 'null' ? 'TRUE' : 'FALSE')
        continue
      }
      const sql = valueSql(matcher, sqlIdentifier(name))
      if (sql === null) return null
      parts.push(sql)
    }
    condition = parts.join(' OR ')
  }
  if (condition === null) return null
  return negate ? `NOT (${condition})` : `(${condition})`
}

const num = (v: number) => (Number.isFinite(v) ? String(v) : 'NULL')

/** A condition that is TRUE or FALSE, never NULL. */
function valueSql(matcher: ValueMatcher, column: string): string | null {
  const n = `TRY_CAST(${column} AS DOUBLE)`
  const t = `CAST(${column} AS VARCHAR)`
  switch (matcher.kind) {
    case 'null':
      return `${column} IS NULL`
    case 'number':
      return `coalesce(${n} ${matcher.op} ${num(matcher.value)}, FALSE)`
    case 'range':
      return `coalesce(${n} BETWEEN ${num(matcher.low)} AND ${num(matcher.high)}, FALSE)`
    case 'numbers':
      return `coalesce(${n} IN (${[...matcher.values].map(num).join(', ')}), FALSE)`
    case 'text': {
      const value = sqlString(matcher.value)
      return `coalesce(${matcher.caseless ? `upper(${t})` : t} ${matcher.op} ${value}, FALSE)`
    }
    case 'texts': {
      const values = [...matcher.values].map(sqlString).join(', ')
      return `coalesce(${matcher.caseless ? `upper(${t})` : t} IN (${values}), FALSE)`
    }
    case 'cidr': {
      const parts: string[] = []
      for (const cidr of matcher.cidrs) {
        if (!(cidr.prefix >= 96 && isV4Mapped(cidr.words))) return null
        const bits = cidr.prefix - 96
        const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
        parts.push(`(${ipv4Sql(t)} & ${mask}) = ${cidr.words[3]! >>> 0}`)
      }
      return `coalesce(${parts.join(' OR ')}, FALSE)`
    }
    case 'regex':
    case 'any':
      return null
  }
}

/** Dotted IPv4 text as a BIGINT, NULL when it is not one (IPv6, `-`). */
function ipv4Sql(text: string): string {
  const octet = (i: number) => `TRY_CAST(split_part(${text}, '.', ${i}) AS BIGINT)`
  return `CASE WHEN regexp_full_match(${text}, '\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}') THEN ${octet(1)} * 16777216 + ${octet(2)} * 65536 + ${octet(3)} * 256 + ${octet(4)} END`
}

function timeSql(matcher: ValueMatcher, start: string, end: string): string | null {
  const s = `TRY_CAST(${start} AS DOUBLE)`
  const e = `TRY_CAST(${end} AS DOUBLE)`
  if (matcher.kind === 'range') {
    return `coalesce(${e} >= ${num(matcher.low)} AND ${s} <= ${num(matcher.high)}, FALSE)`
  }
  if (matcher.kind !== 'number') return null
  const v = num(matcher.value)
  const ops: Record<Relation, string> = {
    '>=': `${e} >= ${v}`,
    '>': `${e} > ${v}`,
    '<': `${s} < ${v}`,
    '<=': `${s} <= ${v}`,
    '=': `${s} <= ${v} AND ${e} >= ${v}`,
  }
  return `coalesce(${ops[matcher.op]}, FALSE)`
}
