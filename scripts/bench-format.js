#!/usr/bin/env node
// The writer thread's CPU per record, stage by stage, on one scan-like window (one record per
// packet, the case where the writer thread limits the pipeline): expandBatch + encode (objects),
// encodeBatch (columns, where the tree has it), gzip, and the whole WindowWriter.write (which also
// writes the file). Runs on the compiled dist/ it is given (default: this tree's), so two checkouts
// compare on the same batch (a `git worktree` of the base commit, built with `npx tsc -b`):
//
//   node scripts/bench-format.js [--records N] [--runs R] [--dist DIR] [--format text|nhn-csv|jsonl]
//
// Prints the median of R runs in µs per record, CPU (process, so zlib's and GC's helper threads
// count) and wall, and the garbage collection time inside WindowWriter.write.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { PerformanceObserver } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '5' },
    dist: { type: 'string', default: join(ROOT, 'dist') },
    format: { type: 'string', default: 'text' },
  },
})
const N = Number(values.records)
const RUNS = Number(values.runs)
const load = (path) => import(pathToFileURL(join(resolve(values.dist), path)).href)

const { loadConfig } = await load('src/config/load-config.js')
const { DEFAULT_NHN_FIELDS } = await load('src/config/fields.js')
const { expandBatch } = await load('src/format/expand-batch.js')
const { formatterFor } = await load('src/format/registry.js')
const { compress } = await load('src/deliver/compression.js')
const { WindowWriter } = await load('src/pipeline/window-writer.js')
const { newBatch } = await load('src/aggregate/flow-table.js')

const out = mkdtempSync(join(tmpdir(), 'bench-format-'))
const base = loadConfig(join(ROOT, 'bench', 'bench.yaml'))
const network = {
  ...base,
  flowLogs: base.flowLogs.map((f) => ({
    ...f,
    fileFormat: values.format,
    destination: `file://${out}`,
    ...(values.format === 'nhn-csv' ? { fields: [...DEFAULT_NHN_FIELDS] } : {}),
  })),
}
const flowLog = network.flowLogs[0]
const ruleIds = [
  'sgr-web-http',
  'sgr-web-https',
  'sgr-web-quic',
  'sgr-web-ping',
  'sgr-web-ssh',
  'sgr-web-out',
]

/** SYNs from four scanners to random interfaces and ports; ~10 % accepted, ~3 % RST-ACK answers. */
function scanBatch(n) {
  const windowStart = 1717246800
  const b = newBatch(n, windowStart, windowStart + 60)
  let s = 12345
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    return s
  }
  for (let i = 0; i < n; i++) {
    const iface = rnd() % 64
    const address =
      iface < 48 ? ((10 << 24) | (1 << 8) | (10 + iface)) >>> 0 : ((10 << 24) | (2 << 8) | (iface - 38)) >>> 0
    const scanner = (((198 << 24) | (18 << 16) | (250 << 8)) >>> 0) + 1 + (rnd() % 4)
    const answer = rnd() % 100 < 3
    const accepted = rnd() % 10 === 0
    b.iface[i] = iface
    b.direction[i] = answer ? 1 : 0
    b.action[i] = accepted || answer ? 0 : 1
    b.protocol[i] = 6
    for (const words of [b.src, b.dst]) {
      words[4 * i + 2] = 0xffff
    }
    b.src[4 * i + 3] = answer ? address : scanner
    b.dst[4 * i + 3] = answer ? scanner : address
    const port = rnd() % 65536
    const ephemeral = 1024 + (rnd() % 60000)
    b.srcPort[i] = answer ? port : ephemeral
    b.dstPort[i] = answer ? ephemeral : port
    b.packets[i] = 1
    b.bytes[i] = answer ? 40 : 44
    const t = windowStart + (i / n) * 60 + (rnd() % 1000) / 1e6
    b.first[i] = t
    b.last[i] = t
    b.awsTcpFlags[i] = answer ? 18 : 2
    b.nhnTcpFlags[i] = answer ? 20 : 2
    b.cause[i] = accepted || answer ? rnd() % ruleIds.length : -1
  }
  return b
}

const batch = scanBatch(N)
const formatter = formatterFor(flowLog.fileFormat)
const context = { flowLog, network }
/** Per stage: CPU (user + system, so zlib and GC helper threads count) and wall, ms per run. */
const rows = new Map()
async function timed(name, fn) {
  const cpu = process.cpuUsage()
  const wall = performance.now()
  const result = await fn()
  const used = process.cpuUsage(cpu)
  const row = rows.get(name) ?? { cpu: [], wall: [] }
  row.cpu.push((used.user + used.system) / 1000)
  row.wall.push(performance.now() - wall)
  rows.set(name, row)
  return result
}
let sizes = ''
let gcMs = 0
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration
}).observe({ entryTypes: ['gc'] })
const settle = () => new Promise((r) => setTimeout(r, 20))

for (let run = 0; run < RUNS; run++) {
  const records = await timed('expand', () => expandBatch(batch, network, ruleIds))
  const text = await timed('encode', () => formatter.encode(records, context))
  const gz = await timed('gzip', () => compress(text, 'gzip'))
  sizes = `text ${text.length} B, gzip ${gz.length} B`
  if (typeof formatter.encodeBatch === 'function') {
    const bytes = await timed('encodeBatch', () =>
      formatter.encodeBatch(batch, null, { ...context, ruleIds }),
    )
    if (Buffer.compare(Buffer.from(bytes), Buffer.from(text)) !== 0) throw new Error('column bytes differ')
  }
  await settle()
}
const writer = new WindowWriter({ network, ruleIds })
for (let run = 0; run < RUNS; run++) {
  await settle()
  const gc0 = gcMs
  await timed('write (all)', () => writer.write(60, batch))
  await settle()
  const row = rows.get('gc in write') ?? { cpu: [], wall: [] }
  row.wall.push(gcMs - gc0)
  rows.set('gc in write', row)
}
rmSync(out, { recursive: true, force: true })

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const us = (xs) => (xs.length === 0 ? '' : ((median(xs) * 1000) / N).toFixed(3))
console.log(`${values.dist}: ${N} scan-like records, ${flowLog.fileFormat}, ${sizes}`)
console.log(`  µs per record, median of ${RUNS} runs     cpu     wall`)
for (const [name, row] of rows)
  console.log(`  ${name.padEnd(30)} ${us(row.cpu).padStart(7)} ${us(row.wall).padStart(8)}`)
