import { execFileSync } from 'node:child_process'
import type { TestContext } from 'node:test'

/**
 * Tests that need a system tool skip with a loud reason when it is missing, and fail instead
 * when FLOWLOG_TEST_STRICT=1 (CI installs everything, so a skip there is a bug).
 */
export const STRICT = process.env.FLOWLOG_TEST_STRICT === '1'

const found = new Map<string, boolean>()

export function hasCommand(command: string): boolean {
  let ok = found.get(command)
  if (ok === undefined) {
    try {
      execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' })
      ok = true
    } catch {
      ok = false
    }
    found.set(command, ok)
  }
  return ok
}

/**
 * Returns true when every command is on PATH. Otherwise skips the test (or throws under strict
 * mode) naming what to install, and returns false: callers `if (!requireCommands(...)) return`.
 */
export function requireCommands(t: TestContext, install: string, ...commands: string[]): boolean {
  const missing = commands.filter((c) => !hasCommand(c))
  if (missing.length === 0) return true
  const reason = `SKIPPED: needs ${missing.join(', ')} (install: ${install})`
  if (STRICT) throw new Error(`${reason}, and FLOWLOG_TEST_STRICT=1 forbids skipping`)
  console.warn(`\n*** ${reason} ***\n`)
  t.skip(reason)
  return false
}

/**
 * Returns true when running as root (network namespaces, nftables, packet capture). Otherwise
 * skips (or throws under strict mode) like requireCommands.
 */
export function requireRoot(t: TestContext, why: string): boolean {
  if (process.getuid?.() === 0) return true
  const reason = `SKIPPED: needs root (${why}); run the tests as root, as .ci/run does`
  if (STRICT) throw new Error(`${reason}, and FLOWLOG_TEST_STRICT=1 forbids skipping`)
  console.warn(`\n*** ${reason} ***\n`)
  t.skip(reason)
  return false
}

/**
 * Returns true when a native addon this test needs is built. Otherwise skips (or throws under
 * strict mode) naming how to build it, like requireCommands.
 */
export function requireBuilt(t: TestContext, built: boolean, what: string, install: string): boolean {
  if (built) return true
  const reason = `SKIPPED: needs ${what} (install: ${install})`
  if (STRICT) throw new Error(`${reason}, and FLOWLOG_TEST_STRICT=1 forbids skipping`)
  console.warn(`\n*** ${reason} ***\n`)
  t.skip(reason)
  return false
}
