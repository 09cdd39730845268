import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, test } from 'node:test'
import { hex, pcapBytes, pcapngBytes, writeTempCapture } from '../../test/support/pcap-writer.js'
import { readFrames } from '../../test/support/read-frames.js'
import { CaptureError } from '../core/errors.js'
import { openCapture } from './open-capture.js'

describe('openCapture', () => {
  test('picks the reader by magic', () => {
    const data = Uint8Array.of(9, 9)
    const pcap = writeTempCapture('sniff.pcap', pcapBytes([{ data, time: 1 }]))
    const pcapng = writeTempCapture(
      'sniff.pcapng',
      pcapngBytes([{ kind: 'section' }, { kind: 'interface' }, { kind: 'epb', time: 1, data }]),
    )
    assert.deepEqual(readFrames(openCapture(pcap)).frames[0]!.data, [9, 9])
    assert.deepEqual(readFrames(openCapture(pcapng)).frames[0]!.data, [9, 9])
  })

  const refused: { name: string; path: () => string; message: RegExp }[] = [
    {
      name: 'a missing file',
      path: () => '/nonexistent/flowlog/x.pcap',
      message: /cannot open capture .*x\.pcap: ENOENT/,
    },
    {
      name: 'a directory',
      path: () => {
        const dir = join(dirname(writeTempCapture('dir-marker', new Uint8Array(0))), 'a-directory')
        mkdirSync(dir, { recursive: true })
        return dir
      },
      message: /a-directory.*(directory|EISDIR)/,
    },
    {
      name: 'an empty file',
      path: () => writeTempCapture('empty.pcap', new Uint8Array(0)),
      message: /empty\.pcap is empty/,
    },
    {
      name: 'a 3-byte file',
      path: () => writeTempCapture('tiny.pcap', hex('a1b2c3')),
      message: /too short.*3 bytes/,
    },
    {
      name: 'a text file',
      path: () => writeTempCapture('notes.txt', new TextEncoder().encode('hello world')),
      message: /notes\.txt is neither pcap nor pcapng: magic 0x68656c6c$/,
    },
    {
      name: 'a gzip file',
      path: () => writeTempCapture('x.pcap.gz', hex('1f8b0800 00000000')),
      message: /magic 0x1f8b0800 \(it looks gzip-compressed/,
    },
  ]
  for (const c of refused) {
    test(`throws CaptureError naming ${c.name}`, () => {
      const path = c.path()
      assert.throws(
        () => openCapture(path),
        (e: unknown) => e instanceof CaptureError && e.code === 'ERR_CAPTURE' && c.message.test(e.message),
      )
    })
  }
})
