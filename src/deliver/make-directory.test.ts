import assert from 'node:assert/strict'
import { mkdtempSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { makeDirectory } from './make-directory.js'

describe('makeDirectory', () => {
  const root = mkdtempSync(join(tmpdir(), 'flowlog-mkdir-'))

  test('makes every missing directory of a path, and again is a no-op', async () => {
    const path = join(root, 'a', 'b', 'c')
    await makeDirectory(path, 0o700)
    assert.ok(statSync(path).isDirectory())
    assert.equal(statSync(path).mode & 0o777, 0o700)
    await makeDirectory(path)
  })

  test('fails at once, not for ever, where the system refuses with ENOENT (procfs)', {
    timeout: 5000,
  }, async () => {
    await assert.rejects(makeDirectory('/proc/flowlog-no-such/dir'), { code: 'ENOENT' })
  })

  test('fails where a file stands in the way', async () => {
    writeFileSync(join(root, 'file'), '')
    await assert.rejects(makeDirectory(join(root, 'file', 'sub')), { code: 'ENOTDIR' })
  })
})
