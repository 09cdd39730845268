import { test } from 'node:test'
import type { FlowRow } from '../flow-row.js'
import { rows } from '../test-rows.js'
import { assertFindings, type Expected, findings } from './test-detect.js'
import type { Thresholds } from './thresholds.js'

const attacker = '203.0.113.99'
/** `n` connections to `port`, one every `every` s, each `packets` packets from the client. */
const attempts = (
  n: number,
  opts: { port?: number; every?: number; packets?: number; action?: 'ACCEPT' | 'REJECT'; src?: string } = {},
) =>
  rows(n, (i) => ({
    src: opts.src ?? attacker,
    dst: '10.0.1.10',
    sport: 40000 + i,
    dport: opts.port ?? 22,
    at: i * (opts.every ?? 10),
    packets: opts.packets ?? 15,
    action: opts.action ?? 'ACCEPT',
  }))

const cases: {
  name: string
  detection: 'ssh-brute-force' | 'rdp-brute-force'
  rows: FlowRow[]
  change?: (t: Thresholds) => void
  expect: Expected[]
}[] = [
  {
    name: '25 short accepted SSH logins in 4 min',
    detection: 'ssh-brute-force',
    rows: attempts(25),
    expect: [{ source: attacker, counts: { attempts: 25, accepted: 25 }, severity: 'high' }],
  },
  {
    name: 'rejected RDP attempts are medium (the group blocks them)',
    detection: 'rdp-brute-force',
    rows: attempts(20, { port: 3389, action: 'REJECT', packets: 3 }),
    expect: [{ source: attacker, counts: { attempts: 20, rejected: 20 }, severity: 'medium' }],
  },
  {
    name: '19 attempts is below the default 20',
    detection: 'ssh-brute-force',
    rows: attempts(19),
    expect: [],
  },
  {
    name: '20 attempts over an hour are not 20 in 10 minutes',
    detection: 'ssh-brute-force',
    rows: attempts(20, { every: 180 }),
    expect: [],
  },
  {
    name: 'long sessions are work, not guesses',
    detection: 'ssh-brute-force',
    rows: attempts(30, { packets: 500 }),
    expect: [],
  },
  {
    name: 'thresholds are configurable',
    detection: 'ssh-brute-force',
    rows: attempts(8),
    change: (t) => {
      t.bruteForce.minAttempts = 5
    },
    expect: [{ source: attacker, counts: { attempts: 8 } }],
  },
  {
    name: 'SSH on another port when told',
    detection: 'ssh-brute-force',
    rows: attempts(25, { port: 2222 }),
    change: (t) => {
      t.bruteForce.sshPorts = [22, 2222]
    },
    expect: [{ source: attacker }],
  },
  {
    name: 'retransmitted SYNs of one connection are one attempt',
    detection: 'ssh-brute-force',
    rows: rows(30, (i) => ({
      src: attacker,
      dst: '10.0.1.10',
      sport: 40000,
      dport: 22,
      at: i,
      action: 'REJECT',
    })),
    expect: [],
  },
]

for (const c of cases) {
  test(`${c.detection}: ${c.name}`, async () => {
    assertFindings(await findings(c.detection, c.rows, c.change), c.expect)
  })
}
