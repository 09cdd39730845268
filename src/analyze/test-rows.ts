import type { FlowRow } from './flow-row.js'

/**
 * Test helpers: flow-log rows written compactly, as the reader would hand them over. Defaults make
 * an accepted TCP record of one packet at T0; tests say only what matters to them.
 */
export const T0 = 1717286400 // 2024-06-02T00:00:00Z

export interface RowSpec {
  iface?: string
  src: string
  dst: string
  sport?: number
  dport?: number
  proto?: number
  packets?: number
  bytes?: number
  /** Seconds after T0. */
  at?: number
  /** Duration in seconds (end = start + duration). */
  duration?: number
  action?: 'ACCEPT' | 'REJECT'
  flags?: number
  direction?: 'ingress' | 'egress'
  rule?: string
}

export function row(spec: RowSpec): FlowRow {
  const start = T0 + (spec.at ?? 0)
  const out: FlowRow = {
    version: 5,
    'account-id': '123456789012',
    'interface-id': spec.iface ?? 'eni-1',
    srcaddr: spec.src,
    dstaddr: spec.dst,
    srcport: spec.sport ?? 40000,
    dstport: spec.dport ?? 80,
    protocol: spec.proto ?? 6,
    packets: spec.packets ?? 1,
    bytes: spec.bytes ?? 60 * (spec.packets ?? 1),
    start,
    end: start + (spec.duration ?? 0),
    action: spec.action ?? 'ACCEPT',
    'log-status': 'OK',
  }
  if (spec.flags !== undefined) out['tcp-flags'] = spec.flags
  if (spec.direction !== undefined) out['flow-direction'] = spec.direction
  if (spec.rule !== undefined) out['rule-id'] = spec.rule
  return out
}

/** Many rows from one spec: `each(i)` gives row i's differences. */
export function rows(count: number, each: (i: number) => RowSpec): FlowRow[] {
  return Array.from({ length: count }, (_, i) => row(each(i)))
}
