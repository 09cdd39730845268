import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { parse as parseYaml } from 'yaml'
import { isRecordTime } from '../../src/core/record-time.js'
import { repoPath } from '../support/paths.js'
import { requireCommands } from '../support/requirements.js'

/**
 * End to end through the real CLI, checked against an independent oracle: tshark's reading of the
 * same capture. For every interface, 5-tuple and direction, the packets and bytes summed over all
 * records of a flow log (every window, every action) must equal what tshark counts for the packets
 * the config attributes to that interface: a packet whose source is an interface's address is
 * egress of that interface, one whose destination is, ingress (web -> db counts on both).
 * Bytes are the IP length (IPv4 total length, IPv6 payload length + 40). Later IPv4 fragments carry
 * no ports; like flowlog, the oracle gives them their first fragment's (same addresses, protocol
 * and IP id), so a fragmented datagram is one flow.
 *
 * The odd captures (test/fixtures/captures/odd, written by scripts/make-fixtures.py) put the same
 * check on encapsulations (PPPoE, MPLS), on a pcapng whose interfaces are out of time order, and on
 * frames whose timestamps no flow log can carry: those are left out of tshark's count and must be
 * what the replay summary counts as `bad-timestamp`.
 */

const CONFIG = repoPath('test/fixtures/mixed.yaml')
const CAPTURE = repoPath('test/fixtures/captures/mixed.pcap')

interface Counts {
  packets: number
  bytes: number
}

type Tally = Map<string, Counts>

/** Canonical text of an address, so tshark's and flowlog's spellings of IPv6 compare equal. */
function canonicalIp(address: string): string {
  if (!address.includes(':')) return address
  const [head = '', tail = ''] = address.toLowerCase().split('::')
  const left = head === '' ? [] : head.split(':')
  const right = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : []
  const missing = 8 - left.length - right.length
  const groups = [...left, ...Array<string>(address.includes('::') ? missing : 0).fill('0'), ...right]
  return groups.map((g) => Number.parseInt(g, 16).toString(16)).join(':')
}

function key(
  iface: string,
  src: string,
  dst: string,
  srcPort: number,
  dstPort: number,
  protocol: number,
): string {
  return `${iface} ${canonicalIp(src)} ${canonicalIp(dst)} ${srcPort} ${dstPort} ${protocol}`
}

function add(tally: Tally, k: string, packets: number, bytes: number): void {
  const c = tally.get(k)
  if (c === undefined) tally.set(k, { packets, bytes })
  else {
    c.packets += packets
    c.bytes += bytes
  }
}

/** Interface ids by canonical address, from the config. */
function interfacesByAddress(configPath: string): Map<string, string[]> {
  const config = parseYaml(readFileSync(configPath, 'utf8')) as {
    interfaces: { id: string; addresses: string[] }[]
  }
  const owners = new Map<string, string[]>()
  for (const i of config.interfaces) {
    for (const a of i.addresses) owners.set(canonicalIp(a), [...(owners.get(canonicalIp(a)) ?? []), i.id])
  }
  return owners
}

const TSHARK_FIELDS = [
  'frame.number',
  'frame.time_epoch',
  'ip.src',
  'ipv6.src',
  'ip.dst',
  'ipv6.dst',
  'ip.proto',
  'ipv6.nxt',
  'tcp.srcport',
  'udp.srcport',
  'tcp.dstport',
  'udp.dstport',
  'ip.len',
  'ipv6.plen',
  'ip.id',
  'ip.frag_offset',
] as const

/**
 * What tshark sees, attributed to interfaces by the config's addresses. IP packets stamped with a
 * time no flow log can carry are counted apart (`badTimestamps`), not tallied.
 */
function tsharkTally(
  configPath: string,
  capture: string,
): { tally: Tally; ipPackets: number; badTimestamps: number } {
  const args = ['-r', capture, '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-T', 'fields']
  args.push('-E', 'separator=/t', '-E', 'occurrence=f', ...TSHARK_FIELDS.flatMap((f) => ['-e', f]))
  const text = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  const owners = interfacesByAddress(configPath)
  const firstFragmentPorts = new Map<string, [number, number]>()
  const tally: Tally = new Map()
  let ipPackets = 0
  let badTimestamps = 0
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    const f = Object.fromEntries(TSHARK_FIELDS.map((name, i) => [name, line.split('\t')[i] ?? ''])) as Record<
      (typeof TSHARK_FIELDS)[number],
      string
    >
    const v4 = f['ip.src'] !== ''
    const src = v4 ? f['ip.src'] : f['ipv6.src']
    const dst = v4 ? f['ip.dst'] : f['ipv6.dst']
    if (src === '') continue // not IP (ARP)
    ipPackets++
    if (!isRecordTime(Number(f['frame.time_epoch']))) {
      badTimestamps++
      continue
    }
    const protocol = Number(v4 ? f['ip.proto'] : f['ipv6.nxt'])
    const bytes = v4 ? Number(f['ip.len']) : Number(f['ipv6.plen']) + 40
    let srcPort = Number(f['tcp.srcport'] || f['udp.srcport'] || 0)
    let dstPort = Number(f['tcp.dstport'] || f['udp.dstport'] || 0)
    if (v4) {
      const datagram = `${src} ${dst} ${protocol} ${f['ip.id']}`
      if (Number(f['ip.frag_offset'] || 0) > 0)
        [srcPort, dstPort] = firstFragmentPorts.get(datagram) ?? [0, 0]
      else firstFragmentPorts.set(datagram, [srcPort, dstPort])
    }
    for (const iface of owners.get(canonicalIp(src)) ?? [])
      add(tally, key(iface, src, dst, srcPort, dstPort, protocol), 1, bytes)
    for (const iface of owners.get(canonicalIp(dst)) ?? [])
      add(tally, key(iface, src, dst, srcPort, dstPort, protocol), 1, bytes)
  }
  return { tally, ipPackets, badTimestamps }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })
}

/** Column name candidates: AWS text names, then NHN CSV names. */
const COLUMNS = {
  iface: ['interface-id', 'interface_id'],
  src: ['srcaddr', 'src_addr'],
  dst: ['dstaddr', 'dst_addr'],
  srcPort: ['srcport', 'src_port'],
  dstPort: ['dstport', 'dst_port'],
  protocol: ['protocol'],
  packets: ['packets'],
  bytes: ['bytes'],
  status: ['log-status', 'status'],
} as const

/** Sums the OK records of flow-log files (AWS text with its header line, or NHN CSV with its header row). */
function fileTally(files: string[]): { tally: Tally; records: number; statuses: Map<string, number> } {
  const tally: Tally = new Map()
  const statuses = new Map<string, number>()
  let records = 0
  for (const file of files) {
    const raw = readFileSync(file)
    const lines = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8').split('\n')
    const separator = file.includes('.csv') ? ',' : ' '
    const header = (lines[0] ?? '').split(separator)
    const column = Object.fromEntries(
      Object.entries(COLUMNS).map(([name, candidates]) => {
        const at = header.findIndex((h) => (candidates as readonly string[]).includes(h))
        assert.ok(at >= 0, `${file}: no ${candidates.join('/')} column in its header: ${lines[0]}`)
        return [name, at]
      }),
    ) as Record<keyof typeof COLUMNS, number>
    for (const line of lines.slice(1)) {
      if (line === '') continue
      const cells = line.split(separator)
      const cell = (c: keyof typeof COLUMNS) => cells[column[c]] ?? ''
      const status = cell('status')
      statuses.set(status, (statuses.get(status) ?? 0) + 1)
      if (status !== 'OK') continue
      records++
      const k = key(
        cell('iface'),
        cell('src'),
        cell('dst'),
        Number(cell('srcPort')),
        Number(cell('dstPort')),
        Number(cell('protocol')),
      )
      add(tally, k, Number(cell('packets')), Number(cell('bytes')))
    }
  }
  return { tally, records, statuses }
}

/** Every difference between two tallies, one line each (empty when they agree). */
function differences(expected: Tally, actual: Tally): string[] {
  const out: string[] = []
  for (const k of [...new Set([...expected.keys(), ...actual.keys()])].sort()) {
    const e = expected.get(k)
    const a = actual.get(k)
    if (e?.packets === a?.packets && e?.bytes === a?.bytes) continue
    const show = (c: Counts | undefined) => (c === undefined ? 'none' : `${c.packets} pkts ${c.bytes} B`)
    out.push(`  ${k}: tshark ${show(e)}, flowlog ${show(a)}`)
  }
  return out
}

/** Runs `flowlog replay` of `captures` into a fresh directory; the summary JSON and the files written. */
function replayCli(
  configPath: string,
  captures: string[],
): { summary: ReplaySummaryJson; files: string[]; out: string } {
  assert.ok(existsSync(repoPath('dist/src/cli/main.js')), 'dist/ is missing: run `npm run build` first')
  const out = mkdtempSync(join(tmpdir(), 'flowlog-oracle-'))
  const summaryPath = join(out, 'summary.json')
  const logs = join(out, 'logs')
  const run = spawnSync(
    process.execPath,
    [
      repoPath('bin/flowlog.js'),
      'replay',
      '--config',
      configPath,
      '--out',
      logs,
      '--summary-json',
      summaryPath,
      ...captures,
    ],
    { encoding: 'utf8', timeout: 120_000 },
  )
  assert.equal(run.status, 0, `flowlog replay failed (${run.status}):\n${run.stdout}\n${run.stderr}`)
  const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as ReplaySummaryJson
  return { summary, files: existsSync(logs) ? filesUnder(logs) : [], out }
}

interface ReplaySummaryJson {
  decode: Record<string, number>
  readProblems: Record<string, number>
  latePackets: number
}

function assertSameTally(flowLog: string, files: string[], expected: Tally, outDir: string): void {
  assert.ok(files.length > 0, `${flowLog}: no files under ${outDir}: ${files.join(', ')}`)
  const { tally, records, statuses } = fileTally(files)
  assert.ok(records > 0, `${flowLog}: no OK records`)
  assert.equal(statuses.get('SKIPDATA') ?? 0, 0, `${flowLog}: SKIPDATA records`)
  const diff = differences(expected, tally)
  assert.equal(
    diff.length,
    0,
    `${flowLog}: ${diff.length} of ${expected.size} (interface, 5-tuple, direction) keys differ:\n${diff.join('\n')}`,
  )
}

test('replay of mixed.pcap: every flow log sums to tshark per interface, 5-tuple and direction', (t) => {
  if (!requireCommands(t, 'apt-get install tshark', 'tshark')) return
  const { files, out } = replayCli(CONFIG, [CAPTURE])
  try {
    const { tally: expected, ipPackets } = tsharkTally(CONFIG, CAPTURE)
    assert.ok(ipPackets > 300, `tshark read only ${ipPackets} IP packets from ${CAPTURE}`)
    assert.ok(expected.size > 40, `only ${expected.size} (interface, 5-tuple, direction) keys attributed`)
    const families = [
      { flowLog: 'fl-0001 (AWS text)', files: files.filter((f) => /\.log(\.gz)?$/.test(f)) },
      { flowLog: 'fl-nhn01 (NHN CSV)', files: files.filter((f) => /\.csv(\.gz)?$/.test(f)) },
    ]
    for (const family of families) assertSameTally(family.flowLog, family.files, expected, out)
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})

const ODD_CONFIG = repoPath('test/fixtures/odd.yaml')
const ODD_CAPTURES = [
  { file: 'pppoe.pcap', badTimestamps: 0 },
  { file: 'mpls.pcap', badTimestamps: 0 },
  { file: 'interfaces-out-of-order.pcapng', badTimestamps: 0 },
  { file: 'bad-timestamps.pcapng', badTimestamps: 4 },
]

for (const odd of ODD_CAPTURES) {
  test(`replay of odd/${odd.file}: recorded as tshark counts it, bad timestamps counted by reason`, (t) => {
    if (!requireCommands(t, 'apt-get install tshark', 'tshark')) return
    const capture = repoPath(`test/fixtures/captures/odd/${odd.file}`)
    const { summary, files, out } = replayCli(ODD_CONFIG, [capture])
    try {
      const { tally: expected, ipPackets, badTimestamps } = tsharkTally(ODD_CONFIG, capture)
      assert.ok(ipPackets >= 10, `tshark read only ${ipPackets} IP packets from ${capture}`)
      assert.equal(badTimestamps, odd.badTimestamps, 'IP frames tshark shows before 1970 or past 9999')
      assert.equal(summary.decode['bad-timestamp'] ?? 0, badTimestamps, 'bad-timestamp in the summary')
      assert.equal(summary.latePackets, 0, 'late packets')
      assert.deepEqual(summary.readProblems, {}, 'capture problems')
      assert.deepEqual(
        files.filter((f) => /NaN|undefined|Infinity/.test(f)),
        [],
        'file names built from a bad time',
      )
      assertSameTally('fl-odd (AWS text)', files, expected, out)
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  })
}
