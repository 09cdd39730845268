#!/usr/bin/env node
// npm run bench:live: tcpreplay a capture into a veth at top speed while `flowlog run` and tcpdump
// capture the other end, then report packets sent, packets recorded by flowlog and tcpdump's count
// (DESIGN 8: nothing lost at the highest rate tcpreplay reaches here). Needs root, tcpreplay,
// tcpdump and iproute2 (and the libpcap binding for --capture-backend libpcap). Everything runs in
// a network namespace it creates and deletes. A measurement: exit 0 also when packets were lost;
// non-zero when something fails.
import { spawn, spawnSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { gunzipSync } from 'node:zlib'
import { writeTypical } from '../bench/make-captures.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const HELP = `usage: npm run bench:live -- [--packets N] [--loops L] [--pps RATE] [--capture FILE]
       [--capture-backend auto|tcpdump|libpcap] [--capture-buffer MiB] [--snap-length BYTES]
       [--node-option OPTION]... [--no-build]

Replays a capture (default: the benchmark's typical traffic, N packets, default 200000, made once
into bench/out/) L times (default 1) into a veth with tcpreplay --topspeed (or --pps RATE), while
flowlog run (observe mode) and a reference tcpdump capture the receiving end, and prints packets
sent, the packets in flowlog's records (plus SKIPDATA and kernel drops) and tcpdump's count.
flowlog's capture ring is --capture-buffer MiB (default 32, as in flowlog run), its backend
flowlog run's default unless --capture-backend says (see docs/live.md): tcpdump (256-byte slots,
the ring read in C, batches through a pipe) or libpcap through cap (one 64 KiB slot per packet,
one JavaScript callback per packet). --node-option passes an option to flowlog's node (e.g.
--cpu-prof --cpu-prof-dir=DIR to profile it).`

function sh(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', ...options })
  if (r.status !== 0)
    throw new Error(`${command} ${args.join(' ')}: ${r.stderr || r.error?.message || r.status}`)
  return r.stdout
}

function waitFor(what, check, ms = 20_000) {
  const deadline = Date.now() + ms
  return new Promise((resolveWait, reject) => {
    const poll = () => {
      const v = check()
      if (v) return resolveWait(v)
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`))
      setTimeout(poll, 100)
    }
    poll()
  })
}

const exited = (child) =>
  child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((r) => child.once('exit', (code) => r(code)))

/** Sums packets of the records in AWS text files below dir: OK and SKIPDATA separately. */
function recorded(dir) {
  const totals = { ok: 0, skipdata: 0, records: 0, files: 0 }
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (name.endsWith('.log.gz')) {
        totals.files++
        const lines = gunzipSync(readFileSync(p)).toString('utf8').trim().split('\n').slice(1)
        for (const line of lines) {
          const f = line.split(' ')
          const status = f.at(-1)
          totals.records++
          if (status === 'OK') totals.ok += Number(f[8])
          else if (status === 'SKIPDATA') totals.skipdata += Number(f[8])
        }
      }
    }
  }
  if (existsSync(dir)) walk(dir)
  return totals
}

async function main() {
  const { values } = parseArgs({
    options: {
      packets: { type: 'string', default: '200000' },
      loops: { type: 'string', default: '1' },
      'capture-buffer': { type: 'string', default: '32' },
      'capture-backend': { type: 'string', default: 'auto' },
      'snap-length': { type: 'string' },
      'node-option': { type: 'string', multiple: true, default: [] },
      pps: { type: 'string' },
      capture: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(HELP)
    return 0
  }
  if (process.getuid?.() !== 0) {
    console.error('bench:live needs root (network namespaces, packet capture); run it with sudo')
    return 2
  }
  for (const tool of ['tcpreplay', 'tcpdump', 'ip']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      console.error(`bench:live needs ${tool} (apt-get install tcpreplay tcpdump iproute2)`)
      return 2
    }
  }
  if (!values['no-build']) sh('npx', ['tsc', '-b'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })

  let capture = values.capture
  if (capture === undefined) {
    const out = join(ROOT, 'bench', 'out')
    mkdirSync(out, { recursive: true })
    capture = join(out, `live-typical-${values.packets}.pcap`)
    if (!existsSync(capture)) {
      console.log(`bench:live: making ${capture} (${values.packets} packets)`)
      writeTypical(capture, Number(values.packets))
    }
  }

  const ns = `flbench-${process.pid}`
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-bench-live-'))
  const children = []
  try {
    sh('ip', ['netns', 'add', ns])
    const inNs = (...args) => ['netns', 'exec', ns, ...args]
    sh(
      'ip',
      inNs('sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'),
    )
    sh('ip', ['-n', ns, 'link', 'add', 'vb0', 'type', 'veth', 'peer', 'name', 'vb1'])
    sh('ip', ['-n', ns, 'link', 'set', 'vb0', 'up'])
    sh('ip', ['-n', ns, 'link', 'set', 'vb1', 'up'])

    // The benchmark network, with every packet's receiving device being the first interface's.
    const base = readFileSync(join(ROOT, 'bench', 'bench.yaml'), 'utf8')
    const config = join(dir, 'live.yaml')
    const withDevice = base.replace(
      /\ninterfaces:\n( {2}- id: [^\n]+\n)/,
      '\ninterfaces:\n$1    device: vb1\n',
    )
    if (withDevice === base) throw new Error('bench/bench.yaml: no interface to put the device on')
    writeFileSync(config, withDevice)

    const daemon = spawn(
      'ip',
      inNs(
        process.execPath,
        ...values['node-option'],
        join(ROOT, 'bin', 'flowlog.js'),
        'run',
        '--config',
        config,
        '--out',
        join(dir, 'out'),
        '--no-api',
        '--capture-buffer',
        values['capture-buffer'],
        '--capture-backend',
        values['capture-backend'],
        ...(values['snap-length'] === undefined ? [] : ['--snap-length', values['snap-length']]),
      ),
      // Its own session, as a service has: the scheduler then shares the CPU between flowlog and
      // tcpreplay (which spins between packets at a fixed rate) as between separate services.
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    )
    children.push(daemon)
    let log = ''
    daemon.stdout.on('data', (d) => {
      log += d
    })
    daemon.stderr.on('data', () => {})
    await waitFor('flowlog run', () => log.includes('"flowlog run started"'))

    const dump = spawn('ip', inNs('tcpdump', '-i', 'vb1', '-n', '-w', '/dev/null'), {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    children.push(dump)
    let dumpErr = ''
    dump.stderr.on('data', (d) => {
      dumpErr += d
    })
    await waitFor('tcpdump', () => dumpErr.includes('listening on'))

    const speed = values.pps === undefined ? ['--topspeed'] : [`--pps=${values.pps}`]
    const replay = sh('ip', inNs('tcpreplay', '-i', 'vb0', ...speed, `--loop=${values.loops}`, capture))
    const sent = Number(/Successful packets:\s+(\d+)/.exec(replay)?.[1] ?? Number.NaN)
    const rate = /Rated: [^\n]*?([\d.]+) pps/.exec(replay)?.[1]
    await new Promise((r) => setTimeout(r, 2000))

    dump.kill('SIGINT')
    await exited(dump)
    const tcpdumpCount = Number(/(\d+) packets? captured/.exec(dumpErr)?.[1] ?? Number.NaN)
    const tcpdumpDrops = Number(/(\d+) packets? dropped by kernel/.exec(dumpErr)?.[1] ?? 0)
    daemon.kill('SIGTERM')
    const code = await exited(daemon)
    if (code !== 0) throw new Error(`flowlog run exited ${code}`)
    const stopped = log
      .split('\n')
      .filter((l) => l.includes('"flowlog run stopped"'))
      .map((l) => JSON.parse(l))[0]
    const files = recorded(join(dir, 'out'))
    const started = log
      .split('\n')
      .filter((l) => l.includes('"flowlog run started"'))
      .map((l) => JSON.parse(l))[0]
    const result = {
      capture,
      backend: started?.backend ?? null,
      sent,
      tcpreplayRatePps: rate === undefined ? null : Number(rate),
      flowlog: {
        frames: stopped?.frames ?? null,
        recordedPackets: files.ok,
        skipdataPackets: files.skipdata,
        kernelDrops: stopped?.kernelDrops ?? null,
        notIp: stopped?.decode?.['not-ip'] ?? 0,
        records: files.records,
        files: files.files,
      },
      tcpdump: { captured: tcpdumpCount, droppedByKernel: tcpdumpDrops },
    }
    console.log(JSON.stringify(result, null, 2))
    const lost = sent - (stopped?.frames ?? 0)
    console.log(
      `bench:live: sent ${sent} at ${rate ?? '?'} pps; flowlog (${started?.backend ?? '?'} backend) received ${stopped?.frames} frames and recorded ${files.ok} packets (${files.skipdata} in SKIPDATA, ${stopped?.kernelDrops} kernel drops); tcpdump captured ${tcpdumpCount} (${tcpdumpDrops} dropped by kernel). ${lost === 0 ? 'Nothing lost.' : `${lost} not received by flowlog.`}`,
    )
    return 0
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' })
    rmSync(dir, { recursive: true, force: true })
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`bench:live: ${error.message}`)
    process.exit(2)
  },
)
