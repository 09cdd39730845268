import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { StagingFile } from '../sql/staging-file.js'
import { familyOf, schemaOf } from './file-schema.js'
import { LineCursor } from './record-cursor.js'

const AWS =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'
const NHN = 'src_addr,dst_addr,src_port,dst_port,protocol,filter'

/** The staged text of lines copied by copyColumns where it takes them, else field by field. */
function staged(header: string, delimiter: ' ' | ',', lines: string[], columns: number[]) {
  const names = header.split(delimiter)
  const schema = schemaOf(names, familyOf(names), header)
  const digits = columns.map((c) => schema.numeric[c] === true)
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-cursor-'))
  try {
    const byLine = new StagingFile(join(dir, 'line.tsv'), columns.map(String))
    const byField = new StagingFile(join(dir, 'field.tsv'), columns.map(String))
    const cursor = new LineCursor(schema, delimiter)
    const taken: boolean[] = []
    for (const line of lines) {
      const buf = Buffer.from(line)
      cursor.load(buf, 0, buf.length)
      const whole = cursor.copyColumns(columns, digits, byLine)
      taken.push(whole)
      if (!whole)
        columns.forEach((c, i) => {
          byLine.next()
          if (digits[i] && cursor.copyDigits(c, byLine)) return
          if (digits[i]) {
            const n = cursor.number(c)
            if (n !== null) byLine.number(n)
          } else cursor.copyField(c, byLine)
        })
      byLine.endRow()
      columns.forEach((c, i) => {
        byField.next()
        if (digits[i] && cursor.copyDigits(c, byField)) return
        if (digits[i]) {
          const n = cursor.number(c)
          if (n !== null) byField.number(n)
        } else cursor.copyField(c, byField)
      })
      byField.endRow()
    }
    byLine.close()
    byField.close()
    return {
      taken,
      byLine: readFileSync(byLine.path, 'utf8'),
      byField: readFileSync(byField.path, 'utf8'),
      valued: [byLine.valued, byField.valued],
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('copyColumns stages a line as copyField and copyDigits do, field by field', () => {
  const columns = [2, 3, 5, 6, 8, 10, 12, 13]
  const r = staged(
    AWS,
    ' ',
    [
      '2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1717200000 1717200060 ACCEPT OK',
      '2 123456789012 - - - - - - - - 1717200000 1717200060 - NODATA',
    ],
    columns,
  )
  // A number column's `-` is not digits: that line goes field by field, to the same text.
  assert.deepEqual(r.taken, [true, false])
  assert.equal(r.byLine, r.byField)
  assert.deepEqual(r.byLine.split('\n'), [
    'eni-1\t10.0.0.1\t443\t49152\t10\t1717200000\tACCEPT\tOK',
    '\t\t\t\t\t1717200000\t\tNODATA',
    '',
  ])
  assert.deepEqual(r.valued[0], r.valued[1])
})

test('copyColumns leaves to the caller numbers that are not plain digits, and mapped values', () => {
  const numbers = staged(
    AWS,
    ' ',
    [
      '2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 4.9e4 6 10 840 1717200000 1717200060 ACCEPT OK',
      '2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 1234567890123456 6 10 840 1717200000 1717200060 ACCEPT OK',
    ],
    [2, 6],
  )
  assert.deepEqual(numbers.taken, [false, false])
  assert.equal(numbers.byLine, numbers.byField)
  // NHN's filter DROP reads as REJECT: a mapped column is text(), not bytes.
  const mapped = staged(NHN, ',', ['10.0.0.1,10.0.0.2,443,49152,6,DROP'], [0, 5])
  assert.deepEqual(mapped.taken, [false])
  assert.equal(mapped.byLine, mapped.byField)
  assert.match(mapped.byLine, /\tREJECT\n/)
})
