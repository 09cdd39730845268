import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseLogFormat } from './file-schema.js'
import type { FlowRow } from './flow-row.js'
import { LOG_FORMAT_PRESETS } from './log-format-presets.js'
import { readFlows } from './read-flows.js'

async function rows(path: string, logFormat: string): Promise<FlowRow[]> {
  const out: FlowRow[] = []
  for await (const row of readFlows([path], { logFormat })) out.push(row)
  return out
}

test('every preset names only flow-log fields, each once, version first', () => {
  for (const [name, fields] of LOG_FORMAT_PRESETS) {
    assert.deepEqual(parseLogFormat(name), fields, name)
    assert.equal(new Set(fields).size, fields.length, `${name} repeats a field`)
    assert.equal(fields[0], 'version', name)
  }
  assert.equal(LOG_FORMAT_PRESETS.get('v2')?.length, 14)
  assert.equal(LOG_FORMAT_PRESETS.get('v5')?.length, 29)
  assert.deepEqual(parseLogFormat('V5'), parseLogFormat('v5'), 'any case')
})

test('--log-format v5 reads a header-less v5 file as the field list written out does', async () => {
  const v5 = LOG_FORMAT_PRESETS.get('v5') ?? []
  const values = [
    '5',
    '123456789012',
    'eni-0a1',
    '10.0.1.5',
    '203.0.113.9',
    '443',
    '50000',
    '6',
    '10',
    '5000',
    '1717243200',
    '1717243260',
    'ACCEPT',
    'OK',
    'vpc-0a1',
    'subnet-0a1',
    'i-0a1',
    '19',
    'IPv4',
    '10.0.1.5',
    '203.0.113.9',
    'us-east-1',
    'use1-az1',
    '-',
    '-',
    '-',
    '-',
    'egress',
    '8',
  ]
  assert.equal(values.length, v5.length)
  const path = join(mkdtempSync(join(tmpdir(), 'flowlog-preset-')), 'v5.log')
  writeFileSync(path, `${values.join(' ')}\n`)
  const byPreset = await rows(path, 'v5')
  assert.deepEqual(byPreset, await rows(path, v5.map((f) => `\${${f}}`).join(' ')))
  assert.equal(byPreset[0]?.['flow-direction'], 'egress')
  assert.equal(byPreset[0]?.['traffic-path'], 8)
  assert.equal(byPreset[0]?.['tcp-flags'], 19)
})
