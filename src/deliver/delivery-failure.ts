import { DeliveryError } from '../core/errors.js'

/**
 * Why a put failed, in the words a user acts on. `permanent` failures (no such bucket, access
 * denied, no credentials, a request the store will never take) are not fixed by waiting: they are
 * reported as refusals and retried only at the longest backoff, in case someone fixes the store.
 */
export type FailureKind =
  | 'no-such-bucket'
  | 'access-denied'
  | 'no-credentials'
  | 'rejected'
  | 'unreachable'
  | 'timeout'
  | 'server-error'
  | 'local'

export class DestinationFailure extends DeliveryError {
  readonly kind: FailureKind
  readonly permanent: boolean
  constructor(
    kind: FailureKind,
    message: string,
    destination: string,
    key: string,
    options?: { cause?: unknown },
  ) {
    super(message, destination, key, options)
    this.kind = kind
    this.permanent = PERMANENT.has(kind)
  }
}

const PERMANENT = new Set<FailureKind>(['no-such-bucket', 'access-denied', 'no-credentials', 'rejected'])

/** True for failures that waiting will not fix; anything unclassified is worth retrying. */
export function isPermanentFailure(error: unknown): boolean {
  return error instanceof DestinationFailure && error.permanent
}

/** One line for the spool's metadata and listings, without stack or cause chain. */
export function failureSummary(error: unknown): string {
  if (error instanceof DestinationFailure) return `${error.kind}: ${error.message}`
  return error instanceof Error ? error.message : String(error)
}
