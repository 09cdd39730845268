import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { FlowlogError } from '../core/errors.js'
import type { Frame } from '../core/frame.js'
import { TcpdumpCapture } from './tcpdump-capture.js'

/**
 * A stand-in for tcpdump that behaves as tcpdump 4.99 does on a pipe, without privileges: the pcap
 * header at once, "listening on" on stderr, packets in records split across writes, pcap_stats on
 * SIGUSR1 (one line) and at exit (one line each). The device name picks the scenario.
 */
const FAKE_TCPDUMP = `
const args = process.argv.slice(2)
const device = args[args.indexOf('-i') + 1]
const nano = args.includes('--time-stamp-precision=nano')
const out = (b) => process.stdout.write(b)
if (device === 'noperm') {
  process.stderr.write('tcpdump: noperm: You don\\'t have permission to perform this capture on that device\\n(socket: Operation not permitted)\\n')
  process.exit(1)
}
if (device === 'nodev') {
  process.stderr.write('tcpdump: nodev: No such device exists\\n(SIOCGIFHWADDR: No such device)\\n')
  process.exit(1)
}
const header = Buffer.alloc(24)
header.writeUInt32LE(nano ? 0xa1b23c4d : 0xa1b2c3d4, 0)
header.writeUInt16LE(2, 4); header.writeUInt16LE(4, 6)
header.writeUInt32LE(Number(args[args.indexOf('-s') + 1]), 16); header.writeUInt32LE(1, 20)
out(header)
let captured = 0
const record = (i) => {
  const r = Buffer.alloc(16 + 60)
  r.writeUInt32LE(1_700_000_000 + i, 0); r.writeUInt32LE(nano ? 123_456_789 : 123_456, 4)
  r.writeUInt32LE(60, 8); r.writeUInt32LE(1514, 12); r[16] = i & 0xff
  return r
}
const dropped = device === 'drops' ? 7 : 0
let received = 0
const stats = (final) => final
  ? process.stderr.write(captured + ' packets captured\\n' + received + ' packets received by filter\\n' + dropped + ' packets dropped by kernel\\n')
  : process.stderr.write('tcpdump: ' + captured + ' packets captured, ' + received + ' packets received by filter, ' + dropped + ' packets dropped by kernel\\n')
process.on('SIGUSR1', () => stats(false))
process.on('SIGTERM', () => {
  if (device === 'unread') { received += 5; out(record(captured).subarray(0, 30)) }
  stats(true)
  process.stdout.end(() => process.exit(0))
})
process.stderr.write('tcpdump: listening on ' + device + ', link-type EN10MB (Ethernet), snapshot length 256 bytes\\n')
// 1000 packets in writes that cut records anywhere, then quiet until signalled.
const all = Buffer.concat(Array.from({ length: 1000 }, (_, i) => record(i)))
let at = 0
const step = () => {
  const n = 1 + ((at * 7) % 997)
  out(all.subarray(at, at + n)); at = Math.min(at + n, all.length)
  captured = Math.floor(at / 76); received = captured + dropped
  if (at < all.length) setImmediate(step)
  else if (device === 'exit') process.stdout.end(() => process.exit(3)) // like tcpdump: its output flushed, then the exit
}
setTimeout(step, 20)
setInterval(() => {}, 1000)
`

const dir = mkdtempSync(join(tmpdir(), 'flowlog-fake-tcpdump-'))
const fake = join(dir, 'fake-tcpdump.cjs')
writeFileSync(fake, FAKE_TCPDUMP)
after(() => rmSync(dir, { recursive: true, force: true }))

function open(
  device: string,
  frames: { time: number; first: number; length: number; original: number }[] = [],
) {
  return TcpdumpCapture.open({
    device,
    command: 'tcpdump',
    // Runs the stand-in with node; the real wrapper is setpriv --pdeathsig KILL.
    wrapper: [process.execPath, fake],
    snapLength: 256,
    bufferMiB: 4,
    onFrame: (f: Frame) =>
      frames.push({
        time: f.time,
        first: f.data[f.offset]!,
        length: f.capturedLength,
        original: f.originalLength,
      }),
  })
}

const until = async (check: () => boolean) => {
  const deadline = Date.now() + 10_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('tcpdump capture backend (with a stand-in tcpdump)', () => {
  test('reads the pipe in whole records with their timestamps; stop drains it all', async () => {
    const frames: { time: number; first: number; length: number; original: number }[] = []
    const capture = await open('veth0', frames)
    assert.equal(capture.linkType, 1)
    await until(() => capture.frames === 1000)
    await capture.drain(Date.now() + 5000)
    await capture.stop()
    assert.equal(frames.length, 1000)
    assert.deepEqual(frames[999], {
      time: 1_700_000_999 + 0.123456789,
      first: 999 & 0xff,
      length: 60,
      original: 1514,
    })
    assert.equal(capture.bytes, 1514 * 1000)
    assert.equal(capture.kernelDrops, 0)
    assert.equal(capture.failure, null)
    assert.deepEqual(Object.fromEntries(capture.problems), {})
  })

  test('kernel drops come from pcap_stats on SIGUSR1', async () => {
    const capture = await open('drops')
    await until(() => capture.frames === 1000)
    capture.requestStats()
    await until(() => capture.kernelDrops === 7)
    await capture.stop()
    assert.equal(capture.kernelDrops, 7)
  })

  test('what reached the ring but not the pipe at exit counts as dropped; a cut record as truncated', async () => {
    const capture = await open('unread')
    await until(() => capture.frames === 1000)
    await capture.stop()
    assert.equal(capture.frames, 1000)
    assert.equal(capture.unreadAtExit, 5)
    assert.equal(capture.kernelDrops, 5)
    assert.deepEqual(Object.fromEntries(capture.problems), { 'truncated-record': 1 })
  })

  test('tcpdump exiting by itself is a failure naming why', async () => {
    const capture = await open('exit')
    await until(() => capture.failure !== null)
    assert.equal(capture.frames, 1000)
    assert.match(capture.failure ?? '', /tcpdump on exit exited \(code 3\)/)
  })

  test("a device that does not exist fails the open with tcpdump's words", async () => {
    await assert.rejects(
      open('nodev'),
      /tcpdump on nodev exited \(code 1\): tcpdump: nodev: No such device exists/,
    )
  })

  test('no permission fails the open with the privileges error and the fix', async () => {
    await assert.rejects(open('noperm'), (error: unknown) => {
      assert.ok(error instanceof FlowlogError)
      assert.equal(error.code, 'ERR_PRIVILEGES')
      assert.match(error.message, /You don't have permission/)
      assert.match(error.message, /setcap cap_net_raw,cap_net_admin\+ep "\$\(command -v tcpdump\)"/)
      return true
    })
  })
})
