import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { DuckDBInstance } from '@duckdb/node-api'
import { findField } from '../config/fields.js'
import type { FlowLogSpec } from '../core/network.js'
import { AwsTextFormatter } from './aws-text-formatter.js'
import { expandBatch } from './expand-batch.js'
import { ParquetFormatter, parquetColumnName } from './parquet-formatter.js'
import { formatterFor } from './registry.js'
import { SAMPLE_RULE_IDS, sampleBatch, sampleNetwork, testFlowLog } from './test-fixtures.js'

const ALL_FIELDS = (
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action ' +
  'log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id ' +
  'sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path ' +
  'reject-reason rule-id reject-reason-detail start-ms end-ms skipped-packets skipped-bytes'
).split(' ')

describe('Parquet format', () => {
  const network = sampleNetwork()
  const records = expandBatch(sampleBatch(), network, SAMPLE_RULE_IDS)
  let dir = ''
  let db: Awaited<ReturnType<DuckDBInstance['connect']>>

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowlog-parquet-'))
    db = await (await DuckDBInstance.create(':memory:')).connect()
  })
  after(async () => {
    db.closeSync()
    await rm(dir, { recursive: true, force: true })
  })

  async function parquetFile(flowLog: FlowLogSpec, name: string): Promise<string> {
    const path = join(dir, name)
    await writeFile(path, await new ParquetFormatter().encode(records, { flowLog, network }))
    return path
  }

  async function query(sql: string): Promise<Record<string, unknown>[]> {
    return (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[]
  }

  test('is the registry answer for parquet, with the .log.parquet extension', () => {
    assert.ok(formatterFor('parquet') instanceof ParquetFormatter)
    assert.equal(formatterFor('parquet').extension, 'log.parquet')
  })

  test('columns carry AWS names and Parquet types (reference 2.2), in the configured order', async () => {
    const path = await parquetFile(
      testFlowLog({ fields: ALL_FIELDS, fileFormat: 'parquet' }),
      'types.parquet',
    )
    const schema = await query(
      `SELECT name, type, converted_type FROM parquet_schema('${path}') WHERE name <> 'duckdb_schema'`,
    )
    assert.deepEqual(
      schema.map((c) => c.name),
      ALL_FIELDS.map(parquetColumnName),
    )
    const expected: Record<string, [string, string]> = {
      int32: ['INT32', 'INT_32'],
      int64: ['INT64', 'INT_64'],
      string: ['BYTE_ARRAY', 'UTF8'],
    }
    for (const [i, field] of ALL_FIELDS.entries()) {
      const type = (findField(field, 'aws') ?? findField(field, 'flowlog'))!.type
      assert.deepEqual([schema[i]?.type, schema[i]?.converted_type], expected[type], field)
    }
    // The AWS table's columns, spot-checked by name.
    const byName = new Map(schema.map((c) => [c.name, c.converted_type]))
    assert.equal(byName.get('version'), 'INT_32')
    assert.equal(byName.get('account_id'), 'UTF8')
    assert.equal(byName.get('packets'), 'INT_64')
    assert.equal(byName.get('end'), 'INT_64')
    assert.equal(byName.get('tcp_flags'), 'INT_32')
  })

  test('holds the same records as the text file of the same window', async () => {
    const flowLog = testFlowLog({ fields: ALL_FIELDS })
    const text = Buffer.from(new AwsTextFormatter().encode(records, { flowLog, network })).toString('utf8')
    const [header, ...lines] = text.trimEnd().split('\n')
    assert.equal(header, ALL_FIELDS.join(' '))
    const fromText = lines.map((line) => line.split(' ').map((v) => (v === '-' ? null : v)))
    const path = await parquetFile({ ...flowLog, fileFormat: 'parquet' }, 'same.parquet')
    const columns = ALL_FIELDS.map((f) => `CAST("${parquetColumnName(f)}" AS VARCHAR)`).join(', ')
    const rows = (await db.runAndReadAll(`SELECT ${columns} FROM '${path}'`)).getRowsJson()
    assert.equal(rows.length, records.length)
    assert.deepEqual(rows, fromText)
  })

  test('compression gzip is the GZIP codec inside the file; none is uncompressed', async () => {
    const codecs = async (compression: 'gzip' | 'none') => {
      const path = await parquetFile(
        testFlowLog({ fileFormat: 'parquet', compression }),
        `${compression}.parquet`,
      )
      const rows = await query(`SELECT DISTINCT compression FROM parquet_metadata('${path}')`)
      return rows.map((r) => r.compression)
    }
    assert.deepEqual(await codecs('gzip'), ['GZIP'])
    assert.deepEqual(await codecs('none'), ['UNCOMPRESSED'])
  })

  test('an empty window is a valid file with the columns and no rows', async () => {
    const flowLog = testFlowLog({ fileFormat: 'parquet' })
    const path = join(dir, 'empty.parquet')
    await writeFile(path, await new ParquetFormatter().encode([], { flowLog, network }))
    assert.deepEqual(await query(`SELECT count(*)::INTEGER AS n FROM '${path}'`), [{ n: 0 }])
  })

  test('more rows than one DuckDB chunk (2048) all arrive, in order', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({ ...records[0]!, packets: i + 1 }))
    const flowLog = testFlowLog({ fileFormat: 'parquet', fields: ['packets'] })
    const path = join(dir, 'many.parquet')
    await writeFile(path, await new ParquetFormatter().encode(many, { flowLog, network }))
    const [stats] = await query(
      `SELECT count(*)::INTEGER AS n, sum(packets)::BIGINT AS s, min(packets)::INTEGER AS lo FROM '${path}'`,
    )
    assert.deepEqual(stats, { n: 5000, s: '12502500', lo: 1 })
  })
})
