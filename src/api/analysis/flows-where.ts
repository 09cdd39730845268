import { InputError } from '../../core/errors.js'
import type { FilterNode } from '../../query/filter.js'
import { filterToSql } from '../../query/filter-sql.js'
import { schemaOf } from '../../read/file-schema.js'
import { columnName, kindOf } from '../../read/flow-row.js'
import type { SqlColumn } from '../../read/scan-files.js'
import { STORED_COLUMNS } from '../../sql/flows-columns.js'

/**
 * The `flowlog query` filter (one language, one parser: parseFilter) as a condition on the `flows`
 * table, through the same translation the Parquet reader uses (filterToSql), so the console takes
 * exactly the records `flowlog query --where` takes. The table's values are already mapped (NHN's
 * DROP is REJECT there), so no column needs a value map.
 */
const FLOWS_FIELDS = [...STORED_COLUMNS.map((c) => c.field), 'community-id']
const FLOWS_SCHEMA = schemaOf(FLOWS_FIELDS, 'aws', null)
const FLOWS_FIELD_SET = new Set(FLOWS_FIELDS)

function columnOf(field: string): SqlColumn | null {
  if (!FLOWS_FIELD_SET.has(field)) return null
  return { name: columnName(field), numeric: kindOf(field) === 'number' }
}

export function flowsWhere(filter: FilterNode, text: string): string {
  const sql = filterToSql(filter, FLOWS_SCHEMA, columnOf)
  if (sql === null) {
    throw new InputError(
      `filter "${text}": CloudWatch patterns, regular expressions and IPv6 CIDRs are not supported by the console's server-side aggregation; use field comparisons (flowlog query takes them all)`,
    )
  }
  return sql
}
