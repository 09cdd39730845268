import { test } from 'node:test'
import type { FlowRow } from '../flow-row.js'
import { rows } from '../test-rows.js'
import { assertFindings, type Expected, findings } from './test-detect.js'

const sweeper = '192.0.2.44'
const sweep = (
  hosts: number,
  opts: { port?: number; proto?: number; action?: 'ACCEPT' | 'REJECT'; src?: string } = {},
) =>
  rows(hosts, (i) => ({
    src: opts.src ?? sweeper,
    dst: `10.0.1.${100 + i}`,
    sport: 60001,
    dport: opts.port ?? 23,
    proto: opts.proto ?? 6,
    at: i * 3,
    action: opts.action ?? 'REJECT',
  }))

const cases: { name: string; rows: FlowRow[]; expect: Expected[] }[] = [
  {
    name: 'telnet on 30 hosts, rejected',
    rows: sweep(30),
    expect: [{ source: sweeper, counts: { hosts: 30, ports: 1 }, severity: 'medium' }],
  },
  {
    name: 'a ping sweep',
    rows: sweep(12, { proto: 1, port: 0 }),
    expect: [{ source: sweeper, counts: { hosts: 12 } }],
  },
  {
    name: 'two ports swept make one finding',
    rows: [...sweep(15), ...sweep(15, { port: 445 })],
    expect: [{ source: sweeper, counts: { ports: 2, hosts: 15 } }],
  },
  { name: '9 hosts is below the default 10', rows: sweep(9), expect: [] },
  {
    // The fewest hosts and rejected hosts there can be (what picks the candidates must keep it).
    name: 'exactly 10 hosts, exactly half rejected',
    rows: [
      ...sweep(5),
      ...rows(5, (i) => ({
        src: sweeper,
        dst: `10.0.1.${110 + i}`,
        sport: 60001,
        dport: 23,
        at: 15 + i * 3,
      })),
    ],
    expect: [{ source: sweeper, counts: { hosts: 10, rejectedShare: 0.5 } }],
  },
  {
    name: 'monitoring that is let in is not a sweep',
    rows: sweep(40, { port: 9100, action: 'ACCEPT', src: '10.0.2.30' }),
    expect: [],
  },
  {
    name: 'an inside sweeper is high severity',
    rows: sweep(10, { src: '10.0.2.99' }),
    expect: [{ source: '10.0.2.99', severity: 'high' }],
  },
]

for (const c of cases) {
  test(`sweep: ${c.name}`, async () => assertFindings(await findings('sweep', c.rows), c.expect))
}
