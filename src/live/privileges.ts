import { readFileSync } from 'node:fs'
import { FlowlogError } from '../core/errors.js'

/** Linux capability numbers (linux/capability.h). */
const CAP_NET_ADMIN = 12
const CAP_NET_RAW = 13

/** The capabilities `flowlog run` needs that this process lacks ([] when it has them all). */
export function missingCapabilities(status = readProcStatus()): string[] {
  const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)
  const effective = line === null ? 0n : BigInt(`0x${line[1]}`)
  const missing: string[] = []
  if ((effective & (1n << BigInt(CAP_NET_RAW))) === 0n) missing.push('CAP_NET_RAW')
  if ((effective & (1n << BigInt(CAP_NET_ADMIN))) === 0n) missing.push('CAP_NET_ADMIN')
  return missing
}

function readProcStatus(): string {
  try {
    return readFileSync('/proc/self/status', 'utf8')
  } catch {
    return ''
  }
}

/**
 * Fails early, with the fix, when the process may not capture (CAP_NET_RAW: packet sockets,
 * NFLOG) or administer the network (CAP_NET_ADMIN: promiscuous mode, nftables, NFLOG binding).
 */
export function requireCapabilities(): void {
  const missing = missingCapabilities()
  if (missing.length === 0) return
  throw new FlowlogError(
    'ERR_PRIVILEGES',
    `flowlog run needs root, or the capabilities CAP_NET_RAW and CAP_NET_ADMIN; this process lacks ${missing.join(
      ' and ',
    )}. Run it as root (sudo), or grant them to node: setcap cap_net_raw,cap_net_admin+ep "$(readlink -f "$(command -v node)")"`,
  )
}
