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

/** Grants node the capabilities (the af-packet and libpcap backends capture inside node). */
export const NODE_SETCAP = 'setcap cap_net_raw,cap_net_admin+ep "$(readlink -f "$(command -v node)")"'
/** Grants tcpdump the capabilities (the tcpdump backend: a child does not inherit node's). */
export const TCPDUMP_SETCAP = 'setcap cap_net_raw,cap_net_admin+ep "$(command -v tcpdump)"'

const NEEDS = 'flowlog run needs root, or the capabilities CAP_NET_RAW and CAP_NET_ADMIN'

/**
 * Fails early, with the fix, when the process may not capture (CAP_NET_RAW: packet sockets,
 * NFLOG) or administer the network (CAP_NET_ADMIN: promiscuous mode, nftables, NFLOG binding).
 */
export function requireCapabilities(missing = missingCapabilities()): void {
  if (missing.length === 0) return
  throw new FlowlogError(
    'ERR_PRIVILEGES',
    `${NEEDS}; this process lacks ${missing.join(' and ')}. Run it as root (sudo), or grant them to node: ${NODE_SETCAP}`,
  )
}

/**
 * The error when tcpdump may not capture (`tcpdumpSays` is its message). tcpdump runs as a child
 * process, and capabilities given to node's binary do not pass to it, so the fix names tcpdump's
 * binary; `missing` (this process's) is given when the libpcap backend is no way out either.
 */
export function tcpdumpPrivilegesError(tcpdumpSays: string, missing: readonly string[] | null): FlowlogError {
  const says = tcpdumpSays.replace(/\s+/g, ' ').trim()
  if (missing === null) {
    return new FlowlogError(
      'ERR_PRIVILEGES',
      `${NEEDS} for tcpdump, which captures (--capture-backend tcpdump) and does not inherit this process's; tcpdump says: ${says}. Run it as root (sudo), or grant them to tcpdump: ${TCPDUMP_SETCAP}`,
    )
  }
  return new FlowlogError(
    'ERR_PRIVILEGES',
    `${NEEDS}; this process lacks ${missing.join(' and ')}, and tcpdump, which captures by default, may not capture either (${says}). Run it as root (sudo), or grant them to tcpdump, which does not inherit node's: ${TCPDUMP_SETCAP} (or to node, for the af-packet and libpcap backends, which capture inside node: ${NODE_SETCAP})`,
  )
}
