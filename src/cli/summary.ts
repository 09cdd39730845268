import type { ReplaySummary } from '../pipeline/replay.js'

const n = (v: number) => v.toLocaleString('en-US')

/** The end-of-replay summary: what was read, what was not and why, what was written where. */
export function printReplaySummary(s: ReplaySummary): void {
  const rate = s.seconds > 0 ? Math.round(s.packets / s.seconds) : s.packets
  const { ok = 0, 'not-ip': notIp = 0, ...malformed } = s.decode
  const malformedTotal = Object.values(malformed).reduce((a, b) => a + b, 0)
  const lines = [
    `flowlog replay: ${n(s.packets)} packets from ${s.captures} capture(s) in ${s.seconds.toFixed(2)} s (${n(rate)} packets/s)`,
    `  decoded            ${n(ok)}`,
    `  not IP             ${n(notIp)}  (ARP, LLDP, ...: no flow)`,
    `  not decoded        ${n(malformedTotal)}${malformedTotal > 0 ? `  (${describe(malformed)})` : ''}`,
    `  not attributed     ${n(s.unattributed)}  (no configured interface owns either address)`,
  ]
  if (s.neighbourDiscovery > 0)
    lines.push(`  neighbour discovery ${n(s.neighbourDiscovery)}  (IPv6's ARP: no flow)`)
  if (Object.keys(s.readProblems).length > 0) lines.push(`  capture problems   ${describe(s.readProblems)}`)
  if (s.skippedPackets > 0)
    lines.push(`  skipped            ${n(s.skippedPackets)}  (flow table full: in SKIPDATA records)`)
  if (s.latePackets > 0)
    lines.push(`  late               ${n(s.latePackets)}  (older than a window already written)`)
  if (s.internalErrors > 0)
    lines.push(`  internal errors    ${n(s.internalErrors)}  (a bug: please report it)`)
  lines.push(`  peak flow records  ${n(s.peakFlowRecords)}, peak tracked connections ${n(s.peakConnections)}`)
  if (s.gzip !== null) lines.push(`  gzip               ${s.gzip}`)
  for (const f of s.flowLogs) {
    lines.push(`flow log ${f.id}: ${n(f.files)} file(s), ${n(f.records)} record(s), ${n(f.bytes)} bytes`)
    const dirs = [...new Set(f.locations.map((l) => l.slice(0, l.lastIndexOf('/'))))]
    for (const d of dirs.slice(0, 3)) lines.push(`  in ${d}`)
    if (dirs.length > 3) lines.push(`  ... and ${dirs.length - 3} more folder(s)`)
  }
  console.log(lines.join('\n'))
}

function describe(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ')
}
