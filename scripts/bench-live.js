#!/usr/bin/env node
// npm run bench:live: live capture capacity (DESIGN 8, issue 15). netsniff-ng's trafgen sends
// 64-byte UDP frames into a veth between two network namespaces at a set rate; `flowlog run`
// (observe mode) captures the other end, and so, alone and in turn, does tcpdump. For each, a
// bounded search finds the highest rate at which every packet sent is received and recorded, and
// the two are printed side by side. Needs root, trafgen (apt-get install netsniff-ng), tcpdump
// and iproute2. Everything runs in namespaces it creates and deletes. A measurement: exit 0 also
// when flowlog loses packets; non-zero when something fails.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { gunzipSync } from 'node:zlib'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const HELP = `usage: npm run bench:live -- [--seconds S] [--start-rate PPS] [--max-rate PPS] [--trials N]
       [--flows F] [--generator-cpus C] [--only flowlog|tcpdump] [--max-minutes M]
       [--capture-backend auto|af-packet|tcpdump|libpcap] [--capture-buffer MiB] [--node-option OPTION]...
       [--no-build]

Sends 64-byte UDP frames (F flows, default 1000, to eni-web-1's QUIC port: accepted) with
trafgen on C cores (default 1) into a veth for S seconds per trial (default 3), and searches for
the highest rate at which flowlog run records every packet: from --start-rate (default 200000)
it doubles until packets are lost or --max-rate (default 2000000) is reached, then halves the
gap between the best loss-free and the first lossy rate, N trials in all (default 7). A set rate
makes trafgen send with one sendto(2) per packet (about 200,000 packets/s a core here): when it
cannot reach the rate asked and nothing was lost, a last trial sends --max-rate x S packets at
trafgen's top speed (its TX_RING, unpaced). The same
search runs for tcpdump alone (-w /dev/null -s 256 -B 32768 --immediate-mode), the reference.
A trial's rate is what trafgen reached (packets sent over its run time), which can be below the
rate asked for. The whole run stops after M minutes (default 10) with what it has.
--capture-backend, --capture-buffer (default 32) and --node-option go to flowlog run.`

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function sh(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', ...options })
  if (r.status !== 0)
    throw new Error(`${command} ${args.join(' ')}: ${r.stderr || r.error?.message || r.status}`)
  return r.stdout
}

function waitFor(what, check, ms = 30_000) {
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
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((r) => child.once('exit', (code) => r(code)))

/** Packets of the records in AWS text files below dir: OK and SKIPDATA separately. */
function recorded(dir) {
  const totals = { ok: 0, skipdata: 0, records: 0 }
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (name.endsWith('.log.gz')) {
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

/** The lab: a veth from the generator's namespace to the capture's, both deleted at the end. */
class Lab {
  constructor() {
    this.gen = `flgen-${process.pid}`
    this.cap = `flcap-${process.pid}`
    this.dir = mkdtempSync(join(tmpdir(), 'flowlog-bench-live-'))
    this.children = new Set()
  }

  up() {
    for (const ns of [this.gen, this.cap]) {
      sh('ip', ['netns', 'add', ns])
      // No IPv6 on the link: its neighbour discovery and reports would be frames nobody sent.
      sh('ip', [
        'netns',
        'exec',
        ns,
        'sysctl',
        '-qw',
        'net.ipv6.conf.all.disable_ipv6=1',
        'net.ipv6.conf.default.disable_ipv6=1',
      ])
    }
    sh('ip', [
      '-n',
      this.gen,
      'link',
      'add',
      'vgen',
      'type',
      'veth',
      'peer',
      'name',
      'vcap',
      'netns',
      this.cap,
    ])
    sh('ip', ['-n', this.gen, 'link', 'set', 'vgen', 'up'])
    sh('ip', ['-n', this.cap, 'link', 'set', 'vcap', 'up'])
  }

  spawn(ns, args, options) {
    const child = spawn('ip', ['netns', 'exec', ns, ...args], options)
    this.children.add(child)
    child.once('exit', () => this.children.delete(child))
    return child
  }

  down() {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    spawnSync('ip', ['netns', 'del', this.gen], { stdio: 'ignore' })
    spawnSync('ip', ['netns', 'del', this.cap], { stdio: 'ignore' })
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** trafgen's packet: Ethernet to eni-web-1's MAC, IPv4 from outside, UDP to 443 from F source ports. */
function trafgenConfig(flows) {
  return `{ eth(da=02:00:0a:00:01:0a, sa=02:00:c6:12:00:01, type=0x0800), ipv4(saddr=198.18.0.1, daddr=10.0.1.10, ttl=64), udp(sp=dinc(10000, ${10000 + flows - 1}), dp=443), fill(0x00, 18) }\n`
}

/** A trial's rate that means "as fast as trafgen goes" (its TX_RING, unpaced). */
const TOP_SPEED = Number.POSITIVE_INFINITY

/**
 * Sends `rate` packets/s for `seconds`; answers packets sent and the rate reached. A set rate makes
 * trafgen send with one sendto(2) per packet (its -b is "slow mode"), about 200,000 packets/s a
 * core here; TOP_SPEED sends the maximum rate's worth through its TX_RING, unpaced.
 */
async function send(lab, options, rate) {
  const top = rate === TOP_SPEED
  const count = Math.round((top ? options.maxRate : rate) * options.seconds)
  const started = performance.now()
  const gen = lab.spawn(
    lab.gen,
    [
      'trafgen',
      '-o',
      'vgen',
      '-i',
      options.trafgenConfig,
      '-n',
      String(count),
      '-P',
      String(options.generatorCpus),
      ...(top ? [] : ['-b', `${rate}pps`]),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  gen.stdout.on('data', (d) => {
    out += d
  })
  gen.stderr.on('data', (d) => {
    out += d
  })
  const code = await exited(gen)
  const seconds = (performance.now() - started) / 1000
  if (code !== 0) throw new Error(`trafgen exited ${code}: ${out.trim().split('\n').slice(-3).join(' ')}`)
  const sent = [...out.matchAll(/(\d+) packets outgoing/g)].reduce((a, m) => a + Number(m[1]), 0)
  return { sent, reached: Math.round(sent / seconds) }
}

/** One trial of tcpdump alone: packets it captured out of those sent. */
async function tcpdumpTrial(lab, options, rate) {
  const dump = lab.spawn(
    lab.cap,
    ['tcpdump', '-i', 'vcap', '-n', '-w', '/dev/null', '-s', '256', '-B', '32768', '--immediate-mode'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let err = ''
  dump.stderr.on('data', (d) => {
    err += d
  })
  await waitFor('tcpdump', () => err.includes('listening on'))
  const { sent, reached } = await send(lab, options, rate)
  await sleep(1000)
  dump.kill('SIGINT')
  await exited(dump)
  const captured = Number(/(\d+) packets? captured/.exec(err)?.[1] ?? Number.NaN)
  const drops = Number(/(\d+) packets? dropped by kernel/.exec(err)?.[1] ?? 0)
  return {
    rate,
    sent,
    reached,
    received: captured,
    note: `${drops} dropped by kernel`,
    lost: sent - captured,
  }
}

/** One trial of flowlog run: packets in its flow records out of those sent (SKIPDATA is loss). */
async function flowlogTrial(lab, options, rate) {
  const out = join(lab.dir, `out-${rate}-${Date.now()}`)
  const daemon = lab.spawn(
    lab.cap,
    [
      process.execPath,
      ...options.nodeOptions,
      join(ROOT, 'bin', 'flowlog.js'),
      'run',
      '--config',
      options.flowlogConfig,
      '--out',
      out,
      '--no-api',
      '--capture-buffer',
      options.captureBuffer,
      '--capture-backend',
      options.captureBackend,
    ],
    // Its own session, as a service has.
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  )
  let log = ''
  daemon.stdout.on('data', (d) => {
    log += d
  })
  daemon.stderr.on('data', () => {})
  await waitFor('flowlog run', () => log.includes('"flowlog run started"') || daemon.exitCode !== null)
  if (daemon.exitCode !== null) throw new Error(`flowlog run exited ${daemon.exitCode} at start`)
  const { sent, reached } = await send(lab, options, rate)
  await sleep(1500)
  daemon.kill('SIGTERM')
  const code = await exited(daemon)
  if (code !== 0) throw new Error(`flowlog run exited ${code}`)
  const line = (message) =>
    log
      .split('\n')
      .filter((l) => l.includes(`"${message}"`))
      .map((l) => JSON.parse(l))[0]
  const stopped = line('flowlog run stopped')
  const files = recorded(out)
  rmSync(out, { recursive: true, force: true })
  return {
    rate,
    sent,
    reached,
    received: files.ok,
    note: `${stopped?.frames ?? '?'} frames, ${files.skipdata} in SKIPDATA, ${stopped?.kernelDrops ?? '?'} kernel drops; ${line('flowlog run started')?.backend ?? '?'} backend`,
    lost: sent - files.ok,
  }
}

/**
 * The highest loss-free rate: doubles from the start rate until a loss (or the maximum), then
 * bisects between the best loss-free and the lowest lossy rate, `trials` trials in all. When the
 * paced generator cannot reach the rate asked before anything is lost, one last trial sends at
 * trafgen's top speed.
 */
async function search(name, trial, options, deadline) {
  const trials = []
  let good = null
  let bad = null
  let rate = options.startRate
  for (let t = 0; t < options.trials && Date.now() < deadline; t++) {
    const r = await trial(rate)
    trials.push(r)
    const lossFree = r.lost <= 0
    const asked = rate === TOP_SPEED ? 'top speed' : `${fmt(rate)} pps`
    console.log(
      `  ${name.padEnd(8)} asked ${asked.padStart(13)}  reached ${fmt(r.reached).padStart(9)}  sent ${fmt(r.sent).padStart(10)}  received ${fmt(r.received).padStart(10)}  ${lossFree ? 'nothing lost' : `lost ${fmt(r.lost)}`}  (${r.note})`,
    )
    if (lossFree) {
      if (good === null || r.reached > good.reached) good = r
    } else if (bad === null || rate < bad.rate) bad = r
    if (rate === TOP_SPEED) break
    // The paced generator could not go faster: only its unpaced top speed measures more.
    const generatorBound = lossFree && r.reached < rate * 0.9
    if (bad === null) {
      if (generatorBound) rate = TOP_SPEED
      else if (rate >= options.maxRate) break
      else rate = Math.min(options.maxRate, rate * 2)
    } else {
      const low = good === null ? 0 : good.rate
      if (bad.rate - low <= bad.rate * 0.05) break
      rate = Math.round((low + bad.rate) / 2 / 1000) * 1000
    }
  }
  return { trials, best: good }
}

async function main() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '3' },
      'start-rate': { type: 'string', default: '200000' },
      'max-rate': { type: 'string', default: '2000000' },
      trials: { type: 'string', default: '7' },
      flows: { type: 'string', default: '1000' },
      'generator-cpus': { type: 'string', default: '1' },
      only: { type: 'string' },
      'max-minutes': { type: 'string', default: '10' },
      'capture-buffer': { type: 'string', default: '32' },
      'capture-backend': { type: 'string', default: 'auto' },
      'node-option': { type: 'string', multiple: true, default: [] },
      'no-build': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(HELP)
    return 0
  }
  const number = (name, min, max) => {
    const v = Number(String(values[name]).replaceAll('_', ''))
    if (!(Number.isFinite(v) && v >= min && v <= max))
      throw new Error(`--${name}: "${values[name]}" is not ${min} to ${max}`)
    return v
  }
  const options = {
    seconds: number('seconds', 0.5, 60),
    startRate: number('start-rate', 1000, 100_000_000),
    maxRate: number('max-rate', 1000, 100_000_000),
    trials: number('trials', 1, 30),
    flows: number('flows', 1, 50_000),
    generatorCpus: number('generator-cpus', 1, 64),
    captureBuffer: values['capture-buffer'],
    captureBackend: values['capture-backend'],
    nodeOptions: values['node-option'],
  }
  if (values.only !== undefined && values.only !== 'flowlog' && values.only !== 'tcpdump')
    throw new Error(`--only: "${values.only}" is not flowlog or tcpdump`)
  const deadline = Date.now() + number('max-minutes', 1, 120) * 60_000
  if (process.getuid?.() !== 0) {
    console.error('bench:live needs root (network namespaces, packet capture); run it with sudo')
    return 2
  }
  for (const [tool, pkg] of [
    ['trafgen', 'netsniff-ng'],
    ['tcpdump', 'tcpdump'],
    ['ip', 'iproute2'],
  ]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      console.error(`bench:live needs ${tool} (apt-get install ${pkg})`)
      return 2
    }
  }
  if (!values['no-build']) sh('npx', ['tsc', '-b'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })

  const lab = new Lab()
  const stop = () => {
    lab.down()
    process.exit(130)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    lab.up()
    options.trafgenConfig = join(lab.dir, 'udp64.cfg')
    writeFileSync(options.trafgenConfig, trafgenConfig(options.flows))
    // The benchmark network, with eni-web-1 on the capture end of the veth.
    const base = readFileSync(join(ROOT, 'bench', 'bench.yaml'), 'utf8')
    const withDevice = base.replace(
      /\ninterfaces:\n( {2}- id: [^\n]+\n)/,
      '\ninterfaces:\n$1    device: vcap\n',
    )
    if (withDevice === base) throw new Error('bench/bench.yaml: no interface to put the device on')
    options.flowlogConfig = join(lab.dir, 'live.yaml')
    writeFileSync(options.flowlogConfig, withDevice)

    console.log(
      `bench:live: 64-byte UDP, ${fmt(options.flows)} flows, ${options.seconds} s per trial, trafgen on ${options.generatorCpus} core(s)`,
    )
    const results = {}
    const tools = {
      tcpdump: (rate) => tcpdumpTrial(lab, options, rate),
      flowlog: (rate) => flowlogTrial(lab, options, rate),
    }
    for (const [name, trial] of Object.entries(tools)) {
      if (values.only !== undefined && values.only !== name) continue
      results[name] = await search(name, trial, options, deadline)
    }
    const best = (name) => results[name]?.best?.reached
    console.log(`\nhighest loss-free rate (packets/s trafgen reached, every packet received):`)
    for (const name of Object.keys(results)) {
      console.log(`  ${name.padEnd(8)} ${best(name) === undefined ? 'none found' : fmt(best(name))}`)
    }
    if (best('flowlog') !== undefined && best('tcpdump') !== undefined)
      console.log(`  flowlog / tcpdump = ${(best('flowlog') / best('tcpdump')).toFixed(2)}`)
    if (Date.now() >= deadline) console.log('(stopped at --max-minutes: the search may be incomplete)')
    const file = join(ROOT, 'bench', 'out', 'live-results-latest.json')
    if (existsSync(dirname(file)))
      writeFileSync(
        file,
        `${JSON.stringify({ date: new Date().toISOString(), options, results }, null, 2)}\n`,
      )
    return 0
  } finally {
    lab.down()
  }
}

function fmt(n) {
  return Number.isFinite(n) ? n.toLocaleString('en-US') : '?'
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`bench:live: ${error.message}`)
    process.exit(2)
  },
)
