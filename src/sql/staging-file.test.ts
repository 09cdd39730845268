import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { StagingFile } from './staging-file.js'

test('staged text is the text as UTF-8, tabs and line breaks made spaces, short or long, ASCII or not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-staging-test-'))
  try {
    const value = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'grapheme', maxLength: 70 }),
      fc.constantFrom('10.0.0.1', 'ACCEPT', '', 'a\tb', 'x\r\ny', 'é', '-'.repeat(64), '-'.repeat(65)),
    )
    fc.assert(
      fc.property(fc.array(fc.tuple(value, value), { maxLength: 20 }), (rows) => {
        const path = join(dir, 'stage.tsv')
        const stage = new StagingFile(path, ['a', 'b'])
        for (const [a, b] of rows) {
          stage.next()
          stage.text(a)
          stage.next()
          stage.text(b)
          stage.endRow()
        }
        stage.close()
        const clean = (t: string) => t.replace(/[\t\r\n]/g, ' ')
        const expected = rows.map(([a, b]) => `${clean(a)}\t${clean(b)}\n`).join('')
        assert.equal(readFileSync(path, 'utf8'), expected)
        assert.deepEqual(stage.valued, [rows.some(([a]) => a !== ''), rows.some(([, b]) => b !== '')])
      }),
      { numRuns: 300 },
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
