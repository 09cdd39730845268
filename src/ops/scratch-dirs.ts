import { mkdtempSync, rmSync } from 'node:fs'
import { constants, tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Scratch directories under the system's temporary directory (staging files, DuckDB's spill,
 * standard input's copy), which must not outlive the process: a 10 M-record analysis stages
 * gigabytes there. Each caller removes its directory as soon as it is done with it; whatever is
 * left when the process ends goes then:
 *
 * - on any exit (the command finished, failed, or called process.exit);
 * - on SIGINT (Ctrl-C) and SIGTERM, while a directory exists: the directories go, then the signal
 *   is raised again with its default action, so the process ends as killed by it (a shell's $? is
 *   130 or 143, and a script running flowlog stops on Ctrl-C as it would have). A command that
 *   stops gracefully on these signals itself (`run`, `console`) listens to them too, and is left to
 *   do so: its stop ends in a normal exit, which removes the directories (the rule signal-exit
 *   follows).
 *
 *   const dir = makeScratchDir('flowlog-sql-')
 *   try { ... } finally { removeScratchDir(dir) }
 */
const live = new Set<string>()
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const
let exitHooked = false

/** A new directory `{tmpdir}/{prefix}XXXXXX`, removed when the process ends if not before. */
export function makeScratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  live.add(dir)
  if (!exitHooked) {
    process.on('exit', removeAll)
    exitHooked = true
  }
  // First, so that it sees whether anyone else listens (a `once` listener is gone once called).
  if (live.size === 1) for (const signal of STOP_SIGNALS) process.prependListener(signal, onStopSignal)
  return dir
}

/** Removes a scratch directory and everything in it (at once: not left for the process's end). */
export function removeScratchDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  live.delete(dir)
  // Without a directory to remove, the signals get their default action (or their owner's) again.
  if (live.size === 0) unlistenSignals()
}

/** The scratch directories not removed yet (for tests). */
export function liveScratchDirs(): string[] {
  return [...live]
}

function onStopSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return
  removeAll()
  unlistenSignals()
  process.kill(process.pid, signal)
  // The default action ends the process before this fires; were the signal held off somehow, the
  // exit status still says which signal it was.
  setTimeout(() => process.exit(128 + constants.signals[signal]), 1000)
}

function removeAll(): void {
  for (const dir of live) {
    try {
      // DuckDB's threads may still be writing spill files while the process stops: retried.
      rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 10 })
      live.delete(dir)
    } catch {
      // Nothing else can be done this late; the directory's name says whose it is.
    }
  }
}

function unlistenSignals(): void {
  for (const signal of STOP_SIGNALS) process.removeListener(signal, onStopSignal)
}
