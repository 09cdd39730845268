import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { listFiles, runFlowlog } from '../../test/support/cli.js'
import { repoPath } from '../../test/support/paths.js'
import { requireBuilt } from '../../test/support/requirements.js'
import { compress } from './compression.js'
import { fastGzip, IGZIP_INSTALL_HINT, IGZIP_LEVEL } from './fast-gzip.js'

const QUICKSTART_CONFIG = repoPath('examples/quickstart/network.yaml')
const QUICKSTART_CAPTURE = repoPath('examples/quickstart/traffic.pcap')

/** Flow-log-like text: repetitive fields, varying numbers. */
function flowText(lines: number): Buffer {
  const out: string[] = []
  for (let i = 0; i < lines; i++) {
    out.push(
      `2 123456789012 eni-web-${i % 64} 198.18.${(i >> 8) & 255}.${i & 255} 10.0.1.${i % 200} ${1024 + (i % 60000)} 443 6 ${1 + (i % 7)} ${44 + i} 1717246893 1717246950 ${i % 9 === 0 ? 'REJECT' : 'ACCEPT'} OK`,
    )
  }
  return Buffer.from(`${out.join('\n')}\n`)
}

describe('ISA-L gzip', () => {
  test('files read back byte for byte with zlib and with gzip(1)', (t) => {
    const fast = fastGzip()
    if (!requireBuilt(t, fast !== null, 'the ISA-L gzip addon', IGZIP_INSTALL_HINT) || fast === null) return
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-igzip-'))
    try {
      // Empty, tiny, incompressible (the output outgrows its first guess), and a large text window.
      const inputs = [Buffer.alloc(0), Buffer.from('x'), randomBytes(3 << 20), flowText(300_000)]
      for (const [n, input] of inputs.entries()) {
        for (const level of [0, 1, 2, 3]) {
          const gz = fast.gzip(input, level)
          assert.deepEqual(gunzipSync(gz), input, `input ${n} level ${level}: zlib reads it back`)
          const file = join(dir, `${n}-${level}.gz`)
          writeFileSync(file, gz)
          const text = execFileSync('gzip', ['-dc', file], { maxBuffer: 64 << 20 })
          assert.ok(text.equals(input), `input ${n} level ${level}: gzip -dc reads it back`)
        }
      }
      // Text compresses: a window of flow records shrinks at least fourfold.
      const window = inputs[3]!
      assert.ok(fast.gzip(window, IGZIP_LEVEL).length * 4 < window.length)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('one call after another, of any size and level, each reads back (no state leaks between them)', (t) => {
    const fast = fastGzip()
    if (!requireBuilt(t, fast !== null, 'the ISA-L gzip addon', IGZIP_INSTALL_HINT) || fast === null) return
    const text = flowText(20_000)
    const noise = randomBytes(1 << 20)
    for (let i = 0; i < 120; i++) {
      const source = i % 3 === 0 ? noise : text
      const start = (i * 7919) % (source.length >> 1)
      const input = source.subarray(start, start + ((i * 104_729) % (source.length - start)))
      assert.deepEqual(gunzipSync(fast.gzip(input, i % 4)), input, `call ${i}`)
    }
  })

  test('file compression uses it when built', (t) => {
    const fast = fastGzip()
    if (!requireBuilt(t, fast !== null, 'the ISA-L gzip addon', IGZIP_INSTALL_HINT) || fast === null) return
    const body = flowText(2000)
    assert.deepEqual(Buffer.from(compress(body, 'gzip')), fast.gzip(body, IGZIP_LEVEL))
  })

  test('bad arguments throw, naming the rule', (t) => {
    const fast = fastGzip()
    if (!requireBuilt(t, fast !== null, 'the ISA-L gzip addon', IGZIP_INSTALL_HINT) || fast === null) return
    assert.throws(() => fast.gzip('text' as unknown as Uint8Array, 1), /bytes must be a Uint8Array/)
    assert.throws(() => fast.gzip(Buffer.from('x'), 4), /level must be 0 to 3/)
  })

  test('the replay summary says which gzip the files got; FLOWLOG_GZIP=zlib chooses zlib, same records', (t) => {
    if (!requireBuilt(t, fastGzip() !== null, 'the ISA-L gzip addon', IGZIP_INSTALL_HINT)) return
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-igzip-replay-'))
    try {
      const replay = (out: string, env: Record<string, string> = {}) => {
        const args = ['replay', '--config', QUICKSTART_CONFIG, '--out', join(dir, out), QUICKSTART_CAPTURE]
        const r = runFlowlog(args, { env })
        assert.equal(r.code, 0, r.stderr)
        return r.stdout
      }
      assert.match(replay('igzip'), /^ {2}gzip {15}ISA-L igzip$/m)
      assert.match(replay('zlib', { FLOWLOG_GZIP: 'zlib' }), /^ {2}gzip {15}zlib \(FLOWLOG_GZIP=zlib\)$/m)
      const files = listFiles(join(dir, 'igzip'))
      assert.ok(files.length > 0 && files.every((f) => f.endsWith('.gz')))
      assert.deepEqual(listFiles(join(dir, 'zlib')), files)
      for (const f of files) {
        const [a, b] = [readFileSync(join(dir, 'igzip', f)), readFileSync(join(dir, 'zlib', f))]
        assert.notDeepEqual(a, b, `${f}: two different compressors`)
        assert.equal(gunzipSync(a).toString(), gunzipSync(b).toString(), `${f}: the same records`)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
