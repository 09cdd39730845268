#!/usr/bin/env node
// The packet thread alone: decode, attribute, verdict and aggregate over frames already in memory
// (no file reading, no formatting, no writer thread), in µs per packet. `npm run bench` measures
// the whole process against the peers; this isolates the part that is ours to make faster, and
// runs on the compiled dist/ it is given, so two checkouts compare on the same frames (a
// `git worktree` of the base commit, built with `npx tsc -b`):
//
//   node scripts/bench-packet-path.js --capture bench/out/scan-v1-5000000.pcap [--packets N] [--runs R] [--dist DIR]
//
// The capture's network is bench/bench.yaml. Prints the best and median of R runs (a fresh
// pipeline each) as wall and process CPU µs per packet, with the records the windows held.
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const { values } = parseArgs({
  options: {
    capture: { type: 'string' },
    packets: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '5' },
    dist: { type: 'string', default: join(ROOT, 'dist') },
  },
})
const limit = Number(values.packets.replaceAll('_', ''))
const runs = Number(values.runs)
if (values.capture === undefined || !existsSync(values.capture)) {
  console.error('bench-packet-path: --capture FILE is required (npm run bench makes bench/out/*.pcap)')
  process.exit(2)
}
const load = (path) => import(pathToFileURL(join(resolve(values.dist), path)).href)
const { loadConfig } = await load('src/config/load-config.js')
const { openCapture } = await load('src/capture/open-capture.js')
const { newFrame } = await load('src/core/frame.js')
const { compilePolicy } = await load('src/policy/compile-policy.js')
const { PacketPipeline } = await load('src/pipeline/packet-pipeline.js')

const network = loadConfig(join(ROOT, 'bench', 'bench.yaml'))
const frames = loadFrames(values.capture, limit)
const results = []
for (let r = 0; r < runs; r++) results.push(run(frames))
const by = (key) => results.map((x) => x[key]).sort((a, b) => a - b)
const wall = by('wall')
const cpu = by('cpu')
const median = (xs) => xs[Math.floor(xs.length / 2)]
console.log(`${resolve(values.dist)}: ${frames.count.toLocaleString('en-US')} packets of ${values.capture}`)
console.log(`  µs per packet   best   median`)
console.log(`  wall          ${wall[0].toFixed(3)}  ${median(wall).toFixed(3)}`)
console.log(`  CPU           ${cpu[0].toFixed(3)}  ${median(cpu).toFixed(3)}`)
console.log(`  records emitted per run: ${results[0].records.toLocaleString('en-US')}`)

/** The first `limit` frames, copied into a few large buffers (the timed loop reads only memory). */
function loadFrames(path, limit) {
  const reader = openCapture(path)
  const frame = newFrame()
  const buffers = []
  let buffer = new Uint8Array(64 << 20)
  let pos = 0
  const at = new Float64Array(limit)
  const length = new Float64Array(limit)
  const time = new Float64Array(limit)
  const which = new Int32Array(limit)
  let count = 0
  while (count < limit && reader.next(frame)) {
    if (pos + frame.capturedLength > buffer.length) {
      buffers.push(buffer)
      buffer = new Uint8Array(64 << 20)
      pos = 0
    }
    buffer.set(frame.data.subarray(frame.offset, frame.offset + frame.capturedLength), pos)
    at[count] = pos
    length[count] = frame.capturedLength
    time[count] = frame.time
    which[count] = buffers.length
    pos += frame.capturedLength
    count++
  }
  reader.close()
  buffers.push(buffer)
  return { buffers, at, length, time, which, count, linkType: frame.linkType }
}

function run(frames) {
  let records = 0
  const pipeline = new PacketPipeline(network, compilePolicy(network), {
    lateness: 2,
    onWindow: (_interval, window) => {
      // A closed window's flow records (older trees handed a batch with its row count).
      records += window.records ?? window.count
    },
  })
  const frame = newFrame()
  frame.linkType = frames.linkType
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < frames.count; i++) {
    frame.data = frames.buffers[frames.which[i]]
    frame.offset = frames.at[i]
    frame.capturedLength = frames.length[i]
    frame.originalLength = frames.length[i]
    frame.time = frames.time[i]
    pipeline.process(frame)
  }
  pipeline.finish()
  const wallMs = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  return {
    wall: (wallMs * 1000) / frames.count,
    cpu: (cpu.user + cpu.system) / frames.count,
    records,
  }
}
