import assert from 'node:assert/strict'
import { after, describe, type TestContext, test } from 'node:test'
import { Etcd3 } from 'etcd3'
import { EtcdTestCluster, requireEtcd } from '../../test/support/etcd.js'
import { ControlError } from '../control/control-error.js'
import { EtcdStore } from './etcd-store.js'
import type { StoreChange } from './store.js'

/**
 * The etcd backend against a real three-member etcd (Debian's etcd-server): two EtcdStore
 * instances on one prefix are two agents of a fleet.
 */

let shared: EtcdTestCluster | null = null
const opened: EtcdStore[] = []
after(async () => {
  for (const store of opened) await store.close()
  await shared?.destroy()
})

/** The cluster of the tests that do not stop it, started by the first of them. */
async function cluster(t: TestContext): Promise<EtcdTestCluster | null> {
  if (!requireEtcd(t)) return null
  shared ??= await EtcdTestCluster.start(null, { members: 3 })
  return shared
}

let prefixes = 0
/** A prefix of its own for each test, so tests on the shared cluster cannot see each other. */
function freshPrefix(): string {
  prefixes += 1
  return `/flowlog-test-${process.pid}-${prefixes}/`
}

async function open(endpoints: readonly string[], prefix: string): Promise<EtcdStore> {
  const store = await EtcdStore.open({ endpoints, prefix, callTimeoutMs: 1500 })
  opened.push(store)
  return store
}

/** Polls until check() holds (a few seconds at most). */
async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A promise with its resolve function, to hold transactions at a point. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {}
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { opened, open }
}

describe('EtcdStore', () => {
  test('items are JSON under <prefix>v1/<kind>/<id>; reads see the commit as soon as transact returns', async (t) => {
    const etcd = await cluster(t)
    if (etcd === null) return
    const prefix = freshPrefix()
    const store = await open(etcd.endpoints, prefix)
    const seen = await store.transact(async (tx) => {
      tx.put('security-group', 'sg-b', { name: 'b' })
      tx.put('security-group', 'sg-a', { name: 'a' })
      tx.put('client-token', 'token/with/slashes', { ids: ['fl-1'] })
      return { one: await tx.get('security-group', 'sg-a'), all: await tx.list('security-group') }
    })
    assert.deepEqual(seen.one, { name: 'a' })
    assert.deepEqual(
      seen.all.map((i) => i.id),
      ['sg-a', 'sg-b'],
    )
    assert.deepEqual(await store.read((r) => r.list('security-group')), [
      { id: 'sg-a', value: { name: 'a' } },
      { id: 'sg-b', value: { name: 'b' } },
    ])
    assert.deepEqual(await store.read((r) => r.get('client-token', 'token/with/slashes')), { ids: ['fl-1'] })

    // What another etcd client (etcdctl, a backup) sees.
    const raw = new Etcd3({ hosts: etcd.endpoints })
    try {
      const keys = await raw.getAll().prefix(prefix).strings()
      assert.deepEqual(keys, {
        [`${prefix}v1/client-token/token/with/slashes`]: '{"ids":["fl-1"]}',
        [`${prefix}v1/security-group/sg-a`]: '{"name":"a"}',
        [`${prefix}v1/security-group/sg-b`]: '{"name":"b"}',
      })
    } finally {
      raw.close()
    }

    await store.transact(async (tx) => tx.delete('security-group', 'sg-b'))
    assert.equal(await store.read((r) => r.get('security-group', 'sg-b')), undefined)
  })

  test('a throwing transaction writes nothing', async (t) => {
    const etcd = await cluster(t)
    if (etcd === null) return
    const store = await open(etcd.endpoints, freshPrefix())
    await store.transact(async (tx) => tx.put('flow-log', 'fl-1', { n: 1 }))
    await assert.rejects(
      store.transact(async (tx) => {
        tx.put('flow-log', 'fl-1', { n: 2 })
        tx.put('flow-log', 'fl-2', { n: 2 })
        throw new ControlError('InvalidParameterValue', 'half-way')
      }),
      (e: unknown) => e instanceof ControlError && e.code === 'InvalidParameterValue',
    )
    assert.deepEqual(await store.read((r) => r.list('flow-log')), [{ id: 'fl-1', value: { n: 1 } }])
    assert.equal(store.health().ok, true)
  })

  test('two agents editing one item at once: one commits, the other runs again and builds on its write', async (t) => {
    const etcd = await cluster(t)
    if (etcd === null) return
    const prefix = freshPrefix()
    const a = await open(etcd.endpoints, prefix)
    const b = await open(etcd.endpoints, prefix)
    await a.transact(async (tx) => tx.put('security-group', 'sg-1', { rules: [] as string[] }))

    // Both read the group before either commits; each adds its own rule.
    const bothRead = [gate(), gate()]
    const attempts = { a: 0, b: 0 }
    const addRule = (store: EtcdStore, who: 'a' | 'b', i: 0 | 1) =>
      store.transact(async (tx) => {
        attempts[who] += 1
        const group = await tx.get<{ rules: string[] }>('security-group', 'sg-1')
        assert.ok(group)
        bothRead[i]?.open()
        await Promise.all(bothRead.map((g) => g.opened))
        tx.put('security-group', 'sg-1', { rules: [...group.rules, `rule-${who}`] })
      })
    await Promise.all([addRule(a, 'a', 0), addRule(b, 'b', 1)])

    // A transaction reads etcd itself (a's mirror may be a moment behind b's commit).
    const group = await a.transact((tx) => tx.get<{ rules: string[] }>('security-group', 'sg-1'))
    assert.deepEqual(group?.rules.toSorted(), ['rule-a', 'rule-b'], 'neither rule is lost')
    assert.equal(attempts.a + attempts.b, 3, 'exactly one of the two ran again')
  })

  test('a name checked free by listing stays free until the commit: of two creators of one name, one fails', async (t) => {
    const etcd = await cluster(t)
    if (etcd === null) return
    const prefix = freshPrefix()
    const a = await open(etcd.endpoints, prefix)
    const b = await open(etcd.endpoints, prefix)
    const bothListed = [gate(), gate()]
    const create = (store: EtcdStore, id: string, i: 0 | 1) =>
      store.transact(async (tx) => {
        const taken = (await tx.list<{ name: string }>('security-group')).some((g) => g.value.name === 'web')
        bothListed[i]?.open()
        await Promise.all(bothListed.map((g) => g.opened))
        if (taken) throw new ControlError('InvalidGroup.Duplicate', 'web exists')
        tx.put('security-group', id, { name: 'web' })
        return id
      })
    const outcomes = await Promise.allSettled([create(a, 'sg-a', 0), create(b, 'sg-b', 1)])
    assert.deepEqual(outcomes.map((o) => o.status).toSorted(), ['fulfilled', 'rejected'])
    const rejected = outcomes.find((o) => o.status === 'rejected')
    assert.ok(rejected?.status === 'rejected' && rejected.reason instanceof ControlError)
    assert.equal(rejected.reason.code, 'InvalidGroup.Duplicate')
    assert.equal((await a.read((r) => r.list('security-group'))).length, 1)
  })

  test("an agent's watch hears every other agent's commits, one batch per commit", async (t) => {
    const etcd = await cluster(t)
    if (etcd === null) return
    const prefix = freshPrefix()
    const a = await open(etcd.endpoints, prefix)
    const b = await open(etcd.endpoints, prefix)
    const heard: StoreChange[][] = []
    b.watch((changes) => heard.push(changes))
    await a.transact(async (tx) => {
      tx.put('flow-log', 'fl-1', { n: 1 })
      tx.put('attachment', 'eni-1', ['sg-1'])
    })
    await a.transact(async (tx) => tx.delete('flow-log', 'fl-1'))
    await eventually('b to hear both commits', () => heard.length === 2)
    assert.deepEqual(
      heard[0]?.toSorted((x, y) => x.kind.localeCompare(y.kind)),
      [
        { kind: 'attachment', id: 'eni-1', value: ['sg-1'] },
        { kind: 'flow-log', id: 'fl-1', value: { n: 1 } },
      ],
    )
    assert.deepEqual(heard[1], [{ kind: 'flow-log', id: 'fl-1', value: undefined }])
    assert.deepEqual(await b.read((r) => r.list('attachment')), [{ id: 'eni-1', value: ['sg-1'] }])
  })

  test('stores on different prefixes share a cluster without seeing each other', async (t) => {
    const etcd = await cluster(t)
    if (etcd === null) return
    const a = await open(etcd.endpoints, freshPrefix())
    const b = await open(etcd.endpoints, freshPrefix())
    await a.transact(async (tx) => tx.put('topology', 'hv-01', { interfaces: [] }))
    assert.deepEqual(await b.read((r) => r.list('topology')), [])
    assert.deepEqual(await b.transact((tx) => tx.list('topology')), [])
  })
})

describe('EtcdStore when etcd fails', () => {
  test('etcd down: writes refused at once with ServiceUnavailable, reads serve the last state; back: both agents resync', async (t) => {
    if (!requireEtcd(t)) return
    const etcd = await EtcdTestCluster.start(t, { members: 1 })
    const prefix = freshPrefix()
    const a = await open(etcd.endpoints, prefix)
    const b = await open(etcd.endpoints, prefix)
    await a.transact(async (tx) => tx.put('security-group', 'sg-1', { rules: ['22'] }))
    await eventually(
      'b to see sg-1',
      async () => (await b.read((r) => r.get('security-group', 'sg-1'))) !== undefined,
    )

    await etcd.stop()
    for (const store of [a, b]) {
      const started = Date.now()
      await assert.rejects(
        store.transact(async (tx) => tx.put('security-group', 'sg-2', { rules: [] })),
        (e: unknown) => e instanceof ControlError && e.code === 'ServiceUnavailable' && e.httpStatus === 503,
      )
      assert.ok(Date.now() - started < 3000, `refused within the call deadline (${Date.now() - started} ms)`)
      const health = store.health()
      assert.equal(health.ok, false)
      assert.match(health.reason ?? '', /unreachable since \d{4}-\d\d-\d\dT/)
      assert.deepEqual(await store.read((r) => r.get('security-group', 'sg-1')), { rules: ['22'] })
    }

    await etcd.start()
    await eventually('both agents to find etcd again', () => a.health().ok && b.health().ok)
    const heard: StoreChange[][] = []
    a.watch((changes) => heard.push(changes))
    await b.transact(async (tx) => tx.put('security-group', 'sg-1', { rules: ['22', '443'] }))
    await eventually('a to hear b', () => heard.length === 1)
    assert.deepEqual(heard[0], [{ kind: 'security-group', id: 'sg-1', value: { rules: ['22', '443'] } }])
  })

  test('an agent cut off from etcd while another writes sees the change when it is back, even after a compaction', async (t) => {
    if (!requireEtcd(t)) return
    const etcd = await EtcdTestCluster.start(t, { members: 3 })
    const [m0, m1, m2] = etcd.endpoints
    assert.ok(m0 && m1 && m2)
    const prefix = freshPrefix()
    // b reaches etcd only through member 0; a through the other two.
    const a = await open([m1, m2], prefix)
    const b = await open([m0], prefix)
    await a.transact(async (tx) => {
      tx.put('security-group', 'sg-1', { rules: ['22'] })
      tx.put('security-group', 'sg-gone', { rules: [] })
    })
    await eventually(
      'b to see both groups',
      async () => (await b.read((r) => r.list('security-group'))).length === 2,
    )
    const heard: StoreChange[][] = []
    b.watch((changes) => heard.push(changes))

    await etcd.stopMember(0)
    await eventually('b to notice', () => !b.health().ok)
    // The two other members are a quorum: a writes on.
    await a.transact(async (tx) => {
      tx.put('security-group', 'sg-1', { rules: ['22', '443'] })
      tx.delete('security-group', 'sg-gone')
    })
    // And etcd forgets the history of those writes, so only a re-read can find them.
    const raw = new Etcd3({ hosts: [m1] })
    try {
      const revision = (await raw.kv.range({ key: Buffer.from(prefix) })).header.revision
      await raw.kv.compact({ revision, physical: true })
    } finally {
      raw.close()
    }
    assert.deepEqual(
      await b.read((r) => r.get('security-group', 'sg-1')),
      { rules: ['22'] },
      'b still has the old state',
    )

    await etcd.startMember(0)
    await eventually('b to be back and resynced', () => b.health().ok && heard.length > 0, 15_000)
    const changes = heard.flat().toSorted((x, y) => x.id.localeCompare(y.id))
    assert.deepEqual(changes, [
      { kind: 'security-group', id: 'sg-1', value: { rules: ['22', '443'] } },
      { kind: 'security-group', id: 'sg-gone', value: undefined },
    ])
    assert.deepEqual(await b.read((r) => r.list('security-group')), [
      { id: 'sg-1', value: { rules: ['22', '443'] } },
    ])
    // And its watch runs again: a's next write reaches it.
    await a.transact(async (tx) => tx.put('attachment', 'eni-1', ['sg-1']))
    await eventually(
      'b to hear the next write',
      async () => (await b.read((r) => r.get('attachment', 'eni-1'))) !== undefined,
    )
  })
})
