import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { fieldsOfFormat } from '../config/fields.js'
import type { FlowRecord } from '../core/flow-record.js'
import type { FileFormat } from '../core/network.js'
import { AWS_FIELD_VALUES, milliseconds, NHN_FIELD_VALUES, seconds } from './field-values.js'

describe('field values', () => {
  const tables: [FileFormat, ReadonlyMap<string, unknown>][] = [
    ['text', AWS_FIELD_VALUES],
    ['jsonl', AWS_FIELD_VALUES],
    ['nhn-csv', NHN_FIELD_VALUES],
  ]
  for (const [format, table] of tables) {
    test(`${format} can write exactly the catalogue's fields`, () => {
      const catalogue = fieldsOfFormat(format).map((f) => f.name)
      assert.deepEqual([...table.keys()].sort(), [...catalogue].sort())
    })
  }

  test('names are looked up as own entries only', () => {
    assert.equal(AWS_FIELD_VALUES.get('constructor'), undefined)
    assert.equal(AWS_FIELD_VALUES.get('__proto__'), undefined)
  })

  test('seconds and milliseconds stay inside the window', () => {
    const window = { windowStart: 60, windowEnd: 120 } as FlowRecord
    assert.equal(seconds(59.5, window), 60)
    assert.equal(seconds(119.9, window), 119)
    assert.equal(seconds(120, window), 119)
    assert.equal(milliseconds(120, window), 119999)
    assert.equal(milliseconds(60.123, window), 60123)
    // 60 + 123 µs: binary rounding must not drop to 60.122 999…
    assert.equal(milliseconds(60 + 123000 / 1e6, window), 60123)
  })
})
