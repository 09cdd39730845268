/**
 * An error of a control-plane operation, named with AWS's EC2 error code (AWS semantics win):
 * `InvalidGroup.NotFound`, `InvalidPermission.Duplicate`, `DependencyViolation`,
 * `InvalidParameterValue`, `MissingParameter`, `IdempotentParameterMismatch`,
 * `InvalidFlowLogId.NotFound`, `FlowLogAlreadyExists`, `ServiceUnavailable`, ... The EC2 adapter
 * sends the code as is; other adapters map it (`httpStatus` gives the REST status).
 * The message names the field, the value and the rule, and never holds a secret.
 */
export class ControlError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ControlError'
    this.code = code
  }

  /** The HTTP status a REST adapter answers with (EC2 answers 400 for all client errors). */
  get httpStatus(): number {
    if (this.code.endsWith('.NotFound') || this.code === 'NotFound') return 404
    if (this.code === 'DependencyViolation' || this.code.endsWith('.Duplicate') || this.code === 'Conflict')
      return 409
    if (this.code === 'ServiceUnavailable') return 503
    if (this.code === 'AuthFailure' || this.code === 'Unauthorized') return 401
    if (this.code === 'InternalError') return 500
    return 400
  }
}
