import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InputError } from '../core/errors.js'
import { describeDatastore, parseDatastore } from './datastore-url.js'
import { EtcdKeys, prefixRangeEnd } from './etcd-keys.js'

test('etcd:// takes members and an optional prefix (default /flowlog/)', () => {
  assert.deepEqual(parseDatastore('etcd://10.0.0.5:2379,10.0.0.6:2379'), {
    type: 'etcd',
    endpoints: ['http://10.0.0.5:2379', 'http://10.0.0.6:2379'],
    prefix: '/flowlog/',
  })
  assert.deepEqual(parseDatastore('etcd://etcd-1.lan:2379/teams/net'), {
    type: 'etcd',
    endpoints: ['http://etcd-1.lan:2379'],
    prefix: '/teams/net/',
  })
  assert.deepEqual(parseDatastore('etcd://[::1]:2379/'), {
    type: 'etcd',
    endpoints: ['http://[::1]:2379'],
    prefix: '/flowlog/',
  })
  assert.equal(describeDatastore(parseDatastore('etcd://a:1,b:2/x/')), 'etcd://a:1,b:2/x/')
})

test('sqlite: takes the state directory', () => {
  assert.deepEqual(parseDatastore('sqlite:/var/lib/flowlog'), { type: 'sqlite', dir: '/var/lib/flowlog' })
  assert.deepEqual(parseDatastore('sqlite:///var/lib/flowlog'), { type: 'sqlite', dir: '/var/lib/flowlog' })
  assert.deepEqual(parseDatastore('sqlite:state'), { type: 'sqlite', dir: 'state' })
})

test('a bad datastore names the option, the value and the rule', () => {
  const cases: Array<[string, RegExp]> = [
    ['10.0.0.5:2379', /--datastore "10.0.0.5:2379": unknown scheme "10.0.0.5"/],
    ['/var/lib/flowlog', /no scheme/],
    ['etcd://10.0.0.5', /"10.0.0.5" is not HOST:PORT/],
    ['etcd://a:2379,,b:2379', /"" is not HOST:PORT/],
    ['etcd://a:99999', /port 99999 is out of range/],
    ['etcd://a:2379/x//y', /empty segment/],
    ['sqlite:', /no directory/],
    ['redis://a:6379', /unknown scheme "redis".*expected sqlite:DIR or etcd:\/\/HOST:PORT/],
  ]
  for (const [text, message] of cases) {
    assert.throws(
      () => parseDatastore(text),
      (e: unknown) => e instanceof InputError && message.test(e.message),
      text,
    )
  }
})

test('keys are <prefix>v1/<kind>/<id>, and only those parse back', () => {
  const keys = new EtcdKeys('/flowlog/')
  assert.equal(keys.key('security-group', 'sg-1'), '/flowlog/v1/security-group/sg-1')
  assert.deepEqual(keys.parse('/flowlog/v1/client-token/a/b'), { kind: 'client-token', id: 'a/b' })
  assert.equal(keys.parse('/flowlog/v2/flow-log/fl-1'), null)
  assert.equal(keys.parse('/flowlog/v1/nonsense/x'), null)
  assert.equal(keys.parse('/flowlog/v1/flow-log/'), null)
  assert.equal(keys.parse('/other/v1/flow-log/fl-1'), null)
  assert.equal(prefixRangeEnd('/flowlog/v1/').toString(), '/flowlog/v10')
  assert.deepEqual([...prefixRangeEnd('a\u00ff')], [0x61, 0xc3, 0xc0])
})
