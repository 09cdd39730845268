import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import { repoPath } from '../support/paths.js'
import { runFlowlogAsync, S3TestServer } from '../support/s3-server.js'

const MIXED = repoPath('test/fixtures/captures/mixed.pcap')

/**
 * AWS's published Athena table for flow logs (reference 8.1): its columns and types, in its order.
 * Our files must read with exactly this list: the text files with one header line skipped, the
 * Hive-partitioned Parquet files by column name with their partition columns.
 */
const ATHENA_COLUMNS: [string, 'int' | 'bigint' | 'string'][] = [
  ['version', 'int'],
  ['account_id', 'string'],
  ['interface_id', 'string'],
  ['srcaddr', 'string'],
  ['dstaddr', 'string'],
  ['srcport', 'int'],
  ['dstport', 'int'],
  ['protocol', 'bigint'],
  ['packets', 'bigint'],
  ['bytes', 'bigint'],
  ['start', 'bigint'],
  ['end', 'bigint'],
  ['action', 'string'],
  ['log_status', 'string'],
  ['vpc_id', 'string'],
  ['subnet_id', 'string'],
  ['instance_id', 'string'],
  ['tcp_flags', 'int'],
  ['type', 'string'],
  ['pkt_srcaddr', 'string'],
  ['pkt_dstaddr', 'string'],
  ['region', 'string'],
  ['az_id', 'string'],
  ['sublocation_type', 'string'],
  ['sublocation_id', 'string'],
  ['pkt_src_aws_service', 'string'],
  ['pkt_dst_aws_service', 'string'],
  ['flow_direction', 'string'],
  ['traffic_path', 'int'],
]
const DUCKDB_TYPE = { int: 'INTEGER', bigint: 'BIGINT', string: 'VARCHAR' } as const
const LOG_FORMAT = ATHENA_COLUMNS.map(([c]) => `\${${c.replaceAll('_', '-')}}`).join(' ')
const SELECT_COLUMNS = ATHENA_COLUMNS.map(([c]) => `"${c}"`).join(', ')

describe('Parquet and text in object storage read as AWS publishes them for Athena', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-athena-'))
  const local = join(dir, 'bucket')
  let server: S3TestServer
  let db: DuckDBConnection
  let replayed: { code: number | null; stdout: string; stderr: string }

  before(async () => {
    server = await S3TestServer.start(['athena'])
    const network = readFileSync(repoPath('test/fixtures/mixed.yaml'), 'utf8').split('\nflowLogs:\n')[0]
    const config = `${network}
flowLogs:
  - id: fl-text
    resource: vpc-0a1
    aggregationInterval: 60
    logFormat: "${LOG_FORMAT}"
    destination: s3://athena/text
  - id: fl-parquet
    resource: vpc-0a1
    aggregationInterval: 60
    logFormat: "${LOG_FORMAT}"
    fileFormat: parquet
    layout: aws-hive
    perHourPartition: true
    destination: s3://athena/parquet
s3:
  endpoint: ${server.endpoint}
  forcePathStyle: true
`
    writeFileSync(join(dir, 'net.yaml'), config)
    // The endpoint comes from the config here: no AWS_ENDPOINT_URL_S3.
    replayed = await runFlowlogAsync(
      ['replay', '--config', join(dir, 'net.yaml'), '--spool', join(dir, 'spool'), MIXED],
      server.env({ AWS_ENDPOINT_URL_S3: undefined }),
    )
    for (const key of await server.keys('athena')) {
      mkdirSync(dirname(join(local, key)), { recursive: true })
      writeFileSync(join(local, key), await server.get('athena', key))
    }
    db = await (await DuckDBInstance.create(':memory:')).connect()
  })
  after(async () => {
    db?.closeSync()
    await server.stop()
  })

  async function rows(sql: string): Promise<Record<string, unknown>[]> {
    return (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[]
  }

  /** The text table: AWS's column list, space-separated, one header line skipped, `-` as NULL. */
  const TEXT = `read_csv('${local}/text/AWSLogs/*/vpcflowlogs/*/*/*/*/*.log.gz', delim = ' ', header = false,
    skip = 1, nullstr = '-', auto_detect = false, filename = true,
    columns = {${ATHENA_COLUMNS.map(([c, t]) => `'${c}': '${DUCKDB_TYPE[t]}'`).join(', ')}})`
  /** The Parquet table: every file under AWSLogs/, Hive partitions from the path. */
  const PARQUET = `read_parquet('${local}/parquet/AWSLogs/**/*.parquet', hive_partitioning = true, hive_types_autocast = false)`

  test('the replay delivered both flow logs: text gzip in the aws layout, Parquet in the Hive layout', async () => {
    assert.equal(replayed.code, 0, replayed.stderr)
    const keys = await server.keys('athena')
    assert.equal(
      keys.filter((k) => /^text\/AWSLogs\/123456789012\/vpcflowlogs\/kr1\/2024\/06\/01\/.*\.log\.gz$/.test(k))
        .length,
      3,
    )
    const parquet = keys.filter((k) => k.startsWith('parquet/'))
    assert.equal(parquet.length, 3)
    for (const k of parquet) {
      assert.match(
        k,
        /^parquet\/AWSLogs\/aws-account-id=123456789012\/aws-service=vpcflowlogs\/aws-region=kr1\/year=2024\/month=06\/day=01\/hour=12\/123456789012_vpcflowlogs_kr1_fl-parquet_20240601T120\dZ_[0-9a-f]{8}\.log\.parquet$/,
      )
    }
  })

  test('the text files read with the Athena column list, every value in its type', async () => {
    const [count] = await rows(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT filename)::INTEGER AS files FROM ${TEXT}`,
    )
    assert.deepEqual(count, { n: 68, files: 3 })
    const [nodata] = await rows(
      `SELECT count(*)::INTEGER AS n FROM ${TEXT} WHERE log_status = 'NODATA' AND srcport IS NULL AND packets IS NULL`,
    )
    assert.equal(nodata?.n, 2)
    // The `date` partition of AWS's text table is the key's yyyy/MM/dd: the day of every record.
    const [misplaced] = await rows(
      `SELECT count(*)::INTEGER AS n FROM ${TEXT}
       WHERE regexp_extract(filename, '/(\\d{4}/\\d{2}/\\d{2})/', 1) <> strftime(make_timestamp("start" * 1000000), '%Y/%m/%d')`,
    )
    assert.equal(misplaced?.n, 0)
  })

  test('the Parquet files carry the Athena columns by name, and the Hive partition columns', async () => {
    const described = await rows(`DESCRIBE SELECT * FROM ${PARQUET}`)
    const partitions = ['aws-account-id', 'aws-service', 'aws-region', 'year', 'month', 'day', 'hour']
    const names = described.map((c) => String(c.column_name))
    assert.deepEqual(
      names.slice(0, ATHENA_COLUMNS.length),
      ATHENA_COLUMNS.map(([c]) => c),
    )
    // DuckDB lists partition columns in its own order; Athena names them in the DDL.
    assert.deepEqual(names.slice(ATHENA_COLUMNS.length).sort(), [...partitions].sort())
    const typeOf = new Map(described.map((c) => [c.column_name, c.column_type]))
    assert.equal(typeOf.get('version'), 'INTEGER')
    assert.equal(typeOf.get('packets'), 'BIGINT')
    assert.equal(typeOf.get('end'), 'BIGINT')
    assert.equal(typeOf.get('account_id'), 'VARCHAR')
    const [wrong] = await rows(
      `SELECT count(*)::INTEGER AS n FROM ${PARQUET}
       WHERE "aws-account-id" <> '123456789012' OR "aws-service" <> 'vpcflowlogs' OR "aws-region" <> 'kr1'
          OR year || month || day || hour <> strftime(make_timestamp("start" * 1000000), '%Y%m%d%H')`,
    )
    assert.equal(wrong?.n, 0)
  })

  test('Parquet read back with DuckDB holds exactly the records of the text files', async () => {
    const [counts] = await rows(
      `SELECT (SELECT count(*) FROM ${TEXT})::INTEGER AS text, (SELECT count(*) FROM ${PARQUET})::INTEGER AS parquet`,
    )
    assert.deepEqual(counts, { text: 68, parquet: 68 })
    const [difference] = await rows(
      `SELECT count(*)::INTEGER AS n FROM (
         (SELECT ${SELECT_COLUMNS} FROM ${TEXT} EXCEPT ALL SELECT ${SELECT_COLUMNS} FROM ${PARQUET})
         UNION ALL
         (SELECT ${SELECT_COLUMNS} FROM ${PARQUET} EXCEPT ALL SELECT ${SELECT_COLUMNS} FROM ${TEXT}))`,
    )
    assert.equal(difference?.n, 0)
  })
})
