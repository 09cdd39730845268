import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { Destination } from '../core/stages.js'
import { DestinationFailure } from './delivery-failure.js'
import { DeliveryStats } from './delivery-stats.js'
import { Spool } from './spool.js'
import { SpoolDeliverer } from './spool-deliverer.js'

/** A store that can be down or refuse, and remembers what it took. */
class FakeStore implements Destination {
  readonly description = 's3://fake'
  state: 'up' | 'down' | 'refusing' = 'up'
  readonly objects = new Map<string, string>()
  puts = 0
  locate(key: string): string {
    return `s3://fake/${key}`
  }
  async put(key: string, body: Uint8Array): Promise<void> {
    this.puts++
    if (this.state === 'down')
      throw new DestinationFailure('unreachable', 'cannot reach it', 's3://fake', key)
    if (this.state === 'refusing')
      throw new DestinationFailure('no-such-bucket', 'no bucket', 's3://fake', key)
    this.objects.set(key, Buffer.from(body).toString())
  }
}

/** Polls a condition (bounded: a stuck deliverer fails the test instead of hanging it). */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in 10 s')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('SpoolDeliverer', () => {
  let root = ''
  let n = 0
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'flowlog-deliverer-'))
  })
  after(async () => {
    await rm(root, { recursive: true, force: true })
  })

  function setup(backoff = { baseMs: 10, maxMs: 40 }) {
    const spool = new Spool(join(root, `s${n++}`))
    const store = new FakeStore()
    const stats = new DeliveryStats()
    const deliverer = new SpoolDeliverer({ spool, stats, destinationOf: () => store, backoff })
    const add = async (key: string) => {
      const entry = await spool.add(
        { destination: 's3://fake', key, s3: null, flowLogId: 'fl', windowStart: 0 },
        Buffer.from(`body of ${key}`),
      )
      stats.fileSpooled(entry.bytes)
      return entry
    }
    return { spool, store, stats, deliverer, add }
  }

  test('delivers at once and empties the spool', async () => {
    const { spool, store, stats, deliverer, add } = setup()
    deliverer.enqueue(await add('a'))
    assert.deepEqual(await deliverer.settle(Date.now() + 10_000), [])
    assert.equal(store.objects.get('a'), 'body of a')
    assert.deepEqual((await spool.list()).entries, [])
    assert.deepEqual([stats.delivered, stats.waiting, stats.retries], [1, 0, 0])
    deliverer.close()
  })

  test('retries an outage with backoff until the store is back, recording each failure', async () => {
    const { spool, store, stats, deliverer, add } = setup()
    store.state = 'down'
    deliverer.enqueue(await add('a'))
    await until(() => store.puts >= 3)
    const listed = (await spool.list()).entries[0]
    assert.ok(listed !== undefined && listed.attempts >= 2 && /unreachable/.test(listed.lastError ?? ''))
    store.state = 'up'
    assert.deepEqual(await deliverer.settle(Date.now() + 10_000), [])
    assert.equal(store.objects.size, 1)
    assert.ok(stats.retries >= 2 && stats.failedAttempts >= 2)
    assert.equal(stats.waiting, 0)
    deliverer.close()
  })

  test('a refusal waits the longest backoff and settle does not wait for it', async () => {
    const { spool, store, stats, deliverer, add } = setup({ baseMs: 10, maxMs: 60_000 })
    store.state = 'refusing'
    deliverer.enqueue(await add('a'))
    const left = await deliverer.settle(Date.now() + 30_000)
    assert.equal(left.length, 1)
    assert.equal(left[0]?.refused, true)
    assert.equal(store.puts, 1)
    assert.equal(stats.refusals, 1)
    assert.equal((await spool.list()).entries[0]?.refused, true)
    deliverer.close()
  })

  test('a success tells the files waiting for the same store to go now', async () => {
    const { store, deliverer, add } = setup({ baseMs: 60_000, maxMs: 60_000 })
    store.state = 'down'
    deliverer.enqueue(await add('a'))
    deliverer.enqueue(await add('b'))
    assert.equal((await deliverer.settle(Date.now() + 5_000)).length, 2)
    store.state = 'up'
    deliverer.enqueue(await add('c'))
    assert.deepEqual(await deliverer.settle(Date.now() + 30_000), [])
    assert.deepEqual([...store.objects.keys()].sort(), ['a', 'b', 'c'])
    deliverer.close()
  })

  test('an entry another process delivered meanwhile is dropped, not put again', async () => {
    const { spool, store, stats, deliverer, add } = setup({ baseMs: 60_000, maxMs: 60_000 })
    store.state = 'down'
    const entry = await add('a')
    deliverer.enqueue(entry)
    await deliverer.settle(Date.now() + 5_000)
    await spool.remove(entry.id)
    store.state = 'up'
    deliverer.retryAllNow()
    assert.deepEqual(await deliverer.settle(Date.now() + 5_000), [])
    assert.equal(store.objects.size, 0)
    assert.equal(stats.waiting, 0)
    deliverer.close()
  })
})
