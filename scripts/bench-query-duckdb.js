#!/usr/bin/env node
// DuckDB's own reading for bench-query.js: runs one SELECT with every core DuckDB wants and writes
// its rows as CSV to stdout (COPY ... TO '/dev/stdout'), as the DuckDB CLI would.
import { DuckDBInstance } from '@duckdb/node-api'

const sql = process.argv[2]
if (sql === undefined) {
  console.error('usage: bench-query-duckdb.js "SELECT ..."')
  process.exit(1)
}
const connection = await (await DuckDBInstance.create(':memory:')).connect()
await connection.run(`COPY (${sql}) TO '/dev/stdout' (FORMAT csv, HEADER true)`)
connection.closeSync()
