import assert from 'node:assert/strict'
import { PassThrough, Writable } from 'node:stream'
import { describe, test } from 'node:test'
import { type Cell, type OutputFormat, RowWriter } from './row-writer.js'
import { TimeFormat } from './time-format.js'

async function write(format: OutputFormat, columns: string[], rows: Cell[][]): Promise<string> {
  const out = new PassThrough()
  let text = ''
  out.on('data', (d: Buffer) => {
    text += d.toString('utf8')
  })
  const writer = new RowWriter(out, format, columns)
  for (const row of rows) writer.row(row)
  await writer.end()
  return text
}

const ROWS: Cell[][] = [
  ['eni-1', 22, 'REJECT', null],
  ['eni-22', 443, 'ACCEPT', 'a,"b"'],
]

describe('RowWriter', () => {
  test('table: columns sized to the widest value, numbers right-aligned, - for null', async () => {
    assert.equal(
      await write('table', ['interface-id', 'dstport', 'action', 'rule-id'], ROWS),
      'interface-id  dstport  action  rule-id\neni-1              22  REJECT  -\neni-22            443  ACCEPT  a,"b"\n',
    )
  })
  test('csv: header, RFC 4180 quoting, empty cells for null', async () => {
    assert.equal(
      await write('csv', ['i', 'p', 'a', 'r'], ROWS),
      'i,p,a,r\neni-1,22,REJECT,\neni-22,443,ACCEPT,"a,""b"""\n',
    )
  })
  test('jsonl and json: typed values, null, bigints as numbers', async () => {
    assert.equal(
      await write(
        'jsonl',
        ['i', 'p'],
        [
          ['x', 10n],
          ['y', null],
        ],
      ),
      '{"i":"x","p":10}\n{"i":"y","p":null}\n',
    )
    assert.deepEqual(JSON.parse(await write('json', ['i'], [['x'], ['y']])), [{ i: 'x' }, { i: 'y' }])
    assert.deepEqual(JSON.parse(await write('json', ['i'], [])), [])
  })
})

describe('TimeFormat', () => {
  const t = Date.parse('2024-06-01T12:00:20Z') / 1000
  test('UTC and zones, with daylight saving time', () => {
    assert.equal(new TimeFormat('UTC', false).format(t, false), '2024-06-01T12:00:20Z')
    assert.equal(new TimeFormat('UTC', true).format(t, false), '2024-06-01 12:00:20')
    assert.equal(new TimeFormat('Asia/Seoul', false).format(t, false), '2024-06-01T21:00:20+09:00')
    assert.equal(new TimeFormat('America/New_York', false).format(t, false), '2024-06-01T08:00:20-04:00')
    const winter = Date.parse('2024-01-15T12:00:00Z') / 1000
    assert.equal(new TimeFormat('America/New_York', false).format(winter, false), '2024-01-15T07:00:00-05:00')
    assert.equal(new TimeFormat('UTC', false).format(t + 0.123, true), '2024-06-01T12:00:20.123Z')
  })
  test('a time no calendar holds is shown as its number, not thrown', () => {
    assert.equal(new TimeFormat('UTC', false).format(18446744073204, false), '18446744073204')
    assert.equal(new TimeFormat('Asia/Seoul', true).format(Number.NaN, false), 'NaN')
  })
})

test('RowWriter: waiting for a slow reader leaves no listener behind', async () => {
  // A reader that takes its time: every flush waits for 'drain'.
  const out = new Writable({ highWaterMark: 16, write: (_chunk, _encoding, done) => setImmediate(done) })
  const writer = new RowWriter(out, 'csv', ['line'])
  for (let i = 0; i < 200; i++) {
    writer.row([`row ${i} ${'x'.repeat(200)}`])
    await writer.flush()
  }
  await writer.end()
  assert.ok(out.listenerCount('close') <= 2, `${out.listenerCount('close')} close listeners`)
  assert.ok(out.listenerCount('drain') <= 1, `${out.listenerCount('drain')} drain listeners`)
})
