import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { TextBody } from './text-body.js'

describe('TextBody', () => {
  test('one line per call, newline-terminated, UTF-8', () => {
    const body = new TextBody()
    body.line('a b')
    body.line('é')
    assert.deepEqual(Buffer.from(body.finish()), Buffer.from('a b\né\n'))
  })

  test('bodies past one string chunk come out whole and in order', () => {
    const body = new TextBody()
    const line = 'x'.repeat(999)
    const lines = 20_000 // 20 MB: many chunks
    for (let i = 0; i < lines; i++) body.line(i % 1000 === 0 ? `${i}`.padEnd(999, '.') : line)
    const out = Buffer.from(body.finish())
    assert.equal(out.length, lines * 1000)
    assert.equal(out.subarray(17_000_000, 17_000_999).toString(), '17000'.padEnd(999, '.'))
  })

  test('a line longer than a chunk, and multi-byte characters, survive', () => {
    const body = new TextBody()
    const long = 'ü'.repeat(3_000_000)
    body.line('a')
    body.line(long)
    body.line('z')
    assert.equal(Buffer.from(body.finish()).toString('utf8'), `a\n${long}\nz\n`)
  })
})
