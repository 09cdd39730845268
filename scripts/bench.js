#!/usr/bin/env node
// npm run bench: flowlog against softflowd, nfpcapd (nfdump) and argus on the same captures, one tool
// at a time, measured with /usr/bin/time (wall, user+sys CPU, peak RSS). DESIGN 8 sets the targets:
// at least 3x the packet rate of the fastest peer, at most half its CPU time per packet.
// See bench/README.md. Exit 0 also on MISS (it is a measurement); non-zero when a tool fails or
// does not process every packet.
import { spawnSync } from 'node:child_process'
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { benchInterfaces, GENERATOR_VERSION, writeScan, writeTypical } from '../bench/make-captures.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const OUT = join(ROOT, 'bench', 'out')
const CONFIG = join(ROOT, 'bench', 'bench.yaml')
const TIME = '/usr/bin/time'
const TARGET_RATE = 3
const TARGET_CPU = 0.5
const HELP = `usage: npm run bench -- [--packets N] [--only typical|scan] [--configs one,two] [--runs R]
                         [--skip-peers] [--no-build]

Makes (once, cached in bench/out/) a typical and a scan-heavy capture of N packets (default
5000000), then runs flowlog replay, softflowd, nfpcapd and argus on each, one at a time, and prints
wall time, packets/s, CPU time per packet and peak RSS, with flowlog's ratios to the fastest peer.
flowlog runs once per config: "one" is bench/bench.yaml (64 interfaces, one gzip'd AWS text flow
log), "two" adds a REJECT-only NHN CSV flow log (both 60 s), as real deployments have; --configs
picks them (default both). With --runs R (default 1) every tool runs R times in turn and its
fastest run counts, the same for all: on a shared machine one run can catch a slow moment.`

/** flowlog's configs: the label printed, and the config file (made from bench.yaml for "two"). */
const CONFIGS = {
  one: { label: 'flowlog', describe: '1 flow log: AWS text, gzip' },
  two: { label: 'flowlog 2 logs', describe: '2 flow logs: AWS text gzip + NHN CSV REJECT' },
}

function main() {
  const { values } = parseArgs({
    options: {
      packets: { type: 'string', default: '5000000' },
      only: { type: 'string' },
      configs: { type: 'string', default: 'one,two' },
      runs: { type: 'string', default: '1' },
      'skip-peers': { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(HELP)
    return 0
  }
  const packets = Number(values.packets.replaceAll('_', ''))
  if (!Number.isInteger(packets) || packets < 1000)
    return usage(`--packets: "${values.packets}" is not a whole number >= 1000`)
  if (values.only !== undefined && values.only !== 'typical' && values.only !== 'scan') {
    return usage(`--only: "${values.only}" is not typical or scan`)
  }
  const configs = values.configs.split(',').filter((c) => c !== '')
  const unknown = configs.filter((c) => !(c in CONFIGS))
  if (configs.length === 0 || unknown.length > 0)
    return usage(`--configs: "${values.configs}" is not a list of ${Object.keys(CONFIGS).join(', ')}`)
  const runs = Number(values.runs)
  if (!Number.isInteger(runs) || runs < 1 || runs > 10)
    return usage(`--runs: "${values.runs}" is not 1 to 10`)
  const missing = requiredTools(!values['skip-peers'])
  if (missing.length > 0) {
    console.error(
      `bench: missing ${missing.map((m) => m.command).join(', ')}; install: apt-get install ${[
        ...new Set(missing.map((m) => m.pkg)),
      ].join(' ')}`,
    )
    return 2
  }
  checkConfig()
  if (!values['no-build']) build()

  mkdirSync(OUT, { recursive: true })
  writeTwoLogConfig()
  const kinds = values.only === undefined ? ['typical', 'scan'] : [values.only]
  const baseline = flowlogBaseline()
  const report = {
    date: new Date().toISOString(),
    packets,
    cpus: cpuInfo(),
    node: process.version,
    runs,
    captures: [],
  }
  report.loadBefore = loadavg()
  // The machine may be shared: a busy one slows every tool, but not all alike.
  console.log(`${report.cpus}; load average ${report.loadBefore.map((l) => l.toFixed(2)).join(' ')}`)
  let failed = false
  for (const kind of kinds) {
    const capture = ensureCapture(kind, packets)
    console.log(
      `\n== ${kind}: ${capture.path} (${fmt(packets)} packets, ${mib(statSync(capture.path).size)} MiB)`,
    )
    // Read the capture once first, so no tool pays for the disk and warms the cache for the next.
    warmPageCache(capture.path)
    const tools = configs.map((c) => () => runFlowlog(capture, packets, baseline, c))
    if (!values['skip-peers'])
      tools.push(
        () => runSoftflowd(capture, packets, packets),
        () => runSoftflowd(capture, packets),
        () => runNfpcapd(capture, packets),
        () => runArgus(capture, packets),
      )
    // Round after round, every tool once per round, so a slow spell of the machine hits all alike.
    const rounds = Array.from({ length: runs }, () => tools.map((run) => run()))
    const results = tools.map((_, t) => fastest(rounds.map((round) => round[t])))
    if (runs > 1) console.log(`each tool's fastest of ${runs} runs (all of them in the results file)`)
    for (const r of results) if (!r.ok) failed = true
    printTable(results)
    const verdict = printTargets(results)
    report.captures.push({ kind, path: capture.path, results, verdict })
  }
  const file = join(OUT, `results-${report.date.replaceAll(':', '-').slice(0, 19)}.json`)
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)
  writeFileSync(join(OUT, 'results-latest.json'), `${JSON.stringify(report, null, 2)}\n`)
  console.log(`\nresults: ${file}`)
  if (failed) console.error('bench: a tool failed or did not process every packet (see above)')
  return failed ? 1 : 0
}

/** Reads a file end to end (into the page cache) without keeping it. */
function warmPageCache(path) {
  const fd = openSync(path, 'r')
  const chunk = Buffer.allocUnsafe(1 << 22)
  try {
    while (readSync(fd, chunk, 0, chunk.length, null) > 0);
  } finally {
    closeSync(fd)
  }
}

function usage(message) {
  console.error(`bench: ${message}\n\n${HELP}`)
  return 1
}

// ------------------------------------------------------------------------------------------------
// Setup

function requiredTools(peers) {
  const tools = [{ command: TIME, pkg: 'time' }]
  if (peers) {
    tools.push(
      { command: 'softflowd', pkg: 'softflowd' },
      { command: 'nfpcapd', pkg: 'nfdump' },
      { command: 'nfdump', pkg: 'nfdump' },
      { command: 'argus', pkg: 'argus-server' },
      { command: 'racount', pkg: 'argus-client' },
    )
  }
  return tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t.command}`]).status !== 0)
}

/** bench.yaml must list exactly the interfaces the generator sends traffic to. */
function checkConfig() {
  const config = parseYaml(readFileSync(CONFIG, 'utf8'))
  const listed = new Map((config.interfaces ?? []).map((i) => [i.addresses?.[0], i.mac]))
  const wrong = benchInterfaces().filter((i) => listed.get(i.address) !== i.mac)
  if (wrong.length > 0) {
    throw new Error(
      `bench/bench.yaml does not match bench/make-captures.js: ${wrong.map((i) => i.address).join(', ')}`,
    )
  }
}

function build() {
  const r = spawnSync('npx', ['tsc', '-b'], { cwd: ROOT, encoding: 'utf8' })
  if (r.status !== 0) {
    const main = join(ROOT, 'dist', 'src', 'cli', 'main.js')
    console.warn(
      `bench: the build failed; ${existsSync(main) ? 'measuring the existing dist/' : 'there is no dist/'}`,
    )
    console.warn((r.stdout + r.stderr).trim().split('\n').slice(0, 10).join('\n'))
  }
}

function cpuInfo() {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8')
    const model = /model name\s*:\s*(.*)/.exec(info)?.[1] ?? 'unknown'
    const count = (info.match(/^processor\s*:/gm) ?? []).length
    return `${count} x ${model}`
  } catch {
    return 'unknown'
  }
}

function ensureCapture(kind, packets) {
  const path = join(OUT, `${kind}-v${GENERATOR_VERSION}-${packets}.pcap`)
  if (!existsSync(path)) {
    const started = performance.now()
    process.stdout.write(`writing ${path} ... `)
    const made = kind === 'typical' ? writeTypical(path, packets) : writeScan(path, packets)
    console.log(`${((performance.now() - started) / 1000).toFixed(1)} s, ${mib(made.fileBytes)} MiB`)
  }
  return { kind, path }
}

// ------------------------------------------------------------------------------------------------
// Running and measuring

/** Runs a command under /usr/bin/time; returns its output and wall/CPU/RSS. */
function measure(command, args) {
  const timeFile = join(OUT, 'time.txt')
  rmSync(timeFile, { force: true })
  const r = spawnSync(TIME, ['-o', timeFile, '-f', '%e %U %S %M', command, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines = existsSync(timeFile) ? readFileSync(timeFile, 'utf8').trim().split('\n') : []
  const [wall, user, sys, rssKiB] = (lines.at(-1) ?? '').split(' ').map(Number)
  return {
    status: r.status,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    commandLine: [command, ...args].join(' '),
    wall: wall ?? Number.NaN,
    cpu: (user ?? Number.NaN) + (sys ?? Number.NaN),
    rssMiB: (rssKiB ?? Number.NaN) / 1024,
  }
}

/** Of one tool's runs, the fastest that succeeded (or the first, when none did), with its run count. */
function fastest(results) {
  const ok = results.filter((r) => r.ok)
  const best = ok.length === 0 ? results[0] : ok.reduce((a, b) => (b.wall < a.wall ? b : a))
  return { ...best, walls: results.map((r) => r.wall) }
}

function result(tool, m, packets, expected, flows, extra = {}, more = []) {
  const problems = [...more]
  if (m.status !== 0) problems.push(`exit status ${m.status}`)
  if (packets !== expected) problems.push(`processed ${fmt(packets)} of ${fmt(expected)} packets`)
  if (problems.length > 0) {
    console.error(`\n${tool} FAILED: ${problems.join('; ')}\n  ${m.commandLine}`)
    console.error(`${m.stdout}\n${m.stderr}`.trim().split('\n').slice(-15).join('\n'))
  }
  return {
    tool,
    ok: problems.length === 0,
    problems,
    command: m.commandLine,
    packets,
    flows,
    wall: m.wall,
    cpu: m.cpu,
    rssMiB: m.rssMiB,
    packetsPerSecond: packets / m.wall,
    cpuMicrosPerPacket: (m.cpu * 1e6) / packets,
    ...extra,
  }
}

/** flowlog runs as installed: bin/flowlog.js itself, so its #! line's settings apply (bin/flowlog.js). */
const FLOWLOG = join(ROOT, 'bin', 'flowlog.js')
const TWO_LOG_CONFIG = join(OUT, 'bench-two-logs.yaml')

function configFile(config) {
  return config === 'two' ? TWO_LOG_CONFIG : CONFIG
}

function flowlogArgs(capture, out, summary, config = 'one') {
  return [
    'replay',
    '--config',
    configFile(config),
    '--out',
    out,
    '--summary-json',
    summary,
    '--no-progress',
    capture,
  ]
}

/**
 * bench.yaml with a second flow log on the same VPC: REJECT only, NHN CSV (18 fields), 60 s,
 * uncompressed, beside the gzip'd AWS text one: two formats and a traffic filter, one interval.
 */
function writeTwoLogConfig() {
  const config = parseYaml(readFileSync(CONFIG, 'utf8'))
  config.flowLogs.push({
    id: 'fl-bench-nhn-reject',
    resource: 'vpc-bench',
    trafficType: 'REJECT',
    aggregationInterval: 60,
    fileFormat: 'nhn-csv',
    destination: 'file:///tmp/flowlog-bench-nhn',
    layout: 'nhn',
    compression: 'none',
  })
  writeFileSync(TWO_LOG_CONFIG, stringifyYaml(config))
}

/** flowlog's peak RSS on a tiny capture: what the process costs before it holds any flows. */
function flowlogBaseline() {
  const path = join(OUT, `tiny-v${GENERATOR_VERSION}.pcap`)
  if (!existsSync(path)) writeTypical(path, 2000, 100)
  const out = join(OUT, 'flowlog-tiny')
  rmSync(out, { recursive: true, force: true })
  const m = measure(FLOWLOG, flowlogArgs(path, out, join(OUT, 'flowlog-tiny-summary.json')))
  return m.status === 0 ? m.rssMiB : Number.NaN
}

function runFlowlog(capture, expected, baselineMiB, config) {
  const out = join(OUT, `flowlog-${config}`)
  const summaryFile = join(OUT, `flowlog-${config}-${capture.kind}-summary.json`)
  rmSync(out, { recursive: true, force: true })
  rmSync(summaryFile, { force: true })
  const m = measure(FLOWLOG, flowlogArgs(capture.path, out, summaryFile, config))
  let summary = null
  try {
    summary = JSON.parse(readFileSync(summaryFile, 'utf8'))
  } catch {
    // Reported below as a failure: no summary means the run did not finish.
  }
  const records = summary?.flowLogs?.reduce((a, f) => a + f.records, 0) ?? Number.NaN
  const tracked = summary === null ? Number.NaN : summary.peakFlowRecords
  const extra = {
    summary:
      summary === null
        ? null
        : {
            decoded: summary.decode?.ok ?? 0,
            unattributed: summary.unattributed,
            skippedPackets: summary.skippedPackets,
            latePackets: summary.latePackets,
            internalErrors: summary.internalErrors,
            peakFlowRecords: summary.peakFlowRecords,
            peakConnections: summary.peakConnections,
            files: summary.flowLogs?.reduce((a, f) => a + f.files, 0),
            outputBytes: summary.flowLogs?.reduce((a, f) => a + f.bytes, 0),
          },
    flowlog: true,
    config,
    flowLogs: summary?.flowLogs?.length ?? 0,
    baselineRssMiB: baselineMiB,
    bytesPerTrackedFlow: ((m.rssMiB - baselineMiB) * 1024 * 1024) / tracked,
  }
  const more = []
  if (summary !== null && (summary.skippedPackets > 0 || summary.internalErrors > 0)) {
    more.push(
      `${fmt(summary.skippedPackets)} packets in SKIPDATA, ${fmt(summary.internalErrors)} internal errors`,
    )
  }
  return result(
    CONFIGS[config].label,
    m,
    summary?.packets ?? 0,
    expected,
    `${fmt(records)} records`,
    extra,
    more,
  )
}

/**
 * softflowd keeps at most -m flows (8192 by default) and, when its table is full, expires flows
 * early to make room: on these captures nearly every flow (its own "maxflows" line) is cut after a
 * packet or two, which is not the job flowlog does (one record per flow and window). `-m` set to
 * the packet count lets it hold every flow the capture can have, so nothing is forced out: that
 * run is the reference. The default run is kept and printed for the record, marked.
 */
function runSoftflowd(capture, expected, maxFlows) {
  // -a: pcap time drives expiry; maxlife=60: a long flow is exported every 60 s, like a window;
  // -c none: no control socket (it would wait on it).
  const args = ['-r', capture.path, '-n', '127.0.0.1:9995', '-c', 'none', '-v', '9', '-a', '-t', 'maxlife=60']
  if (maxFlows !== undefined) args.push('-m', String(maxFlows))
  const m = measure('softflowd', args)
  const packets = Number(/Packets processed: (\d+)/.exec(m.stdout)?.[1] ?? 0)
  const exported = /Flows exported: (\d+) \((\d+) records\)/.exec(m.stdout)
  const expired = /Flows expired: (\d+) \((\d+) forced\)/.exec(m.stdout)
  const forced = Number(expired?.[2] ?? Number.NaN)
  const flows =
    exported === null ? '?' : `${fmt(Number(exported[1]))} flows (${fmt(Number(exported[2]))} records)`
  const tool = maxFlows === undefined ? 'softflowd -m 8192' : 'softflowd'
  const sameWork =
    forced === 0
      ? null
      : `${fmt(forced)} of ${fmt(Number(expired?.[1] ?? Number.NaN))} flows expired early for want of room`
  return result(tool, m, packets, expected, flows, { notSameWork: sameWork })
}

function runNfpcapd(capture, expected) {
  // -t 60 / -e 60,60: files and flow records per 60 s, like flowlog's windows. The node cache (-B)
  // keeps its default: it grows on demand, and a large preallocated one only costs time.
  const dir = join(OUT, 'nfpcapd')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const m = measure('nfpcapd', ['-r', capture.path, '-w', dir, '-t', '60', '-e', '60,60'])
  // What it wrote, read back with nfdump (its own "Processed:" line counts packets read, not stored).
  const info = spawnSync('nfdump', ['-R', dir, '-I'], { encoding: 'utf8' }).stdout ?? ''
  const packets = Number(/^Packets: (\d+)/m.exec(info)?.[1] ?? 0)
  const flows = /^Flows: (\d+)/m.exec(info)
  return result('nfpcapd', m, packets, expected, flows === null ? '?' : `${fmt(Number(flows[1]))} flows`)
}

function runArgus(capture, expected) {
  // -X: ignore /etc/argus.conf (Debian's names a second output file); -S 60: a status record of
  // each active flow every 60 s, like a window.
  const file = join(OUT, 'argus.out')
  rmSync(file, { force: true })
  const m = measure('argus', ['-X', '-S', '60', '-r', capture.path, '-w', file])
  const count = spawnSync('racount', ['-r', file], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })
  const sum = /^\s*sum\s+(\d+)\s+(\d+)/m.exec(count.stdout ?? '')
  const packets = sum === null ? 0 : Number(sum[2])
  return result('argus', m, packets, expected, sum === null ? '?' : `${fmt(Number(sum[1]))} records`)
}

// ------------------------------------------------------------------------------------------------
// Reporting

function printTable(results) {
  const rows = [
    ['tool', 'packets', 'flows / records', 'wall s', 'packets/s', 'CPU s', 'CPU µs/pkt', 'peak RSS MiB'],
  ]
  for (const r of results) {
    rows.push([
      `${r.tool}${r.notSameWork ? ' *' : ''}${r.ok ? '' : ' (FAILED)'}`,
      fmt(r.packets),
      r.flows,
      r.wall.toFixed(2),
      fmt(Math.round(r.packetsPerSecond)),
      r.cpu.toFixed(2),
      r.cpuMicrosPerPacket.toFixed(3),
      r.rssMiB.toFixed(1),
    ])
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => String(row[c]).length)))
  for (const row of rows) {
    console.log(
      row
        .map((cell, c) =>
          c === 0 || c === 2 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]),
        )
        .join('  '),
    )
  }
  for (const flowlog of results.filter((r) => r.flowlog && r.summary)) {
    const s = flowlog.summary
    console.log(
      `${flowlog.tool} (${CONFIGS[flowlog.config].describe}): ${fmt(s.decoded)} decoded, ${fmt(s.unattributed)} unattributed, ${fmt(s.skippedPackets)} in SKIPDATA, ` +
        `${fmt(s.files)} files (${mib(s.outputBytes)} MiB gzip); peak ${fmt(s.peakFlowRecords)} flow records, ` +
        `${fmt(s.peakConnections)} connections; ~${Math.round(flowlog.bytesPerTrackedFlow)} bytes RSS per peak flow ` +
        `record (peak RSS minus ${flowlog.baselineRssMiB.toFixed(0)} MiB on a tiny capture)`,
    )
  }
}

/** flowlog's ratios to the fastest peer, for each config flowlog ran with; returns the verdicts. */
function printTargets(results) {
  for (const r of results) {
    if (r.notSameWork) console.log(`* ${r.tool}: not the same work (${r.notSameWork}); not a reference`)
  }
  const verdicts = {}
  for (const flowlog of results.filter((r) => r.flowlog)) {
    verdicts[flowlog.config] = printTarget(flowlog, results)
  }
  return verdicts
}

function printTarget(flowlog, results) {
  const peers = results.filter((r) => !r.flowlog && r.ok && !r.notSameWork)
  if (!flowlog.ok || peers.length === 0) {
    console.log(`targets (${flowlog.tool}): not evaluated (flowlog failed or no peer ran)`)
    return null
  }
  const fastest = peers.reduce((a, b) => (b.packetsPerSecond > a.packetsPerSecond ? b : a))
  const rate = flowlog.packetsPerSecond / fastest.packetsPerSecond
  const cpu = flowlog.cpuMicrosPerPacket / fastest.cpuMicrosPerPacket
  const verdict = {
    fastestPeer: fastest.tool,
    rateRatio: rate,
    cpuRatio: cpu,
    rate: rate >= TARGET_RATE ? 'PASS' : 'MISS',
    cpu: cpu <= TARGET_CPU ? 'PASS' : 'MISS',
  }
  console.log(
    `${flowlog.tool} (${CONFIGS[flowlog.config].describe}) against the fastest peer doing the same work, ${fastest.tool}:`,
  )
  console.log(
    `  packet rate  flowlog / ${fastest.tool} = ${rate.toFixed(2)}x   (target >= ${TARGET_RATE}x)   ${verdict.rate}`,
  )
  console.log(
    `  CPU/packet   flowlog / ${fastest.tool} = ${cpu.toFixed(2)}    (target <= ${TARGET_CPU})    ${verdict.cpu}`,
  )
  for (const r of results.filter((r) => r.ok && r.notSameWork)) {
    console.log(
      `  (against ${r.tool}: ${(flowlog.packetsPerSecond / r.packetsPerSecond).toFixed(2)}x the rate, ` +
        `${(flowlog.cpuMicrosPerPacket / r.cpuMicrosPerPacket).toFixed(2)} of the CPU per packet)`,
    )
  }
  return verdict
}

function fmt(n) {
  return Number.isFinite(n) ? n.toLocaleString('en-US') : '?'
}

function mib(bytes) {
  return Number.isFinite(bytes) ? (bytes / 1024 / 1024).toFixed(1) : '?'
}

process.exitCode = main()
