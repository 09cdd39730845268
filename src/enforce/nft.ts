import { spawnSync } from 'node:child_process'
import { FlowlogError } from '../core/errors.js'

/** Runs `nft` with `input` on stdin; throws with nft's own message when it refuses. */
function nft(args: readonly string[], input?: string): { ok: boolean; stdout: string; stderr: string } {
  const result = spawnSync('nft', args, { input: input ?? '', encoding: 'utf8', timeout: 30_000 })
  if (result.error !== undefined) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT'
    throw new FlowlogError(
      'ERR_NFT',
      missing ? 'enforce mode needs nftables: apt-get install nftables' : `nft: ${result.error.message}`,
      { cause: result.error },
    )
  }
  return { ok: result.status === 0, stdout: result.stdout, stderr: result.stderr.trim() }
}

/** Loads a ruleset in one transaction (`nft -f -`): it applies whole or not at all. */
export function loadRuleset(text: string): void {
  const result = nft(['-f', '-'], text)
  if (!result.ok) throw new FlowlogError('ERR_NFT', `nft refused the ruleset: ${result.stderr}`)
}

/** Checks a ruleset without applying it (`nft -c -f -`). */
export function checkRuleset(text: string): string | null {
  const result = nft(['-c', '-f', '-'], text)
  return result.ok ? null : result.stderr
}

export function tableExists(table: string): boolean {
  return nft(['list', 'table', 'inet', table]).ok
}

/** Removes flowlog's table if it is there; true when one was removed. */
export function removeTable(table: string): boolean {
  if (!tableExists(table)) return false
  const result = nft(['delete', 'table', 'inet', table])
  if (!result.ok)
    throw new FlowlogError('ERR_NFT', `nft could not remove table inet ${table}: ${result.stderr}`)
  return true
}
