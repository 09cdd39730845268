import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { Delivery } from './delivery.js'

describe('Delivery', () => {
  let root = ''
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'flowlog-delivery-'))
  })
  after(async () => {
    await rm(root, { recursive: true, force: true })
  })

  const s3 = { endpoint: null, region: null, forcePathStyle: false }

  test('a local destination is written directly; the spool stays untouched', async () => {
    const delivery = new Delivery({ spoolDir: join(root, 'spool-a'), s3 })
    const url = pathToFileURL(join(root, 'out-a')).href
    const state = await delivery.deliver({
      url,
      key: 'x/a.log',
      body: Buffer.from('a'),
      flowLogId: 'fl',
      windowStart: 0,
    })
    assert.equal(state, 'delivered')
    assert.equal(await readFile(join(root, 'out-a', 'x', 'a.log'), 'utf8'), 'a')
    assert.deepEqual((await delivery.spool.list()).entries, [])
    assert.equal(delivery.stats.delivered, 1)
    delivery.close()
  })

  test('a local write that fails is spooled, and delivered once the directory is fixed', async () => {
    const spoolDir = join(root, 'spool-b')
    const out = join(root, 'out-b')
    await mkdir(out, { recursive: true })
    await writeFile(join(out, 'x'), 'a file where a directory should be')
    const delivery = new Delivery({ spoolDir, s3, backoff: { baseMs: 60_000, maxMs: 60_000 } })
    const url = pathToFileURL(out).href
    const state = await delivery.deliver({
      url,
      key: 'x/b.log',
      body: Buffer.from('b'),
      flowLogId: 'fl',
      windowStart: 0,
    })
    assert.equal(state, 'spooled')
    const [entry] = (await delivery.spool.list()).entries
    assert.equal(entry?.attempts, 1)
    assert.match(entry?.lastError ?? '', /cannot write/)
    assert.equal(delivery.stats.waiting, 1)
    await rm(join(out, 'x'))
    delivery.retryAllNow()
    assert.deepEqual(await delivery.settle(Date.now() + 10_000), [])
    assert.equal(await readFile(join(out, 'x', 'b.log'), 'utf8'), 'b')
    assert.deepEqual((await delivery.spool.list()).entries, [])
    delivery.close()
  })

  test('resume picks up what an earlier process left, once', async () => {
    const spoolDir = join(root, 'spool-c')
    const out = pathToFileURL(join(root, 'out-c')).href
    const before = new Delivery({ spoolDir, s3 })
    await before.spool.add(
      { destination: out, key: 'c.log', s3: null, flowLogId: 'fl', windowStart: 0 },
      Buffer.from('c'),
    )
    before.close()
    const after = new Delivery({ spoolDir, s3 })
    assert.equal((await after.resume()).length, 1)
    assert.deepEqual(await after.settle(Date.now() + 10_000), [])
    assert.equal(await readFile(join(root, 'out-c', 'c.log'), 'utf8'), 'c')
    assert.equal(after.stats.waiting, 0)
    after.close()
  })
})
