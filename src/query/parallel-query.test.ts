import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { describe, test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { parseFilter } from './parse-filter.js'
import { type QueryOptions, runQuery } from './run-query.js'

const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'

/** Four gzip files of 6000 records (more than a worker copies back when most of them match), one bad line each. */
function files(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-parallel-'))
  for (let f = 0; f < 4; f++) {
    const lines = [HEADER]
    for (let i = 0; i < 6000; i++) {
      const port = i % 50 === 0 ? 22 : 443
      lines.push(
        `2 1 eni-${f} 10.0.${f}.${i % 250} 10.1.0.1 ${40000 + (i % 2000)} ${port} 6 ${i % 7} ${i} ${1717243200 + f * 60} ${1717243210 + f * 60} ${i % 10 === 0 ? 'REJECT' : 'ACCEPT'} OK`,
      )
      if (i === 100 + f) lines.push('2 1 broken')
    }
    writeFileSync(join(dir, `part-${f}.log.gz`), gzipSync(`${lines.join('\n')}\n`))
  }
  return dir
}

async function run(workers: string, dir: string, where: string, extra: Partial<QueryOptions> = {}) {
  process.env.FLOWLOG_QUERY_WORKERS = workers
  const out = new PassThrough()
  let text = ''
  out.on('data', (d: Buffer) => {
    text += d.toString('utf8')
  })
  const bad: string[] = []
  try {
    const result = await runQuery(
      [dir],
      {
        filter: parseFilter(where),
        format: 'csv',
        fields: null,
        zone: 'UTC',
        unixTimes: true,
        countOnly: false,
        onBadLine: (f, l, r) => bad.push(`${f}:${l}: ${r}`),
        ...extra,
      },
      out,
    )
    return { text, bad, ...result }
  } finally {
    delete process.env.FLOWLOG_QUERY_WORKERS
  }
}

describe('parallel query: the same output as one thread, in the same order', () => {
  const dir = files()
  for (const where of [
    'dstport=22 and action=REJECT',
    'dstport=443',
    'srcaddr in 10.0.2.0/24 or packets=0',
  ]) {
    test(where, async () => {
      const one = await run('0', dir, where)
      const two = await run('2', dir, where)
      assert.ok(one.matched > 0)
      assert.equal(two.text, one.text)
      assert.deepEqual(two.bad, one.bad)
      assert.deepEqual(two.stats, one.stats)
      assert.equal(one.bad.length, 4)
    })
  }

  test('--count and --limit', async () => {
    const one = await run('0', dir, 'dstport=443', { countOnly: true })
    const two = await run('2', dir, 'dstport=443', { countOnly: true })
    assert.equal(two.text, one.text)
    const limited = await run('2', dir, 'dstport=22', { limit: 7 })
    assert.equal(limited.matched, 7)
    assert.equal(limited.text.trimEnd().split('\n').length, 1 + 7)
  })
})
