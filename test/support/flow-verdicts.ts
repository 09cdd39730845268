type Row = Record<string, unknown>

/**
 * Per flow (interface, direction, 5-tuple) and verdict: packets, and the rule or reason named —
 * the form in which enforce tests compare the kernel's records with flowlog's own engine's.
 */
export function flowVerdicts(records: readonly Row[]): Record<string, string> {
  const sums = new Map<string, { packets: number; causes: Set<string> }>()
  for (const r of records) {
    if (r['log-status'] !== 'OK') continue
    const key = [
      r['interface-id'],
      r['flow-direction'],
      r.protocol,
      r['pkt-srcaddr'],
      r.srcport,
      r['pkt-dstaddr'],
      r.dstport,
      r.action,
    ].join(' ')
    const s = sums.get(key) ?? { packets: 0, causes: new Set<string>() }
    s.packets += Number(r.packets)
    s.causes.add(String(r['rule-id'] ?? r['reject-reason-detail']))
    sums.set(key, s)
  }
  return Object.fromEntries(
    [...sums]
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([k, s]) => [k, `${s.packets} ${[...s.causes].sort().join(',')}`]),
  )
}
