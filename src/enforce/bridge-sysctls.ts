import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { FlowlogError } from '../core/errors.js'
import type { Logger } from '../ops/logger.js'

/**
 * br_netfilter's switches that make bridged IPv4 and IPv6 frames pass the inet hooks, where the
 * ruleset judges them (docs/live.md). They are per network namespace.
 */
export const BRIDGE_SYSCTLS = ['net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-ip6tables']

/** Where the originals are kept while flowlog has the switches on: /run is emptied at boot, as sysctls are. */
export const DEFAULT_STATE_DIR = '/run/flowlog'

/** What the state file holds: the value of each switch before flowlog set it. */
type Originals = Record<string, string>

/**
 * Turns the switches on while enforce mode runs and puts them back as they were: on exit, and on
 * the next start after a crash, from a small state file written before anything is changed. The
 * file is per network namespace and table, so daemons in different namespaces never share one.
 */
export class BridgeSysctls {
  readonly stateFile: string
  private originals: Originals | null = null

  /** `procSys` is where the sysctls are (a test points it at a folder of its own). */
  constructor(
    stateDir: string,
    table: string,
    private readonly log: Logger,
    private readonly procSys = '/proc/sys',
  ) {
    this.stateFile = join(stateDir, `bridge-sysctls-netns${netnsId()}-${table}.json`)
  }

  private path(name: string): string {
    return join(this.procSys, ...name.split('.'))
  }

  /** True while flowlog holds the switches (restore() has something to do). */
  get enabled(): boolean {
    return this.originals !== null
  }

  /** Restores what a run that did not exit cleanly left set; true when it found something. */
  recover(): boolean {
    if (!existsSync(this.stateFile)) return false
    let originals: Originals
    try {
      originals = JSON.parse(readFileSync(this.stateFile, 'utf8')) as Originals
    } catch (error) {
      this.log.warn(
        { stateFile: this.stateFile, error: error instanceof Error ? error.message : String(error) },
        'unreadable bridge sysctl state left by a previous run; removed it',
      )
      rmSync(this.stateFile, { force: true })
      return false
    }
    this.writeAll(originals)
    rmSync(this.stateFile, { force: true })
    this.log.warn(
      { sysctls: originals, stateFile: this.stateFile },
      'restored the bridge sysctls a previous run left set (it did not exit cleanly)',
    )
    return true
  }

  /**
   * Sets both switches to 1, remembering the originals on disk first. Refuses, naming the missing
   * kernel feature, when br_netfilter is not there: without it bridged frames would pass unjudged.
   */
  enable(): void {
    if (this.originals !== null) return
    const missing = BRIDGE_SYSCTLS.filter((name) => !existsSync(this.path(name)))
    if (missing.length > 0) {
      throw new FlowlogError(
        'ERR_BR_NETFILTER',
        `enforce mode on bridge ports needs the kernel's br_netfilter (${missing.join(', ')} missing): ` +
          'load it with "modprobe br_netfilter" (CONFIG_BRIDGE_NETFILTER), or make the devices routed',
      )
    }
    const originals: Originals = {}
    for (const name of BRIDGE_SYSCTLS) originals[name] = readFileSync(this.path(name), 'utf8').trim()
    try {
      mkdirSync(join(this.stateFile, '..'), { recursive: true })
      const temporary = `${this.stateFile}.${process.pid}`
      writeFileSync(temporary, `${JSON.stringify(originals)}\n`)
      renameSync(temporary, this.stateFile)
    } catch (error) {
      // Without the file a crash would leave the switches set for good: change nothing.
      throw new FlowlogError(
        'ERR_SYSCTL_STATE',
        `cannot keep the bridge sysctls' originals in ${this.stateFile}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      )
    }
    this.originals = originals
    this.writeAll(Object.fromEntries(BRIDGE_SYSCTLS.map((name) => [name, '1'])))
    this.log.info(
      {
        sysctls: Object.fromEntries(BRIDGE_SYSCTLS.map((n) => [n, 1])),
        originals,
        stateFile: this.stateFile,
      },
      'bridged frames pass the inet hooks while flowlog enforces (br_netfilter); restored on exit',
    )
  }

  /** Puts the originals back (synchronous: it also runs from process 'exit'). */
  restore(): void {
    const originals = this.originals
    if (originals === null) return
    this.originals = null
    this.writeAll(originals)
    rmSync(this.stateFile, { force: true })
    this.log.info({ sysctls: originals }, 'restored the bridge sysctls')
  }

  private writeAll(values: Originals): void {
    for (const [name, value] of Object.entries(values)) {
      if (!BRIDGE_SYSCTLS.includes(name) || !/^\d+$/.test(value)) continue
      try {
        writeFileSync(this.path(name), value)
      } catch (error) {
        throw new FlowlogError(
          'ERR_SYSCTL',
          `cannot set ${name}=${value}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        )
      }
    }
  }
}

/** The network namespace's identity (the inode of /proc/self/ns/net), stable while it exists. */
function netnsId(): string {
  try {
    return String(statSync('/proc/self/ns/net').ino)
  } catch {
    return 'unknown'
  }
}
