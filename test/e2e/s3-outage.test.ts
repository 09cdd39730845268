import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { LINKTYPE } from '../../src/core/frame.js'
import { Spool, type SpoolEntry } from '../../src/deliver/spool.js'
import { listFiles } from '../support/cli.js'
import { type PcapPacket, pcapBytes } from '../support/pcap-writer.js'
import { runFlowlogAsync, S3TestServer, startFlowlog, waitFor } from '../support/s3-server.js'

/**
 * Nothing is lost through an outage or a crash (DESIGN 9): a replay whose S3 server goes away and
 * comes back mid-run, and a replay killed with files in its spool. The capture is synthetic: one
 * UDP packet per second and a 1-second flow log, so every packet closes a window and the test
 * decides, packet by packet, when files are made.
 */

// 2024-06-01T12:00:00Z
const T0 = 1_717_243_200
const config = (prefix: string) => `
account: "123456789012"
region: kr1
vpcs:
  - id: vpc-1
    cidrs: [10.0.0.0/16]
    subnets: [{ id: subnet-1, cidrs: [10.0.1.0/24] }]
securityGroups:
  - id: sg-open
    inbound: [{ protocol: all, source: 0.0.0.0/0 }]
    outbound: [{ protocol: all, destination: 0.0.0.0/0 }]
interfaces:
  - { id: eni-a, subnet: subnet-1, addresses: [10.0.1.10], securityGroups: [sg-open] }
flowLogs:
  - id: fl-1s
    resource: vpc-1
    aggregationInterval: 1
    destination: s3://logs/${prefix}
s3:
  forcePathStyle: true
`

/** A raw-IP UDP packet 203.0.113.5:(5000+k) -> 10.0.1.10:53 at second k (+0.5 s). */
function packet(k: number): PcapPacket {
  const data = new Uint8Array(28 + 4)
  const v = new DataView(data.buffer)
  v.setUint8(0, 0x45)
  v.setUint16(2, data.length)
  v.setUint8(8, 64)
  v.setUint8(9, 17)
  data.set([203, 0, 113, 5], 12)
  data.set([10, 0, 1, 10], 16)
  v.setUint16(20, 5000 + k)
  v.setUint16(22, 53)
  v.setUint16(24, 12)
  return { data, time: T0 + k + 0.5 }
}

/** Packets k in [from, to), as pcap records (the file header only with `from === 0`). */
function capture(from: number, to: number): Uint8Array {
  const packets = Array.from({ length: to - from }, (_, i) => packet(from + i))
  const bytes = pcapBytes(packets, { linkType: LINKTYPE.RAW })
  return from === 0 ? bytes : bytes.subarray(24)
}

async function spoolEntries(dir: string): Promise<SpoolEntry[]> {
  return (await new Spool(dir).list()).entries
}

describe('no file is lost through an S3 outage or a kill -9', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-s3-outage-'))
  const configFor = (prefix: string) => {
    const path = join(dir, `${prefix}.yaml`)
    writeFileSync(path, config(prefix))
    return path
  }
  let server: S3TestServer

  before(async () => {
    server = await S3TestServer.start(['logs'])
  })
  after(async () => {
    await server.stop()
  })

  /** The objects a replay of packets 0..n-1 must leave: the same keys and bytes as a local run. */
  async function expectDelivered(n: number, prefix: string): Promise<void> {
    const config = configFor(prefix)
    const path = join(dir, `capture-${n}.pcap`)
    writeFileSync(path, capture(0, n))
    const reference = join(dir, `reference-${n}`)
    const local = await runFlowlogAsync(
      ['replay', '--config', config, '--out', reference, path],
      server.env(),
    )
    assert.equal(local.code, 0, local.stderr)
    const files = listFiles(reference)
    assert.equal(files.length, n, 'one file per 1-second window')
    const keys = await server.keys('logs', `${prefix}/`)
    assert.deepEqual(
      keys,
      files.map((f) => `${prefix}/${f}`),
      'every window exactly once',
    )
    for (const f of files) {
      assert.deepEqual(await server.get('logs', `${prefix}/${f}`), readFileSync(join(reference, f)))
    }
  }

  test('the server stops mid-replay and comes back: every file arrives exactly once', async () => {
    const fifo = join(dir, 'live.pcap')
    execFileSync('mkfifo', [fifo])
    const spool = join(dir, 'spool-outage')
    const replay = startFlowlog(
      ['replay', '--config', configFor('outage'), '--spool', spool, '--delivery-timeout', '120s', fifo],
      server.env(),
    )
    const feed = await open(fifo, 'w')
    try {
      // Packets 0-5 close windows 0-2 (a window closes 2 s after its end): delivered while up.
      await feed.write(capture(0, 6))
      await waitFor('3 objects', async () =>
        (await server.keys('logs', 'outage/')).length === 3 ? true : undefined,
      )

      // Outage: windows 3-6 are finished while the server is down, and wait in the spool.
      await server.stop()
      await feed.write(capture(6, 10))
      const waiting = await waitFor('4 failed files in the spool', async () => {
        const entries = await spoolEntries(spool)
        return entries.length === 4 && entries.every((e) => e.attempts >= 1) ? entries : undefined
      })
      assert.ok(
        waiting.every((e) => /unreachable: cannot reach http:\/\/127\.0\.0\.1:\d+/.test(e.lastError ?? '')),
      )

      // Back on the same port; the rest of the capture, then its end.
      await server.resume()
      await feed.write(capture(10, 15))
    } finally {
      await feed.close()
    }
    const result = await replay.done
    assert.equal(result.code, 0, result.stdout + result.stderr)
    assert.match(
      result.stdout,
      /delivery: 15 file\(s\) delivered, \d+ failed attempt\(s\), 0 file\(s\) waiting/,
    )
    assert.deepEqual(await spoolEntries(spool), [])
    await expectDelivered(15, 'outage')
  })

  test('kill -9 with files in the spool, then `flowlog spool deliver` delivers them', async () => {
    const path = join(dir, 'six.pcap')
    writeFileSync(path, capture(0, 6))
    const spool = join(dir, 'spool-killed')
    await server.stop()
    const replay = startFlowlog(
      ['replay', '--config', configFor('killed'), '--spool', spool, '--delivery-timeout', '10m', path],
      server.env(),
    )
    await waitFor('6 failed files in the spool', async () => {
      const entries = await spoolEntries(spool)
      return entries.length === 6 && entries.every((e) => e.attempts >= 1) ? true : undefined
    })
    replay.child.kill('SIGKILL')
    const killed = await replay.done
    assert.equal(killed.signal, 'SIGKILL')

    const list = await runFlowlogAsync(['spool', 'list', '--spool', spool], server.env())
    assert.equal(list.code, 0, list.stderr)
    assert.match(list.stdout, /6 file\(s\), [\d,]+ bytes waiting/)
    assert.match(list.stdout, /last error: unreachable: cannot reach/)

    // Still down: deliver tries each once, says what is left, exits 2.
    const early = await runFlowlogAsync(['spool', 'deliver', '--spool', spool], server.env())
    assert.equal(early.code, 2, early.stdout + early.stderr)
    assert.match(early.stdout, /delivered 0 of 6 file\(s\)/)

    await server.resume()
    const deliver = await runFlowlogAsync(['spool', 'deliver', '--spool', spool], server.env())
    assert.equal(deliver.code, 0, deliver.stdout + deliver.stderr)
    assert.match(deliver.stdout, /delivered 6 of 6 file\(s\)/)
    assert.deepEqual(
      readdirSync(spool).filter((f) => !f.startsWith('.')),
      [],
    )
    await expectDelivered(6, 'killed')
  })
})
