import { CaptureError, InputError } from '../core/errors.js'

/** Exit codes of every command (DESIGN 4b). */
export const EXIT = { OK: 0, BAD_INPUT: 1, FAILURE: 2 } as const

/**
 * Runs a command body and turns errors into one clear message and an exit code: bad input
 * (config, flags, files) is 1 with every problem listed; anything else is 2.
 */
export async function runAction(body: () => Promise<unknown>): Promise<void> {
  try {
    await body()
  } catch (error) {
    process.exitCode = reportError(error)
  }
}

export function reportError(error: unknown): number {
  if (error instanceof InputError) {
    console.error(`flowlog: ${error.message}`)
    // A message that already lists every problem (a config's) is not followed by the list again.
    if (!error.problems.every((p) => error.message.includes(p))) {
      for (const p of error.problems) console.error(`  - ${p}`)
    }
    return EXIT.BAD_INPUT
  }
  if (error instanceof CaptureError) {
    console.error(`flowlog: ${error.message}`)
    return EXIT.BAD_INPUT
  }
  const message = error instanceof Error ? error.message : String(error)
  console.error(`flowlog: ${message}`)
  if (process.env.FLOWLOG_DEBUG && error instanceof Error) console.error(error.stack)
  return EXIT.FAILURE
}
