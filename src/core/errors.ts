/**
 * The few error classes flowlog throws. Callers branch on `code`, never on message text.
 * The packet path throws none of them: bad packets are counted, not thrown.
 */
export class FlowlogError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** Bad user input (config, flags, files). The CLI exits 1. */
export class InputError extends FlowlogError {
  /** Every problem found, each naming its path, value and rule. */
  readonly problems: readonly string[]
  constructor(message: string, problems: readonly string[] = [message], options?: { cause?: unknown }) {
    super('ERR_INVALID_INPUT', message, options)
    this.problems = problems
  }
}

/** A capture file or device that cannot be read. The CLI exits 1 for a bad file, 2 otherwise. */
export class CaptureError extends FlowlogError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CAPTURE', message, options)
  }
}

/** A destination that refused or failed a write. */
export class DeliveryError extends FlowlogError {
  readonly destination: string
  readonly key: string
  constructor(message: string, destination: string, key: string, options?: { cause?: unknown }) {
    super('ERR_DELIVERY', message, options)
    this.destination = destination
    this.key = key
  }
}
