import assert from 'node:assert/strict'
import { test } from 'node:test'
import { REJECT_REASON } from '../core/verdict.js'
import { compilePolicy } from '../policy/compile-policy.js'
import { makeNetwork } from '../policy/test-kit.js'
import { toFlow } from './flow.js'
import type { FlowRow } from './flow-row.js'
import { judgeAll, placeFlows } from './rejudge.js'
import { type RowSpec, row } from './test-rows.js'

const network = makeNetwork(
  {
    'sg-web': {
      inbound: [{ id: 'web-https', protocol: 'tcp', ports: '443', peer: '0.0.0.0/0' }],
      outbound: [{ id: 'web-dns', protocol: 'udp', ports: '53', peer: '10.0.0.2/32' }],
    },
  },
  [{ id: 'eni-web', addresses: ['10.0.1.10'], groups: ['sg-web'] }],
)
const policy = compilePolicy(network)
const web = '10.0.1.10'
const client = '203.0.113.5'
const NOT_ESTABLISHED = -(REJECT_REASON.NOT_ESTABLISHED + 1)
const NO_RULE = -(REJECT_REASON.NO_MATCHING_RULE + 1)
const at = (spec: RowSpec): FlowRow => row({ iface: 'eni-web', ...spec })

/** Verdicts by record, in input order: rule id or reject reason. */
function replay(rows: FlowRow[]): (string | number)[] {
  const flows = rows.map(toFlow)
  const placement = placeFlows(flows, network, policy)
  const causes = judgeAll(placement, policy)
  const byFlow = new Map(placement.placed.map((p, i) => [p.flow, causes[i] ?? 0]))
  return flows.map((f) => {
    const cause = byFlow.get(f)
    if (cause === undefined) return 'skipped'
    return cause >= 0 ? (policy.ruleIds[cause] ?? '?') : cause
  })
}

const request = { src: client, dst: web, sport: 40000, dport: 443 }
const answer = { src: web, dst: client, sport: 443, dport: 40000 }

const cases: { name: string; rows: FlowRow[]; expect: (string | number)[] }[] = [
  {
    name: 'the answer, read first in the same second, rides on the request (SYN before SYN-ACK)',
    rows: [
      at({ ...answer, flags: 18, direction: 'egress' }),
      at({ ...request, flags: 2, direction: 'ingress' }),
    ],
    expect: ['web-https', 'web-https'],
  },
  {
    name: 'without flags or direction: ports and addresses tell',
    rows: [at(answer), at(request)],
    expect: ['web-https', 'web-https'],
  },
  {
    name: 'an answer with no request is judged as new traffic',
    rows: [at({ ...answer, direction: 'egress' })],
    expect: [NO_RULE],
  },
  {
    name: 'a packet after the RST is not-established',
    rows: [
      at({ ...request, flags: 2, direction: 'ingress' }),
      at({ ...answer, flags: 22, direction: 'egress' }),
      at({ ...answer, at: 60, flags: 0, direction: 'egress' }),
    ],
    expect: ['web-https', 'web-https', NOT_ESTABLISHED],
  },
  {
    name: 'a UDP stream logged in 600-s windows stays open through its records',
    rows: [
      at({
        src: web,
        dst: '10.0.0.2',
        sport: 5353,
        dport: 53,
        proto: 17,
        duration: 590,
        direction: 'egress',
      }),
      at({
        src: '10.0.0.2',
        dst: web,
        sport: 53,
        dport: 5353,
        proto: 17,
        at: 2,
        duration: 588,
        direction: 'ingress',
      }),
      at({
        src: '10.0.0.2',
        dst: web,
        sport: 53,
        dport: 5353,
        proto: 17,
        at: 600,
        duration: 30,
        direction: 'ingress',
      }),
    ],
    expect: ['web-dns', 'web-dns', 'web-dns'],
  },
  {
    name: 'records of interfaces the config does not have are skipped',
    rows: [row({ ...request, iface: 'eni-other' })],
    expect: ['skipped'],
  },
]

for (const c of cases) {
  test(`rejudge: ${c.name}`, () => assert.deepEqual(replay(c.rows), c.expect))
}
