import assert from 'node:assert/strict'
import { openSync } from 'node:fs'
import { describe, test } from 'node:test'
import { writeTempCapture } from '../../test/support/pcap-writer.js'
import { ChunkedFile } from './chunked-file.js'

const content = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff)
const path = writeTempCapture('chunked.bin', content)
const open = (chunk: number) => new ChunkedFile(openSync(path, 'r'), path, chunk)

describe('ChunkedFile', () => {
  test('ensure() compacts and grows so the requested bytes sit at pos', () => {
    const file = open(16)
    assert.ok(file.ensure(10))
    file.pos += 10
    assert.ok(file.ensure(12)) // needs compaction
    assert.equal(file.bytes[file.pos], 10)
    assert.ok(file.ensure(100)) // needs growth
    assert.equal(file.bytes.length >= 100, true)
    assert.equal(file.bytes[file.pos + 99], 109)
    assert.equal(file.view.getUint8(file.pos + 99), 109)
    assert.equal(file.filePosition, 10)
    file.close()
  })

  test('skip() moves past buffered and unbuffered bytes', () => {
    const file = open(32)
    assert.ok(file.ensure(8))
    assert.ok(file.skip(4))
    assert.ok(file.skip(500)) // beyond the buffer
    assert.ok(file.ensure(1))
    assert.equal(file.filePosition, 504)
    assert.equal(file.bytes[file.pos], 504 & 0xff)
    assert.equal(file.skip(1000), false)
    assert.equal(file.ensure(1), false)
    file.close()
  })

  test('ensure() is false at the end and keeps what is there', () => {
    const file = open(64)
    assert.ok(file.skip(990))
    assert.equal(file.ensure(20), false)
    assert.equal(file.available, 10)
    file.close()
    file.close()
  })
})
