import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import Database from 'better-sqlite3'
import { SCHEMA_VERSION, SqliteStore, STATE_FILE } from './sqlite-store.js'
import type { StoreChange } from './store.js'

const dirs: string[] = []
function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-store-'))
  dirs.push(dir)
  return dir
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('SqliteStore', () => {
  test('a transaction commits its writes; reads inside it see them first', async () => {
    const store = SqliteStore.open(stateDir())
    const seen = await store.transact(async (tx) => {
      tx.put('security-group', 'sg-b', { name: 'b' })
      tx.put('security-group', 'sg-a', { name: 'a' })
      return { one: await tx.get('security-group', 'sg-a'), all: await tx.list('security-group') }
    })
    assert.deepEqual(seen.one, { name: 'a' })
    assert.deepEqual(
      seen.all.map((i) => i.id),
      ['sg-a', 'sg-b'],
    )
    const listed = await store.read((r) => r.list<{ name: string }>('security-group'))
    assert.deepEqual(listed, [
      { id: 'sg-a', value: { name: 'a' } },
      { id: 'sg-b', value: { name: 'b' } },
    ])
    await store.close()
  })

  test('a throwing transaction leaves nothing behind and tells no watcher', async () => {
    const store = SqliteStore.open(stateDir())
    await store.transact(async (tx) => tx.put('flow-log', 'fl-1', { n: 1 }))
    const heard: StoreChange[][] = []
    store.watch((changes) => heard.push(changes))
    await assert.rejects(
      store.transact(async (tx) => {
        tx.put('flow-log', 'fl-1', { n: 2 })
        tx.put('flow-log', 'fl-2', { n: 2 })
        tx.delete('flow-log', 'fl-1')
        throw new Error('half-way')
      }),
      /half-way/,
    )
    assert.deepEqual(await store.read((r) => r.list('flow-log')), [{ id: 'fl-1', value: { n: 1 } }])
    assert.deepEqual(heard, [])
    await store.close()
  })

  test('watchers hear each commit once, after it, with puts and deletes', async () => {
    const store = SqliteStore.open(stateDir())
    const heard: StoreChange[][] = []
    const stop = store.watch((changes) => heard.push(changes))
    await store.transact(async (tx) => {
      tx.put('flow-log', 'fl-1', { n: 1 })
      tx.put('attachment', 'eni-1', ['sg-a'])
    })
    await store.transact(async (tx) => tx.delete('flow-log', 'fl-1'))
    await store.transact(async () => undefined)
    stop()
    await store.transact(async (tx) => tx.put('flow-log', 'fl-9', {}))
    assert.deepEqual(heard, [
      [
        { kind: 'flow-log', id: 'fl-1', value: { n: 1 } },
        { kind: 'attachment', id: 'eni-1', value: ['sg-a'] },
      ],
      [{ kind: 'flow-log', id: 'fl-1', value: undefined }],
    ])
    await store.close()
  })

  test('transactions run one after another, each seeing the last one commit', async () => {
    const store = SqliteStore.open(stateDir())
    await store.transact(async (tx) => tx.put('status', 'counter', 0))
    await Promise.all(
      Array.from({ length: 20 }, () =>
        store.transact(async (tx) => {
          const n = (await tx.get<number>('status', 'counter')) ?? 0
          await new Promise((resolve) => setImmediate(resolve))
          tx.put('status', 'counter', n + 1)
        }),
      ),
    )
    assert.equal(await store.read((r) => r.get('status', 'counter')), 20)
    await store.close()
  })

  test('the state survives closing and reopening, with its schema version and revisions', async () => {
    const dir = stateDir()
    const first = SqliteStore.open(dir)
    await first.transact(async (tx) => tx.put('security-group', 'sg-1', { rules: [1, 2] }))
    await first.transact(async (tx) => tx.put('flow-log', 'fl-1', { on: true }))
    await first.close()
    assert.deepEqual(first.health(), { ok: false, reason: 'the store is closed' })

    const again = SqliteStore.open(dir)
    assert.deepEqual(await again.read((r) => r.get('security-group', 'sg-1')), { rules: [1, 2] })
    assert.deepEqual(again.health(), { ok: true, reason: null })
    assert.equal(again.description, `sqlite:${join(dir, STATE_FILE)}`)
    await again.close()

    const db = new Database(join(dir, STATE_FILE), { readonly: true })
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION)
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
    const rows = db.prepare('SELECT kind, id, revision FROM resources ORDER BY revision').all()
    assert.deepEqual(rows, [
      { kind: 'security-group', id: 'sg-1', revision: 1 },
      { kind: 'flow-log', id: 'fl-1', revision: 2 },
    ])
    db.close()
  })

  test('a state file from a newer flowlog is refused, not altered', async () => {
    const dir = stateDir()
    const db = new Database(join(dir, STATE_FILE))
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    assert.throws(() => SqliteStore.open(dir), /schema version 2; this flowlog knows up to 1/)
  })

  test('a commit of another process in between makes the transaction run again on the new state', async () => {
    const dir = stateDir()
    const store = SqliteStore.open(dir)
    await store.transact(async (tx) => tx.put('status', 'counter', 1))
    let runs = 0
    await store.transact(async (tx) => {
      runs++
      const n = (await tx.get<number>('status', 'counter')) ?? 0
      if (runs === 1) {
        // Another writer on the same file, as a second process would be.
        const other = SqliteStore.open(dir)
        await other.transact(async (o) => o.put('status', 'counter', 10))
        await other.close()
      }
      tx.put('status', 'counter', n + 1)
    })
    assert.equal(runs, 2)
    assert.equal(await store.read((r) => r.get('status', 'counter')), 11)
    await store.close()
  })
})
