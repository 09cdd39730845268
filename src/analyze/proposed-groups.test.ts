import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { InputError } from '../core/errors.js'
import { makeNetwork } from '../policy/test-kit.js'
import { loadProposedGroups } from './proposed-groups.js'

const network = makeNetwork(
  {
    'sg-a': { inbound: [{ id: 'a-ssh', protocol: 'tcp', ports: '22', peer: '0.0.0.0/0' }] },
    'sg-b': { inbound: [{ id: 'b-web', protocol: 'tcp', ports: '443', peer: 'sg-a' }] },
  },
  [{ id: 'eni-1', addresses: ['10.0.0.1'], groups: ['sg-a', 'sg-b'] }],
)
const dir = mkdtempSync(join(tmpdir(), 'flowlog-proposed-'))
let n = 0
const file = (text: string, ext = 'yaml') => {
  const path = join(dir, `p${n++}.${ext}`)
  writeFileSync(path, text)
  return path
}

test('proposed groups: a bare list replaces its groups by id and keeps the others', () => {
  const p = loadProposedGroups(
    file('- id: sg-a\n  inbound:\n    - { id: a-ssh, protocol: tcp, ports: "22", source: 203.0.113.0/24 }\n'),
    network,
  )
  assert.deepEqual(p.proposed, ['sg-a'])
  assert.deepEqual(
    p.network.securityGroups.map((g) => g.id),
    ['sg-a', 'sg-b'],
  )
  assert.equal(p.network.securityGroups[0]?.inbound[0]?.peer, '203.0.113.0/24')
  assert.equal(p.network.securityGroups[1]?.inbound[0]?.peer, 'sg-a', 'sg-b is unchanged')
  assert.deepEqual(p.network.interfaces, network.interfaces)
})

test('proposed groups: securityGroups: form, JSON too; a new group on no interface is noted', () => {
  const p = loadProposedGroups(file('{"securityGroups": [{"id": "sg-new", "inbound": []}]}', 'json'), network)
  assert.deepEqual(p.unattached, ['sg-new'])
})

const bad: { name: string; text: string; message: RegExp }[] = [
  {
    name: 'a bad port range, with the path in the proposed file',
    text: '- id: sg-a\n  inbound:\n    - { protocol: tcp, ports: "99999", source: 0.0.0.0/0 }\n',
    message: /securityGroups\[0\]\.inbound\[0\]\.ports: "99999" is not a port range 0-65535/,
  },
  {
    name: 'an unknown key in a rule',
    text: '- id: sg-a\n  inbound:\n    - { protocol: tcp, port: "22", source: 0.0.0.0/0 }\n',
    message: /securityGroups\[0\]\.inbound\[0\]\.port: unknown key \(did you mean "ports"\?\)/,
  },
  {
    name: 'a reference to a group that exists nowhere',
    text: '- id: sg-a\n  inbound:\n    - { protocol: all, source: sg-nope }\n',
    message: /"sg-nope" is not a security group defined in securityGroups/,
  },
  {
    name: 'a rule id another group already has',
    text: '- id: sg-c\n  inbound:\n    - { id: b-web, protocol: all, source: 0.0.0.0/0 }\n',
    message: /"b-web" is already the id of/,
  },
  {
    name: 'another top-level key',
    text: 'securityGroups: []\ninterfaces: []\n',
    message: /unknown key "interfaces"/,
  },
  { name: 'nothing proposed', text: 'securityGroups: []\n', message: /proposes no security groups/ },
  { name: 'an empty file', text: '', message: /the file is empty/ },
  { name: 'YAML syntax', text: '- id: [sg-a\n', message: /p\d+\.yaml:\d+:\d+:/ },
]

for (const c of bad) {
  test(`proposed groups: refused: ${c.name}`, () => {
    assert.throws(
      () => loadProposedGroups(file(c.text), network),
      (e: unknown) => e instanceof InputError && c.message.test(e.message),
    )
  })
}
