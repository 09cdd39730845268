/** Exponential backoff for delivery retries: 1 s, 2 s, 4 s, ... up to 5 minutes. */
export interface BackoffPolicy {
  baseMs: number
  maxMs: number
}

export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = { baseMs: 1_000, maxMs: 5 * 60_000 }

/**
 * The wait before retry number `attempt` (1 after the first failure). "Equal jitter": half of the
 * exponential step is fixed and half random, so many agents that lost the same store at the same
 * moment do not come back in lockstep, and no wait collapses to zero.
 */
export function retryDelay(
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30)
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent)
  return Math.round(step / 2 + random() * (step / 2))
}
