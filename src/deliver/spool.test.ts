import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Spool } from './spool.js'

const file = (key: string) => ({
  destination: 's3://logs/prod',
  key,
  s3: { endpoint: 'http://127.0.0.1:9000', region: null, forcePathStyle: true },
  flowLogId: 'fl-1',
  windowStart: 1_700_000_000,
})

describe('Spool', () => {
  let root = ''
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'flowlog-spool-'))
  })
  after(async () => {
    await rm(root, { recursive: true, force: true })
  })

  test('a missing directory is an empty spool', async () => {
    assert.deepEqual(await new Spool(join(root, 'absent')).list(), { entries: [], broken: [] })
  })

  test('add keeps the bytes and the metadata beside them, private to the owner', async () => {
    const spool = new Spool(join(root, 'a'))
    const entry = await spool.add(
      file('prod/x.log.gz'),
      Buffer.from('body'),
      new Date('2024-01-01T00:00:00Z'),
    )
    assert.equal(entry.id, Spool.idOf('s3://logs/prod', 'prod/x.log.gz'))
    assert.deepEqual([...(await readdir(spool.dir))].sort(), [`${entry.id}.data`, `${entry.id}.json`])
    assert.equal(await readFile(spool.dataPath(entry.id), 'utf8'), 'body')
    assert.equal((await stat(spool.dataPath(entry.id))).mode & 0o777, 0o600)
    const meta = JSON.parse(await readFile(spool.metaPath(entry.id), 'utf8'))
    assert.equal(meta.format, 1)
    assert.equal(meta.destination, 's3://logs/prod')
    assert.equal(meta.key, 'prod/x.log.gz')
    assert.equal(meta.attempts, 0)
    assert.deepEqual((await spool.list()).entries, [entry])
  })

  test('the same destination and key is one entry: spooling again replaces it', async () => {
    const spool = new Spool(join(root, 'b'))
    await spool.add(file('k'), Buffer.from('first'))
    const second = await spool.add(file('k'), Buffer.from('second!'))
    const { entries } = await spool.list()
    assert.equal(entries.length, 1)
    assert.equal(entries[0]?.bytes, 7)
    assert.equal(Buffer.from((await spool.read(second.id))!).toString(), 'second!')
  })

  test('update records attempts; it does not bring back an entry another process removed', async () => {
    const spool = new Spool(join(root, 'c'))
    const entry = await spool.add(file('k'), Buffer.from('x'))
    assert.equal(await spool.update({ ...entry, attempts: 2, lastError: 'unreachable: down' }), true)
    assert.equal((await spool.list()).entries[0]?.lastError, 'unreachable: down')
    await spool.remove(entry.id)
    assert.equal(await spool.update({ ...entry, attempts: 3 }), false)
    assert.deepEqual(await readdir(spool.dir), [])
    assert.equal(await spool.read(entry.id), null)
  })

  test('unreadable metadata is reported, not dropped; entries list oldest first', async () => {
    const spool = new Spool(join(root, 'd'))
    await spool.add(file('late'), Buffer.from('x'), new Date('2024-01-02T00:00:00Z'))
    await spool.add(file('early'), Buffer.from('x'), new Date('2024-01-01T00:00:00Z'))
    await writeFile(join(spool.dir, 'junk.json'), '{not json')
    const { entries, broken } = await spool.list()
    assert.deepEqual(
      entries.map((e) => e.key),
      ['early', 'late'],
    )
    assert.equal(broken.length, 1)
    assert.match(broken[0]!, /junk\.json/)
  })

  test('sweep removes old crash debris only', async () => {
    const spool = new Spool(join(root, 'e'))
    const kept = await spool.add(file('k'), Buffer.from('x'))
    const old = new Date(Date.now() - 2 * 3600_000)
    await writeFile(join(spool.dir, 'orphan.data'), 'x')
    await writeFile(join(spool.dir, '.abc.json.0123456789ab.tmp'), 'x')
    await writeFile(join(spool.dir, 'fresh.data'), 'x')
    await utimes(join(spool.dir, 'orphan.data'), old, old)
    await utimes(join(spool.dir, '.abc.json.0123456789ab.tmp'), old, old)
    assert.equal(await spool.sweep(), 2)
    assert.deepEqual(
      (await readdir(spool.dir)).sort(),
      [`${kept.id}.data`, `${kept.id}.json`, 'fresh.data'].sort(),
    )
  })
})
