import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { runFlowlog } from '../support/cli.js'
import { repoPath } from '../support/paths.js'

/**
 * No silent nothing: a filter that can never match, a field no file has, an empty input or a
 * config that owns none of the records is said on stderr, and fails a --fail-on-* check.
 */
const LOGS = repoPath('test/fixtures/analysis/logs/normal')
const empty = mkdtempSync(join(tmpdir(), 'flowlog-e2e-empty-'))
after(() => rmSync(empty, { recursive: true, force: true }))
const proposed = join(mkdtempSync(join(tmpdir(), 'flowlog-e2e-groups-')), 'groups.yaml')
writeFileSync(proposed, 'securityGroups:\n  - { id: sg-other, inbound: [], outbound: [] }\n')
/** A network none of whose interfaces is in the logs. */
const OTHER = join(empty, '..', `${empty.split('/').pop()}-other.yaml`)
writeFileSync(
  OTHER,
  `account: "123456789012"
region: kr1
vpcs: [{ id: vpc-other, cidrs: [10.9.0.0/16], subnets: [{ id: subnet-other, cidrs: [10.9.0.0/24] }] }]
securityGroups: [{ id: sg-other, inbound: [{ protocol: tcp, ports: "22", source: 0.0.0.0/0 }] }]
interfaces: [{ id: eni-other, subnet: subnet-other, addresses: [10.9.0.5], securityGroups: [sg-other] }]
`,
)
after(() => rmSync(OTHER, { force: true }))

describe('no silent nothing', () => {
  test('query: a value a field never holds, and a field no file has, are warnings with a suggestion', () => {
    const r = runFlowlog(['query', '--count', '--where', 'action=rejected', LOGS])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '0\n')
    assert.match(
      r.stderr,
      /warning: --where "action=rejected": "rejected" can never match: action is ACCEPT, REJECT or - \(did you mean "REJECT"\?\)/,
    )
    const field = runFlowlog([
      'query',
      '--count',
      '--where',
      'sublocation-id=x',
      '--fields',
      'srcaddr,az-id',
      LOGS,
    ])
    assert.match(
      field.stderr,
      /warning: --where: no source file has the field sublocation-id, so it matches nothing there/,
    )
    assert.match(field.stderr, /warning: --fields: no source file has the field az-id/)
    const typo = runFlowlog(['query', '--fields', 'srcaddr,dstprot', LOGS])
    assert.equal(typo.code, 1)
    assert.match(typo.stderr, /--fields: "dstprot" is not a flow-log field \(did you mean "dstport"\?\)/)
    for (const args of [['query', '--count'], ['sql', 'SELECT count(*) FROM flows'], ['report']]) {
      const none = runFlowlog([...args, empty])
      assert.equal(none.code, 0, none.stderr)
      assert.match(none.stderr, new RegExp(`${args[0]}: warning: no records read from `))
    }
  })

  test('detect on nothing says so, and fails --fail-on-findings', () => {
    const plain = runFlowlog(['detect', empty])
    assert.equal(plain.code, 0)
    assert.match(plain.stderr, /detect: warning: no traffic records in /)
    const failing = runFlowlog(['detect', '--fail-on-findings', empty])
    assert.equal(failing.code, 1)
    assert.match(failing.stderr, /--fail-on-findings: nothing was checked, so the check fails/)
  })

  test('what-if and audit with a config that owns none of the records say so; --fail-on-change fails', () => {
    const w = runFlowlog(['what-if', '--config', OTHER, '--groups', proposed, '--fail-on-change', LOGS])
    assert.equal(w.code, 1, w.stderr)
    assert.match(
      w.stderr,
      /what-if: warning: none of the \d+ record\(s\) is on an interface of .*other\.yaml/,
    )
    const a = runFlowlog(['audit', '--config', OTHER, LOGS])
    assert.equal(a.code, 0, a.stderr)
    assert.match(a.stderr, /audit: warning: none of the \d+ record\(s\) is on an interface/)
  })
})
