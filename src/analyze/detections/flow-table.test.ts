import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { DuckDBInstance } from '@duckdb/node-api'
import { readFlows } from '../../read/index.js'
import { CidrSet } from '../address-scope.js'
import { openFlowTable } from './flow-table.js'

// The count of traffic records leaves out the address tests that the files' own statistics
// answer (presentAddresses): a record without an address, however its file writes that, must
// still not be counted, and one with both must be.

const dir = mkdtempSync(join(tmpdir(), 'flowlog-flow-table-'))
after(() => rmSync(dir, { recursive: true, force: true }))

type Line = [src: string | null, dst: string | null, status: string]

const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'

/** Lines of AWS's default format: the given addresses and status, a TCP record each. */
function textOf(lines: readonly Line[]): string {
  const body = lines.map(
    ([src, dst, status], i) =>
      `2 123456789012 eni-0a1 ${src ?? '-'} ${dst ?? '-'} ${40000 + i} 443 6 3 180 1717200000 1717200060 ACCEPT ${status}`,
  )
  return `${HEADER}\n${body.join('\n')}\n`
}

/** The same lines as a Parquet file with flowlog's column names, NULL where `null`. */
async function parquetOf(name: string, lines: readonly Line[], extra = ''): Promise<string> {
  const path = join(dir, `${name}.parquet`)
  const text = (v: string | null) => (v === null ? 'NULL' : `'${v}'`)
  const values = lines
    .map(
      ([src, dst, status], i) =>
        `(2, '123456789012', 'eni-0a1', ${text(src)}, ${text(dst)}, ${40000 + i}, 443, 6, 3, 180, 1717200000, 1717200060, 'ACCEPT', '${status}'${extra === '' ? '' : `, ${text(src)}`})`,
    )
    .join(', ')
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  try {
    await connection.run(
      `COPY (SELECT * FROM (VALUES ${values}) t(version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport,
        protocol, packets, bytes, start, "end", action, log_status${extra === '' ? '' : `, ${extra}`}))
      TO '${path}' (FORMAT parquet)`,
    )
  } finally {
    connection.closeSync()
    instance.closeSync()
  }
  return path
}

/** The traffic records of a file, whether they have packet addresses, and the tallies made. */
async function countOf(
  path: string,
): Promise<{ records: number; packetAddresses: boolean; tallies: Record<string, number> }> {
  const table = await openFlowTable(readFlows([path]), new CidrSet([]), ({ packetAddresses }) => ({
    named: 'rule_id IS NOT NULL',
    ...(packetAddresses ? { apart: 'true' } : {}),
  }))
  try {
    return { records: table.records, packetAddresses: table.packetAddresses, tallies: { ...table.tallies } }
  } finally {
    table.close()
  }
}

const WHOLE: Line[] = [
  ['198.51.100.1', '10.0.1.10', 'OK'],
  ['198.51.100.2', '10.0.1.10', 'OK'],
  ['198.51.100.3', '10.0.1.10', 'OK'],
  ['198.51.100.4', '10.0.1.10', 'OK'],
]

/** Traffic status, but three records without an address: written '-', empty, and missing. */
const GAPS: Line[] = [
  ['198.51.100.1', '10.0.1.10', 'OK'],
  ['-', '10.0.1.10', 'OK'],
  ['198.51.100.3', '', 'OK'],
  [null, '10.0.1.10', 'OK'],
  ['198.51.100.5', '10.0.1.10', 'OK'],
  ['198.51.100.6', '10.0.1.10', 'NODATA'],
]

test('Parquet records are counted as traffic only with both addresses, whether the files show it or not', async () => {
  assert.deepEqual(await countOf(await parquetOf('whole', WHOLE)), {
    records: 4,
    packetAddresses: false,
    tallies: { named: 0 },
  })
  assert.equal((await countOf(await parquetOf('gaps', GAPS))).records, 2)
  // Each address apart: one column the statistics show, the other not.
  const srcGaps = GAPS.map(([src, , status]): Line => [src, '10.0.1.10', status])
  assert.equal((await countOf(await parquetOf('src-gaps', srcGaps))).records, 3)
  const dstGaps = GAPS.map(([, dst, status]): Line => ['198.51.100.9', dst, status])
  assert.equal((await countOf(await parquetOf('dst-gaps', dstGaps))).records, 4)
  // A least value below '-' is not an absent address: counted.
  const odd: Line[] = [...WHOLE, [' 198.51.100.7', '10.0.1.10', 'OK']]
  assert.equal((await countOf(await parquetOf('odd', odd))).records, 5)
})

test('text records staged for DuckDB are counted as traffic only with both addresses', async () => {
  const whole = join(dir, 'whole.log')
  writeFileSync(whole, textOf(WHOLE))
  assert.deepEqual(await countOf(whole), { records: 4, packetAddresses: false, tallies: { named: 0 } })
  const gaps = join(dir, 'gaps.log')
  // Text has no NULL: the missing address is '-' too.
  writeFileSync(gaps, textOf(GAPS.filter(([src, dst]) => src !== '' && dst !== '')))
  assert.equal((await countOf(gaps)).records, 2)
})

test('records with packet addresses say so, and get the tallies that ask about them', async () => {
  const path = await parquetOf('packet', WHOLE, 'pkt_srcaddr')
  assert.deepEqual(await countOf(path), {
    records: 4,
    packetAddresses: true,
    tallies: { named: 0, apart: 4 },
  })
})
