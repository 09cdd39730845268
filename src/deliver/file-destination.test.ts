import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { gunzipSync } from 'node:zlib'
import { DeliveryError, InputError } from '../core/errors.js'
import { compress } from './compression.js'
import { FileDestination } from './file-destination.js'
import { destinationFor } from './registry.js'
import { S3Destination } from './s3-destination.js'

describe('FileDestination', () => {
  let root = ''
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'flowlog-deliver-'))
  })
  after(async () => {
    await rm(root, { recursive: true, force: true })
  })

  test('put creates the directories and locate names the file', async () => {
    const destination = new FileDestination(root)
    const key = 'AWSLogs/1/vpcflowlogs/kr1/2024/09/01/a.log'
    await destination.put(key, Buffer.from('hello\n'))
    assert.equal(destination.locate(key), join(root, key))
    assert.equal(await readFile(join(root, key), 'utf8'), 'hello\n')
    assert.equal(destination.description, pathToFileURL(root).href)
  })

  test('overwriting a key leaves one file with the new content and no temporaries', async () => {
    const destination = new FileDestination(root)
    await destination.put('x/same.log', Buffer.from('first'))
    await destination.put('x/same.log', Buffer.from('second'))
    assert.deepEqual(await readdir(join(root, 'x')), ['same.log'])
    assert.equal(await readFile(join(root, 'x', 'same.log'), 'utf8'), 'second')
  })

  test('a reader never sees a partial file: the data goes to a temporary name first', async () => {
    const destination = new FileDestination(root)
    const key = 'atomic/big.log'
    await destination.put(key, Buffer.alloc(10, 'a'))
    const big = Buffer.alloc(8 << 20, 'b')
    const seen = new Set<number>()
    let writing = true
    const watcher = (async () => {
      while (writing) {
        seen.add((await readFile(join(root, key))).length)
        for (const name of await readdir(join(root, 'atomic'))) {
          if (name !== 'big.log') assert.match(name, /^\.big\.log\.[0-9a-f]{12}\.tmp$/)
        }
      }
    })()
    await destination.put(key, big)
    writing = false
    await watcher
    for (const size of seen) assert.ok(size === 10 || size === big.length, `saw a ${size}-byte file`)
    assert.deepEqual(await readdir(join(root, 'atomic')), ['big.log'])
  })

  test('a failed put reports a DeliveryError and leaves no temporary', async () => {
    const destination = new FileDestination(root)
    await writeFile(join(root, 'blocker'), 'a file where a directory should be')
    await assert.rejects(
      destination.put('blocker/sub/a.log', Buffer.from('x')),
      (error: unknown) => error instanceof DeliveryError && error.key === 'blocker/sub/a.log',
    )
    // The rename fails (a non-empty directory holds the name) after the temporary was written.
    await mkdir(join(root, 'taken', 'name.log', 'inside'), { recursive: true })
    await assert.rejects(destination.put('taken/name.log', Buffer.from('x')), DeliveryError)
    assert.deepEqual(await readdir(join(root, 'taken')), ['name.log'])
    await assert.rejects(destination.put('../escape.log', Buffer.from('x')), DeliveryError)
  })

  test('a relative root is refused', () => {
    assert.throws(() => new FileDestination('relative/dir'), InputError)
  })
})

describe('destinationFor', () => {
  test('file:// URLs become FileDestinations', () => {
    const destination = destinationFor('file:///var/lib/flowlog/logs')
    assert.ok(destination instanceof FileDestination)
    assert.equal(destination.locate('a/b.log'), '/var/lib/flowlog/logs/a/b.log')
  })

  test('s3:// URLs become S3Destinations; other schemes are wrong', () => {
    const s3 = destinationFor('s3://bucket/prefix')
    assert.ok(s3 instanceof S3Destination)
    assert.equal(s3.locate('prefix/a/b.log.gz'), 's3://bucket/prefix/a/b.log.gz')
    assert.throws(() => destinationFor('http://example.com/x'), InputError)
    assert.throws(() => destinationFor('file://host/dir'), InputError)
  })
})

describe('compression', () => {
  const body = Buffer.from('version account-id\n2 123456789010\n'.repeat(100))

  test('gzip round-trips; none is the body itself', () => {
    assert.deepEqual(gunzipSync(compress(body, 'gzip')), body)
    assert.equal(compress(body, 'none'), body)
  })

  test('a gzipped file written and read back is the same text', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowlog-gzip-'))
    try {
      const destination = new FileDestination(root)
      await destination.put('f.log.gz', compress(body, 'gzip'))
      assert.deepEqual(gunzipSync(await readFile(join(root, 'f.log.gz'))), body)
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})
