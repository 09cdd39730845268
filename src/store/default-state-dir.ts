import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'

/**
 * Where the control plane keeps its state when `--state` does not say: `/var/lib/flowlog` for
 * root (the daemon, a system service), else the user's state directory
 * (`$XDG_STATE_HOME/flowlog`, else `~/.local/state/flowlog`). FLOWLOG_STATE_DIR overrides it for
 * a whole environment (a service unit, a test).
 */
export function defaultStateDir(
  env: NodeJS.ProcessEnv = process.env,
  uid = process.getuid?.() ?? -1,
): string {
  const explicit = env.FLOWLOG_STATE_DIR
  if (explicit !== undefined && isAbsolute(explicit)) return explicit
  if (uid === 0) return '/var/lib/flowlog'
  const state = env.XDG_STATE_HOME
  if (state !== undefined && isAbsolute(state)) return join(state, 'flowlog')
  return join(homedir(), '.local', 'state', 'flowlog')
}
