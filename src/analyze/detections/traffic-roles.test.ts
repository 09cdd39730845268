import assert from 'node:assert/strict'
import { test } from 'node:test'
import { toFlow } from '../flow.js'
import { row } from '../test-rows.js'
import { isReply } from './traffic-roles.js'

const cases: { name: string; spec: Parameters<typeof row>[0]; reply: boolean }[] = [
  {
    name: 'SYN-ACK is the answer',
    spec: { src: '10.0.0.1', dst: '1.2.3.4', sport: 50000, dport: 80, flags: 18 },
    reply: true,
  },
  {
    name: 'SYN-ACK with FIN (NHN: both sides of a short connection) leaves it to the ports',
    spec: { src: '1.2.3.4', dst: '10.0.0.1', sport: 50000, dport: 22, flags: 19 },
    reply: false,
  },
  {
    name: 'a bare SYN is the request, whatever the ports',
    spec: { src: '1.2.3.4', dst: '10.0.0.1', sport: 53, dport: 8080, flags: 2 },
    reply: false,
  },
  {
    name: 'no flags: from the service port to an ephemeral one',
    spec: { src: '10.0.0.1', dst: '1.2.3.4', sport: 443, dport: 51000 },
    reply: true,
  },
  {
    name: 'no flags: to the service port',
    spec: { src: '1.2.3.4', dst: '10.0.0.1', sport: 51000, dport: 443 },
    reply: false,
  },
  {
    name: 'rejected traffic is never an answer',
    spec: { src: '1.2.3.4', dst: '10.0.0.1', sport: 22, dport: 50000, action: 'REJECT' },
    reply: false,
  },
  {
    name: 'ICMP has no ports: a request',
    spec: { src: '1.2.3.4', dst: '10.0.0.1', sport: 0, dport: 0, proto: 1 },
    reply: false,
  },
  {
    name: 'UDP DNS answer',
    spec: { src: '10.0.0.2', dst: '10.0.1.5', sport: 53, dport: 40000, proto: 17 },
    reply: true,
  },
]

for (const c of cases) {
  test(`isReply: ${c.name}`, () => assert.equal(isReply(toFlow(row(c.spec))), c.reply))
}
