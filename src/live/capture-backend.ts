import { spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { FlowlogError } from '../core/errors.js'
import { DEFAULT_CAPTURE_BUFFER_MIB, DeviceCapture } from './device-capture.js'
import type { CaptureBackend, LiveCapture, LiveCaptureOptions } from './live-capture.js'
import { loadPacketRing, packetRingMissing } from './packet-ring.js'
import {
  missingCapabilities,
  NODE_SETCAP,
  requireCapabilities,
  tcpdumpPrivilegesError,
} from './privileges.js'
import { RingCapture, UnsupportedDeviceError } from './ring-capture.js'
import { DEFAULT_SNAP_LENGTH, TcpdumpCapture } from './tcpdump-capture.js'

/**
 * `--capture-backend`: `auto` is af-packet when its addon is built and this process may open
 * packet sockets (observe mode), else tcpdump when it is installed and may capture, else libpcap.
 */
export type CaptureBackendChoice = CaptureBackend | 'auto'

export const CAPTURE_BACKENDS: readonly CaptureBackendChoice[] = ['auto', 'af-packet', 'tcpdump', 'libpcap']

/** How the daemon captures, settled once at start-up (with the privilege checks). */
export interface CaptureSetup {
  backend: CaptureBackend
  /** What was asked for: `auto` may fall back, per device, where af-packet cannot capture. */
  requested: CaptureBackendChoice
  /** tcpdump's path (tcpdump backend). */
  tcpdump: string | null
  /** Runs tcpdump so that it dies with flowlog (setpriv --pdeathsig KILL), or [] without setpriv. */
  wrapper: string[]
  /** Bytes of each packet captured (tcpdump and af-packet backends; `cap` fixes 65535). */
  snapLength: number
  /** Why this backend, for the start-up log. */
  reason: string
}

/**
 * Null when the af-packet backend can capture here (its addon is built, and this process may open
 * packet sockets), else why not.
 */
export function probePacketRing(): string | null {
  const addon = loadPacketRing()
  if (addon === null) return packetRingMissing()
  return addon.probe()
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
 * the fix. af-packet is preferred: it reads the kernel's ring inside node, a block of packets at a
 * time, with no pipe and no second process. Next tcpdump: it reads the ring in C and takes packets
 * in 256-byte slots, where the `cap` binding reserves 64 KiB per packet and calls into JavaScript
 * once per packet. A child does not inherit node's capabilities, so when node was granted them
 * (setcap) and tcpdump was not, `auto` falls back to libpcap inside node. Enforce mode reads NFLOG
 * groups, which only tcpdump and libpcap read.
 */
export function chooseCaptureBackend(
  requested: CaptureBackendChoice,
  options: { enforce: boolean; snapLength?: number; probePacketRing?: () => string | null },
): CaptureSetup {
  const snapLength = options.snapLength ?? DEFAULT_SNAP_LENGTH
  const probe = options.probePacketRing ?? probePacketRing
  if (requested === 'af-packet') {
    if (options.enforce) {
      throw new FlowlogError(
        'ERR_CAPTURE_BACKEND',
        '--capture-backend af-packet captures devices, but enforce mode reads the kernel verdicts from NFLOG groups, which tcpdump or libpcap read: use --capture-backend auto, tcpdump or libpcap',
      )
    }
    const problem = probe()
    if (problem !== null) {
      if (/permission|not permitted/i.test(problem)) {
        throw new FlowlogError(
          'ERR_PRIVILEGES',
          `flowlog run needs root, or the capability CAP_NET_RAW, to capture with --capture-backend af-packet (${problem}). Run it as root (sudo), or grant it to node: ${NODE_SETCAP}`,
        )
      }
      throw new FlowlogError('ERR_CAPTURE_OPEN', `--capture-backend af-packet: ${problem}`)
    }
    return ringSetup(requested, snapLength, '--capture-backend af-packet')
  }
  let unavailable = ''
  if (requested === 'auto') {
    if (options.enforce) unavailable = 'enforce mode reads NFLOG groups (not af-packet): '
    else {
      const problem = probe()
      if (problem === null) {
        return ringSetup(
          requested,
          snapLength,
          'the af-packet addon is built and this process may open packet sockets',
        )
      }
      unavailable = `af-packet cannot capture here (${problem}): `
    }
  }
  const libpcap = (reason: string): CaptureSetup => {
    requireCapabilities()
    return {
      backend: 'libpcap',
      requested,
      tcpdump: null,
      wrapper: [],
      snapLength,
      reason: unavailable + reason,
    }
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
    requested,
    tcpdump,
    wrapper: parentDeathWrapper(),
    snapLength,
    reason:
      unavailable +
      (requested === 'tcpdump' ? '--capture-backend tcpdump' : 'tcpdump is installed and may capture'),
  }
}

function ringSetup(requested: CaptureBackendChoice, snapLength: number, reason: string): CaptureSetup {
  return { backend: 'af-packet', requested, tcpdump: null, wrapper: [], snapLength, reason }
}

/** The setup `auto` falls back to for a device af-packet cannot capture; settled once. */
let fallback: CaptureSetup | null = null

/** Opens one device with the settled backend; tcpdump starts asynchronously. */
export async function openLiveCapture(
  setup: CaptureSetup,
  options: LiveCaptureOptions & { onDrained?: () => void },
): Promise<LiveCapture> {
  const bufferMiB = options.bufferMiB || DEFAULT_CAPTURE_BUFFER_MIB
  if (setup.backend === 'af-packet') {
    try {
      return RingCapture.open({
        device: options.device,
        onFrame: options.onFrame,
        bufferMiB,
        snapLength: setup.snapLength,
      })
    } catch (error) {
      if (!(error instanceof UnsupportedDeviceError) || setup.requested !== 'auto') throw error
      fallback ??= chooseCaptureBackend('auto', {
        enforce: false,
        snapLength: setup.snapLength,
        probePacketRing: () => 'a device of a type it does not capture',
      })
      return openLiveCapture(fallback, options)
    }
  }
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
