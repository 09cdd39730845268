import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InputError } from '../core/errors.js'
import type { FileFormat } from '../core/network.js'
import { formatterFor } from './registry.js'

describe('formatterFor', () => {
  test('names each format and its file extension', () => {
    assert.equal(formatterFor('text').extension, 'log')
    assert.equal(formatterFor('nhn-csv').extension, 'csv')
    assert.equal(formatterFor('jsonl').extension, 'jsonl')
  })

  test('parquet files end in .log.parquet, as AWS names them', () => {
    assert.equal(formatterFor('parquet').extension, 'log.parquet')
  })

  test('an unknown format is an input error', () => {
    assert.throws(() => formatterFor('xml' as FileFormat), InputError)
  })
})
