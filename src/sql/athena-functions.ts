import type { DuckDBConnection } from '@duckdb/node-api'

/**
 * Athena (Presto/Trino) functions that AWS's published flow-log queries use and DuckDB lacks, as
 * macros of the same name and meaning (reference 8.1). DuckDB already has split_part, date_trunc,
 * date_diff, current_date and most aggregates under the same names.
 */
const MACROS: readonly string[] = [
  'from_unixtime(t) AS to_timestamp(t)',
  'to_unixtime(ts) AS epoch(ts)',
  `to_iso8601(ts) AS strftime(CAST(ts AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%gZ')`,
  'from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)',
  'day_of_week(d) AS isodow(d)',
  'day_of_month(d) AS dayofmonth(d)',
  'day_of_year(d) AS dayofyear(d)',
  'approx_distinct(x) AS approx_count_distinct(x)',
  'regexp_like(s, p) AS regexp_matches(s, p)',
]

export async function defineAthenaFunctions(connection: DuckDBConnection): Promise<void> {
  for (const macro of MACROS) await connection.run(`CREATE OR REPLACE MACRO ${macro}`)
}
