import { isV4Mapped } from '../core/address.js'
import { sqlIdentifier, sqlString } from '../read/duckdb-connection.js'
import type { FileSchema } from '../read/file-schema.js'
import type { SqlColumn } from '../read/scan-files.js'
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
 * they reach JavaScript. It takes exactly the records the JavaScript test takes. SQL's NULL is the
 * trap: `x != 22` is NULL, not TRUE, when x is NULL. So negations are pushed down to the comparisons
 * (De Morgan), where a negated comparison says what JavaScript means (`NOT coalesce(x = 22, FALSE)`);
 * a positive comparison that meets NULL is NULL, which WHERE treats as false, as JavaScript does.
 * Plain comparisons on typed columns (`dstport = 22`) are what DuckDB pushes into the Parquet scan.
 *
 * Null when some part has no exact SQL twin (CloudWatch patterns, user regular expressions, IPv6
 * CIDRs, NHN value mapping): the JavaScript test then runs instead.
 */
export function filterToSql(
  node: FilterNode,
  schema: FileSchema,
  columnOf: (field: string) => SqlColumn | null,
): string | null {
  return toSql(node, false, schema, columnOf)
}

function toSql(
  node: FilterNode,
  negated: boolean,
  schema: FileSchema,
  columnOf: (field: string) => SqlColumn | null,
): string | null {
  switch (node.kind) {
    case 'all':
      return negated ? 'FALSE' : 'TRUE'
    case 'not':
      return toSql(node.item, !negated, schema, columnOf)
    case 'and':
    case 'or': {
      const parts = node.items.map((n) => toSql(n, negated, schema, columnOf))
      if (parts.some((p) => p === null)) return null
      const and = (node.kind === 'and') !== negated
      return parts.map((p) => `(${p})`).join(and ? ' AND ' : ' OR ')
    }
    case 'match':
      return matchSql(node, node.negate !== negated, schema, columnOf)
    case 'pattern':
    case 'terms':
      return null
  }
}

function matchSql(
  node: MatchNode,
  negated: boolean,
  schema: FileSchema,
  columnOf: (field: string) => SqlColumn | null,
): string | null {
  const { field, matcher } = node
  if (field.pseudo === 'time') {
    const start = columnOf('start') ?? columnOf('end')
    const end = columnOf('end') ?? columnOf('start')
    if (start === null || end === null) return null
    const condition = timeSql(matcher, numberOf(start), numberOf(end))
    return condition === null ? null : negated ? `NOT coalesce(${condition}, FALSE)` : condition
  }
  // The record matches when any of the fields (addr: srcaddr or dstaddr) satisfies the matcher;
  // negated, when none does.
  const parts: string[] = []
  for (const f of field.fields) {
    const column = schema.index.get(f)
    if (column !== undefined && schema.valueMaps[column] != null) return null
    const sqlColumn = columnOf(f)
    if (sqlColumn === null) {
      // Absent from the file: every value is NULL.
      const nullMatches = matcher.kind === 'null'
      parts.push(nullMatches !== negated ? 'TRUE' : 'FALSE')
      continue
    }
    const positive = valueSql(matcher, sqlColumn)
    if (positive === null) return null
    // Negated: NULL (no value, or text that is not a number or an IPv4 address) counts as "no match".
    parts.push(negated ? `NOT coalesce(${positive}, FALSE)` : positive)
  }
  if (parts.length === 1) return parts[0]!
  return parts.map((p) => `(${p})`).join(negated ? ' AND ' : ' OR ')
}

const num = (v: number) => (Number.isFinite(v) ? String(v) : 'NULL')

function numberOf(column: SqlColumn): string {
  const name = sqlIdentifier(column.name)
  return column.numeric ? name : `TRY_CAST(${name} AS DOUBLE)`
}

/** The positive comparison: TRUE, FALSE, or NULL where JavaScript says false (a NULL value). */
function valueSql(matcher: ValueMatcher, column: SqlColumn): string | null {
  const n = numberOf(column)
  const t = column.numeric ? `CAST(${sqlIdentifier(column.name)} AS VARCHAR)` : sqlIdentifier(column.name)
  switch (matcher.kind) {
    case 'null':
      return `${sqlIdentifier(column.name)} IS NULL`
    case 'number':
      return `${n} ${matcher.op} ${num(matcher.value)}`
    case 'range':
      return `${n} BETWEEN ${num(matcher.low)} AND ${num(matcher.high)}`
    case 'numbers':
      return `${n} IN (${[...matcher.values].map(num).join(', ')})`
    case 'text':
      return `${matcher.caseless ? `upper(${t})` : t} ${matcher.op} ${sqlString(matcher.value)}`
    case 'texts': {
      const values = [...matcher.values].map(sqlString).join(', ')
      return `${matcher.caseless ? `upper(${t})` : t} IN (${values})`
    }
    case 'cidr': {
      const parts: string[] = []
      for (const cidr of matcher.cidrs) {
        if (!(cidr.prefix >= 96 && isV4Mapped(cidr.words))) return null
        const bits = cidr.prefix - 96
        const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
        parts.push(`(${ipv4Sql(t)} & ${mask}) = ${cidr.words[3]! >>> 0}`)
      }
      return parts.join(' OR ')
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

function timeSql(matcher: ValueMatcher, s: string, e: string): string | null {
  if (matcher.kind === 'range') return `${e} >= ${num(matcher.low)} AND ${s} <= ${num(matcher.high)}`
  if (matcher.kind !== 'number') return null
  const v = num(matcher.value)
  const ops: Record<Relation, string> = {
    '>=': `${e} >= ${v}`,
    '>': `${e} > ${v}`,
    '<': `${s} < ${v}`,
    '<=': `${s} <= ${v}`,
    '=': `${s} <= ${v} AND ${e} >= ${v}`,
  }
  return ops[matcher.op]
}
