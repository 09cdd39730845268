/** Direction relative to the interface that recorded the packet. */
export const DIRECTION = { INGRESS: 0, EGRESS: 1, UNKNOWN: 2 } as const
export type Direction = (typeof DIRECTION)[keyof typeof DIRECTION]
export const DIRECTION_NAMES = ['ingress', 'egress', 'unknown'] as const

/**
 * The security-group verdict. One internal type; the output format chooses the name
 * (AWS: ACCEPT/REJECT, NHN: ACCEPT/DROP).
 */
export const ACTION = { ACCEPT: 0, REJECT: 1 } as const
export type Action = (typeof ACTION)[keyof typeof ACTION]

/**
 * Why a packet was rejected. Accepted packets carry the index of the rule that accepted the
 * connection instead (see CompiledPolicy.ruleIds).
 */
export const REJECT_REASON = {
  /** No inbound (ingress) or outbound (egress) rule of the interface's groups allows it. */
  NO_MATCHING_RULE: 0,
  /** The packet belongs to a connection that has closed or timed out, and no rule allows it as new traffic. */
  NOT_ESTABLISHED: 1,
} as const
export type RejectReason = (typeof REJECT_REASON)[keyof typeof REJECT_REASON]
export const REJECT_REASON_NAMES = ['no-matching-rule', 'not-established'] as const

/** Log status of a record. */
export const LOG_STATUS = { OK: 0, NODATA: 1, SKIPDATA: 2 } as const
export type LogStatus = (typeof LOG_STATUS)[keyof typeof LOG_STATUS]
export const LOG_STATUS_NAMES = ['OK', 'NODATA', 'SKIPDATA'] as const
