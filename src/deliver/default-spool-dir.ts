import { homedir, tmpdir, userInfo } from 'node:os'
import { isAbsolute, join } from 'node:path'

/**
 * Where files wait when neither `--spool` nor the config's `spoolDir` says: the user's cache
 * directory (`$XDG_CACHE_HOME/flowlog/spool`, else `~/.cache/flowlog/spool`), which survives a
 * reboot, unlike the OS temp directory; without a home, `{tmpdir}/flowlog-spool-{uid}`.
 * FLOWLOG_SPOOL_DIR overrides it for a whole environment (a service unit, a test).
 */
export function defaultSpoolDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.FLOWLOG_SPOOL_DIR
  if (explicit !== undefined && isAbsolute(explicit)) return explicit
  const cache = env.XDG_CACHE_HOME
  if (cache !== undefined && isAbsolute(cache)) return join(cache, 'flowlog', 'spool')
  let home = ''
  try {
    home = homedir()
  } catch {
    // No home directory (a bare service account): the temp directory below.
  }
  if (home !== '' && home !== '/') return join(home, '.cache', 'flowlog', 'spool')
  let uid = 'user'
  try {
    uid = String(userInfo().uid)
  } catch {
    // Keep the generic name.
  }
  return join(tmpdir(), `flowlog-spool-${uid}`)
}
