import { columnName, KNOWN_FIELDS } from '../read/flow-row.js'

/**
 * The columns of the `flows` table: every field the reader knows, named as AWS's Athena table names
 * them (hyphens → underscores, reference 8.1), so Athena queries run unchanged. Types follow AWS's
 * DDL where it gives one (protocol is a bigint there, ports and flags ints); other numbers are
 * BIGINT, everything else VARCHAR. A field no source has is a column of NULLs: the table's shape
 * does not depend on the files' formats.
 */
export interface FlowsColumn {
  /** The FlowRow field name (hyphenated). */
  field: string
  /** The SQL column name. */
  column: string
  type: 'INTEGER' | 'BIGINT' | 'VARCHAR'
}

const ATHENA_TYPES: Readonly<Record<string, FlowsColumn['type']>> = {
  version: 'INTEGER',
  srcport: 'INTEGER',
  dstport: 'INTEGER',
  protocol: 'BIGINT',
  packets: 'BIGINT',
  bytes: 'BIGINT',
  start: 'BIGINT',
  end: 'BIGINT',
  'tcp-flags': 'INTEGER',
  'traffic-path': 'INTEGER',
  'encryption-status': 'INTEGER',
}

/** Stored columns (community_id and community_id_elastic are computed in the view, not stored). */
export const STORED_COLUMNS: readonly FlowsColumn[] = [...KNOWN_FIELDS]
  .filter(([field]) => field !== 'community-id' && field !== 'community-id-elastic')
  .map(([field, kind]) => ({
    field,
    column: columnName(field),
    type: ATHENA_TYPES[field] ?? (kind === 'number' ? 'BIGINT' : 'VARCHAR'),
  }))
