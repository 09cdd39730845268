import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { readJsonlRecords } from '../support/cli.js'
import {
  collectOutput,
  createLab,
  labConfig,
  logLines,
  requireLab,
  requirePacketRing,
  waitFor,
} from '../support/netns.js'
import { repoPath } from '../support/paths.js'
import { requireCommands } from '../support/requirements.js'

/** Datagrams sent, in bursts, with payloads cycling through these sizes (larger than the snap length too). */
const DATAGRAMS = 3000
const PAYLOADS = [0, 100, 700, 1400]
const PORT = 7777

/**
 * A sender for an instance: DATAGRAMS UDP datagrams from one source port, in bursts of 100 a turn
 * of the event loop apart (the lab's veths queue up to 1000 packets per CPU); once the last is
 * sent it sends SIGTERM to the daemon (argv[3]) at once, while the kernel still fills the ring's
 * last block (it hands a block over 20 ms after its first packet).
 */
const SENDER_JS = `
const s = require('node:dgram').createSocket('udp4')
const [host, count, daemon] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])]
const sizes = ${JSON.stringify(PAYLOADS)}
let sent = 0
s.bind(40000, () => {
  let i = 0
  const burst = () => {
    const end = Math.min(count, i + 100)
    for (; i < end; i++) s.send(Buffer.alloc(sizes[i % sizes.length]), ${PORT}, host, () => {
      if (++sent === count) { process.kill(daemon, 'SIGTERM'); s.close() }
    })
    if (i < count) setTimeout(burst, 1)
  }
  burst()
})
`

test('flowlog run --capture-backend af-packet: records count every UDP datagram and its IP bytes, as tcpdump and tshark see them, also when stopped right after', async (t) => {
  if (!requireLab(t, { libpcap: false })) return
  if (!requirePacketRing(t)) return
  if (!requireCommands(t, 'apt-get install tshark', 'tshark')) return
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-af-packet-'))
  const out = join(dir, 'out')
  const pcap = join(dir, 'b.pcap')
  const lab = createLab('k', ['a', 'b'])
  let daemon: ChildProcess | null = null
  try {
    const [a, b] = lab.instances as [(typeof lab.instances)[0], (typeof lab.instances)[0]]
    const config = join(dir, 'host.yaml')
    writeFileSync(config, labConfig(lab, out))
    // tcpdump alone on b's device, the reference: it stops by itself after the datagrams.
    const dump = lab.start(lab.hv, [
      'tcpdump',
      '-i',
      b.device,
      '-n',
      '-w',
      pcap,
      '-c',
      String(DATAGRAMS),
      'udp',
      'and',
      'dst',
      'port',
      String(PORT),
    ])
    const dumpOutput = collectOutput(dump)
    daemon = lab.start(lab.hv, [
      process.execPath,
      repoPath('bin/flowlog.js'),
      'run',
      '--config',
      config,
      '--no-state',
      '--no-api',
      '--capture-backend',
      'af-packet',
      '--capture-buffer',
      '4',
    ])
    const output = collectOutput(daemon)
    const logs = () => logLines(output.stdout())
    const started = await waitFor('flowlog run to start', () =>
      logs().find((l) => l.msg === 'flowlog run started'),
    )
    assert.equal(started.backend, 'af-packet')
    assert.equal(started.backendReason, '--capture-backend af-packet')
    assert.equal(started.snapLength, 256)
    await waitFor('tcpdump to listen', () =>
      dumpOutput.stderr().includes('listening on') ? true : undefined,
    )

    // `ip netns exec` execs the daemon: its pid is the child's.
    lab.run(a.ns, [process.execPath, '-e', SENDER_JS, b.address, String(DATAGRAMS), String(daemon.pid)])
    const code = await new Promise<number | null>((resolve) => daemon?.once('exit', (c) => resolve(c)))
    assert.equal(code, 0, output.stderr())
    await new Promise((resolve) => (dump.exitCode !== null ? resolve(null) : dump.once('exit', resolve)))

    const stopped = logs().find((l) => l.msg === 'flowlog run stopped')
    assert.equal(stopped?.kernelDrops, 0)
    assert.deepEqual(
      logs().filter((l) => l.msg === 'capture stream problems' || String(l.msg).startsWith('capture ended')),
      [],
    )
    const lengths = spawnSync('tshark', ['-r', pcap, '-T', 'fields', '-e', 'ip.len'], { encoding: 'utf8' })
    assert.equal(lengths.status, 0, lengths.stderr)
    const ipLengths = lengths.stdout.trim().split('\n').map(Number)
    const sentBytes = Array.from({ length: DATAGRAMS }, (_, i) => 28 + (PAYLOADS[i % PAYLOADS.length] ?? 0))
    assert.equal(ipLengths.length, DATAGRAMS, 'tcpdump saw every datagram sent')
    assert.equal(
      ipLengths.reduce((n, x) => n + x, 0),
      sentBytes.reduce((n, x) => n + x, 0),
    )

    const records = readJsonlRecords(out).filter(
      (r) => r['log-status'] === 'OK' && r.protocol === 17 && r.dstport === PORT && r.srcport === 40000,
    )
    const sum = (where: Record<string, unknown>, field: 'packets' | 'bytes') =>
      records
        .filter((r) => Object.entries(where).every(([k, v]) => r[k] === v))
        .reduce((n, r) => n + Number(r[field]), 0)
    for (const side of [
      { 'interface-id': 'eni-b', 'flow-direction': 'ingress' },
      { 'interface-id': 'eni-a', 'flow-direction': 'egress' },
    ]) {
      assert.equal(sum(side, 'packets'), ipLengths.length, `${side['interface-id']} packets`)
      assert.equal(
        sum(side, 'bytes'),
        ipLengths.reduce((n, x) => n + x, 0),
        `${side['interface-id']} bytes (IP lengths, though 256 bytes of each packet were captured)`,
      )
    }
  } finally {
    if (daemon !== null && daemon.exitCode === null) daemon.kill('SIGKILL')
    lab.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('flowlog run --capture-backend af-packet: a device that goes down ends its capture, which opens again once it is up', async (t) => {
  if (!requireLab(t, { libpcap: false })) return
  if (!requirePacketRing(t)) return
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-af-packet-'))
  const out = join(dir, 'out')
  const lab = createLab('j', ['a', 'b'])
  let daemon: ChildProcess | null = null
  try {
    const [a, b] = lab.instances as [(typeof lab.instances)[0], (typeof lab.instances)[0]]
    const config = join(dir, 'host.yaml')
    writeFileSync(config, labConfig(lab, out))
    daemon = lab.start(lab.hv, [
      process.execPath,
      repoPath('bin/flowlog.js'),
      'run',
      '--config',
      config,
      '--no-state',
      '--no-api',
      '--capture-backend',
      'af-packet',
    ])
    const output = collectOutput(daemon)
    const logs = () => logLines(output.stdout())
    const capturing = () => logs().filter((l) => l.msg === 'capturing' && l.device === b.device)
    await waitFor('flowlog run to start', () => logs().find((l) => l.msg === 'flowlog run started'))
    assert.equal(capturing().length, 1)
    lab.run(lab.hv, ['ip', 'link', 'set', b.device, 'down'])
    const ended = await waitFor('the capture to end', () =>
      logs().find((l) => String(l.msg).startsWith('capture ended') && l.device === b.device),
    )
    assert.match(String(ended.error), /packet socket failed: Network is down/)
    lab.run(lab.hv, ['ip', 'link', 'set', b.device, 'up'])
    // The kernel removed the route through the device when it went down.
    lab.run(lab.hv, ['ip', 'route', 'replace', `${b.address}/32`, 'dev', b.device])
    await waitFor('the capture to open again', () => (capturing().length === 2 ? true : undefined))
    lab.run(a.ns, ['ping', '-c', '3', '-i', '0.2', '-W', '1', b.address])
    daemon.kill('SIGTERM')
    const code = await new Promise<number | null>((resolve) => daemon?.once('exit', (c) => resolve(c)))
    assert.equal(code, 0, output.stderr())
    const pings = readJsonlRecords(out).filter(
      (r) =>
        r['log-status'] === 'OK' &&
        r.protocol === 1 &&
        r['pkt-srcaddr'] === a.address &&
        r['interface-id'] === 'eni-b' &&
        r['flow-direction'] === 'ingress',
    )
    assert.equal(
      pings.reduce((n, r) => n + Number(r.packets), 0),
      3,
      'the echo requests after the reopen',
    )
  } finally {
    if (daemon !== null && daemon.exitCode === null) daemon.kill('SIGKILL')
    lab.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
})

/**
 * On loopback the kernel gives a packet socket every packet twice (as sent and as received);
 * libpcap keeps one, and so must the ring. The capture runs in the lab's host namespace, whose
 * `lo` carries nothing but the datagrams sent here.
 */
const LOOPBACK_JS = `
const { RingCapture } = await import(process.argv[1])
const count = Number(process.argv[2])
let udp = 0
const capture = RingCapture.open({
  device: 'lo', bufferMiB: 1, snapLength: 256,
  onFrame: (f) => { if (f.data[f.offset + 23] === 17) udp++ },
})
const s = (await import('node:dgram')).createSocket('udp4')
for (let i = 0; i < count; i++) await new Promise((r) => s.send(Buffer.alloc(10), ${PORT}, '127.0.0.1', r))
s.close()
await new Promise((r) => setTimeout(r, 200))
await capture.stop()
console.log(JSON.stringify({ udp, frames: capture.frames }))
`

test('the af-packet backend sees each loopback packet once, as libpcap does', async (t) => {
  if (!requireLab(t, { libpcap: false })) return
  if (!requirePacketRing(t)) return
  const lab = createLab('kl', [])
  try {
    const sent = 50
    const printed = lab.run(lab.hv, [
      process.execPath,
      '--input-type=module',
      '-e',
      LOOPBACK_JS,
      repoPath('dist/src/live/ring-capture.js'),
      String(sent),
    ])
    const seen = JSON.parse(printed.trim().split('\n').at(-1) ?? '{}') as { udp: number; frames: number }
    assert.equal(seen.udp, sent, printed)
  } finally {
    lab.destroy()
  }
})
