import { DIRECTION, type Direction, REJECT_REASON, REJECT_REASON_NAMES } from '../core/verdict.js'

/**
 * The NFLOG prefix of every packet enforce mode logs, written by the ruleset and read back by the
 * verdict reader, so both live here:
 *
 *   flowlog <interface index> <e|i> <cause> <interface id> <rule id or reject reason>
 *
 * The first four words are what flowlog reads (cause: rule index ≥ 0, or -(reject reason + 1), as
 * on the packet path); the last two are for people reading `nft monitor` or another NFLOG
 * consumer. The kernel keeps 127 bytes of a prefix; only the human part is ever cut.
 */
export const PREFIX_TAG = 'flowlog'
const MAX_PREFIX = 127

export const NO_MATCHING_RULE = -(REJECT_REASON.NO_MATCHING_RULE + 1)
export const NOT_ESTABLISHED = -(REJECT_REASON.NOT_ESTABLISHED + 1)

export function verdictPrefix(
  iface: number,
  egress: boolean,
  cause: number,
  interfaceId: string,
  ruleId: string | null,
): string {
  const label = cause >= 0 ? (ruleId ?? '') : (REJECT_REASON_NAMES[-cause - 1] ?? 'rejected')
  const text = `${PREFIX_TAG} ${iface} ${egress ? 'e' : 'i'} ${cause} ${interfaceId} ${label}`
  return text.length <= MAX_PREFIX ? text : text.slice(0, MAX_PREFIX)
}

/** Where a parsed prefix goes; reused for every packet. */
export interface ParsedVerdict {
  iface: number
  direction: Direction
  cause: number
}

const TAG_BYTES = Array.from(`${PREFIX_TAG} `, (c) => c.charCodeAt(0))
const SPACE = 0x20
const MINUS = 0x2d

/** Parses the machine part of a prefix in d[start, end). False if it is not one of ours. Allocation-free. */
export function parseVerdictPrefix(d: Uint8Array, start: number, end: number, out: ParsedVerdict): boolean {
  let o = start
  if (end - o < TAG_BYTES.length + 5) return false
  for (let i = 0; i < TAG_BYTES.length; i++) if (d[o++] !== TAG_BYTES[i]) return false
  let iface = 0
  let digits = 0
  while (o < end && d[o]! >= 0x30 && d[o]! <= 0x39) {
    iface = iface * 10 + d[o++]! - 0x30
    digits++
  }
  if (digits === 0 || d[o++] !== SPACE) return false
  const side = d[o++]
  if ((side !== 0x65 && side !== 0x69) || d[o++] !== SPACE) return false
  let negative = false
  if (d[o] === MINUS) {
    negative = true
    o++
  }
  let cause = 0
  digits = 0
  while (o < end && d[o]! >= 0x30 && d[o]! <= 0x39) {
    cause = cause * 10 + d[o++]! - 0x30
    digits++
  }
  if (digits === 0 || (o < end && d[o] !== SPACE)) return false
  out.iface = iface
  out.direction = side === 0x65 ? DIRECTION.EGRESS : DIRECTION.INGRESS
  out.cause = negative ? -cause : cause
  return true
}
