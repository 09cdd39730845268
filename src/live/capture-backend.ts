import { spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { FlowlogError } from '../core/errors.js'
import { DEFAULT_CAPTURE_BUFFER_MIB, DeviceCapture } from './device-capture.js'
import type { CaptureBackend, LiveCapture, LiveCaptureOptions } from './live-capture.js'
import { missingCapabilities, requireCapabilities, tcpdumpPrivilegesError } from './privileges.js'
import { DEFAULT_SNAP_LENGTH, TcpdumpCapture } from './tcpdump-capture.js'

/** `--capture-backend`: `auto` is tcpdump when it is installed and may capture, else libpcap. */
export type CaptureBackendChoice = CaptureBackend | 'auto'

export const CAPTURE_BACKENDS: readonly CaptureBackendChoice[] = ['auto', 'tcpdump', 'libpcap']

/** How the daemon captures, settled once at start-up (with the privilege checks). */
export interface CaptureSetup {
  backend: CaptureBackend
  /** tcpdump's path (tcpdump backend). */
  tcpdump: string | null
  /** Runs tcpdump so that it dies with flowlog (setpriv --pdeathsig KILL), or [] without setpriv. */
  wrapper: string[]
  /** Bytes of each packet captured (tcpdump backend; `cap` fixes 65535). */
  snapLength: number
  /** Why this backend, for the start-up log. */
  reason: string
}

/** Directories searched after PATH: tcpdump lives in sbin on some systems, often not on a user's PATH. */
const SBIN = ['/usr/sbin', '/sbin', '/usr/local/sbin']

/** An executable's path, looked up on PATH (then the sbin directories), or null. */
export function findCommand(name: string, path = process.env.PATH ?? ''): string | null {
  for (const dir of [...path.split(delimiter), ...SBIN]) {
    if (dir === '') continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // Not here.
    }
  }
  return null
}

/**
 * Whether tcpdump may capture here: `tcpdump -L -i any` opens a packet socket on the `any` device
 * (always present and up) and lists its link types. Null when it may, else tcpdump's message.
 */
export function probeTcpdump(tcpdump: string): string | null {
  const r = spawnSync(tcpdump, ['-L', '-i', 'any'], { encoding: 'utf8', timeout: 10_000 })
  if (r.status === 0) return null
  return (r.stderr || r.error?.message || `exit ${r.status ?? r.signal}`).replace(/\s+/g, ' ').trim()
}

/** `setpriv --pdeathsig KILL --` when util-linux's setpriv supports it, else []. */
function parentDeathWrapper(): string[] {
  const setpriv = findCommand('setpriv')
  if (setpriv === null) return []
  const r = spawnSync(setpriv, ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore', timeout: 5_000 })
  return r.status === 0 ? [setpriv, '--pdeathsig', 'KILL', '--'] : []
}

/**
 * Settles the capture backend and checks the privileges it needs, failing early (exit 2) with
 * the fix. tcpdump is preferred: it reads the ring in C and takes packets in 256-byte slots, where
 * the `cap` binding reserves 64 KiB per packet and calls into JavaScript once per packet. A child
 * does not inherit node's capabilities, so when node was granted them (setcap) and tcpdump was
 * not, `auto` falls back to libpcap inside node.
 */
export function chooseCaptureBackend(
  requested: CaptureBackendChoice,
  options: { enforce: boolean; snapLength?: number },
): CaptureSetup {
  const snapLength = options.snapLength ?? DEFAULT_SNAP_LENGTH
  const libpcap = (reason: string): CaptureSetup => {
    requireCapabilities()
    return { backend: 'libpcap', tcpdump: null, wrapper: [], snapLength, reason }
  }
  if (requested === 'libpcap') return libpcap('--capture-backend libpcap')
  const tcpdump = findCommand('tcpdump')
  if (tcpdump === null) {
    if (requested === 'tcpdump') {
      throw new FlowlogError(
        'ERR_NO_TCPDUMP',
        '--capture-backend tcpdump: tcpdump is not installed (apt-get install tcpdump)',
      )
    }
    return libpcap('tcpdump is not installed: libpcap in this process (cap binding)')
  }
  const problem = probeTcpdump(tcpdump)
  if (problem !== null) {
    const permission = /permission|not permitted/i.test(problem)
    if (requested === 'tcpdump') {
      if (permission) throw tcpdumpPrivilegesError(problem, null)
      throw new FlowlogError(
        'ERR_CAPTURE_OPEN',
        `--capture-backend tcpdump: tcpdump cannot capture: ${problem}`,
      )
    }
    const missing = missingCapabilities()
    if (missing.length > 0 && permission) throw tcpdumpPrivilegesError(problem, missing)
    return libpcap(`tcpdump cannot capture here (${problem}): libpcap in this process (cap binding)`)
  }
  // nftables and NFLOG bindings are set up by this process (and its nft child) in enforce mode.
  if (options.enforce) requireCapabilities()
  return {
    backend: 'tcpdump',
    tcpdump,
    wrapper: parentDeathWrapper(),
    snapLength,
    reason: requested === 'tcpdump' ? '--capture-backend tcpdump' : 'tcpdump is installed and may capture',
  }
}

/** Opens one device with the settled backend; tcpdump starts asynchronously. */
export async function openLiveCapture(
  setup: CaptureSetup,
  options: LiveCaptureOptions & { onDrained?: () => void },
): Promise<LiveCapture> {
  const bufferMiB = options.bufferMiB || DEFAULT_CAPTURE_BUFFER_MIB
  if (setup.backend === 'libpcap' || setup.tcpdump === null) {
    return new DeviceCapture({
      device: options.device,
      onFrame: options.onFrame,
      bufferMiB,
      ...(options.onDrained === undefined ? {} : { onDrained: options.onDrained }),
    })
  }
  return TcpdumpCapture.open({
    device: options.device,
    onFrame: options.onFrame,
    bufferMiB,
    command: setup.tcpdump,
    snapLength: setup.snapLength,
    wrapper: setup.wrapper,
  })
}
