import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InputError } from '../core/errors.js'
import type { FlowRecord } from '../core/flow-record.js'
import { csvCell } from './csv-cell.js'
import { expandBatch } from './expand-batch.js'
import { NhnCsvFormatter } from './nhn-csv-formatter.js'
import {
  assertGolden,
  SAMPLE_RULE_IDS,
  sampleBatch,
  sampleNetwork,
  testFlowLog,
  testInterface,
  testNetwork,
} from './test-fixtures.js'

/** Every NHN field in the documented order (reference §5.2). */
const NHN_ALL = [
  'timestamp_start',
  'timestamp_end',
  'interface_id',
  'owner_type',
  'owner_id',
  'subnet_id',
  'vpc_id',
  'region',
  'protocol',
  'src_addr',
  'dst_addr',
  'src_port',
  'dst_port',
  'tcp_flag',
  'packets',
  'bytes',
  'direction',
  'filter',
  'transithub_drop_no_route_packets',
  'transithub_drop_no_route_bytes',
  'transithub_drop_black_hole_packets',
  'transithub_drop_black_hole_bytes',
  'status',
  'traffic_path',
]
/** NHN API v2's `customized_field` example (17 fields, older `vm_id`). */
const NHN_BASIC =
  'timestamp_start,timestamp_end,interface_id,vm_id,subnet_id,vpc_id,region,protocol,src_addr,dst_addr,src_port,dst_port,tcp_flag,packets,bytes,filter,status'.split(
    ',',
  )

function render(fields: string[], records?: FlowRecord[], network = sampleNetwork()): string {
  const flowLog = testFlowLog({ fields, fileFormat: 'nhn-csv', layout: 'nhn' })
  const body = new NhnCsvFormatter().encode(records ?? expandBatch(sampleBatch(), network, SAMPLE_RULE_IDS), {
    flowLog,
    network,
  })
  return Buffer.from(body).toString('utf8')
}

describe('NHN CSV format', () => {
  test('sample window with every NHN field and the extras', () => {
    assertGolden(
      import.meta.url,
      'nhn-all.csv',
      render([...NHN_ALL, 'rule-id', 'reject-reason-detail', 'skipped-packets']),
    )
  })

  test('sample window in the API example field set', () => {
    assertGolden(import.meta.url, 'nhn-basic.csv', render(NHN_BASIC))
  })

  test('cells are quoted only when they need it (RFC 4180)', () => {
    assert.equal(csvCell('eni-1'), 'eni-1')
    assert.equal(csvCell('a,b'), '"a,b"')
    assert.equal(csvCell('say "hi"'), '"say ""hi"""')
    assert.equal(csvCell('two\nlines'), '"two\nlines"')
    const network = testNetwork([testInterface('eni,odd', ['10.0.1.10'], { instance: 'i-"q"' })])
    assert.equal(render(['interface_id', 'vm_id', 'status'], [], network), 'interface_id,vm_id,status\n')
    const records = expandBatch(sampleBatch(), network, []).slice(0, 1)
    assert.equal(
      render(['interface_id', 'vm_id', 'status'], records, network).split('\n')[1],
      '"eni,odd","i-""q""",OK',
    )
  })

  test('AWS names are not NHN fields', () => {
    assert.throws(() => render(['timestamp_start', 'srcaddr']), InputError)
  })
})
