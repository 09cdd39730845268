import { FlowlogError } from '../core/errors.js'
import type { NetworkConfig } from '../core/network.js'
import type { Logger } from '../ops/logger.js'
import type { CompiledPolicy } from '../policy/compile-policy.js'
import { BridgeSysctls, DEFAULT_STATE_DIR } from './bridge-sysctls.js'
import { type DeviceLayout, describeLayout, readDeviceLayouts, unsupportedReason } from './device-layout.js'
import { loadRuleset, removeTable } from './nft.js'
import { type RulesetOptions, renderRuleset } from './render-ruleset.js'

export interface EnforceOptions extends RulesetOptions {
  /** Where the bridge sysctls' originals are kept while flowlog holds them (default /run/flowlog). */
  stateDir?: string
}

/**
 * Enforce mode's hold on the kernel, from start to exit: the nftables table and, when a device is
 * a bridge port, br_netfilter's switches. What a crashed run left (the table, the switches) is put
 * back at start; every change of the groups or of a device's place (a VM started later, a tap
 * moved to a bridge) replaces the whole table in one transaction; remove() gives everything back.
 */
export class EnforcedRuleset {
  private readonly sysctls: BridgeSysctls
  private layouts = new Map<string, DeviceLayout>()
  private loaded = false

  constructor(
    private readonly options: EnforceOptions,
    private readonly log: Logger,
  ) {
    this.sysctls = new BridgeSysctls(options.stateDir ?? DEFAULT_STATE_DIR, options.table, log)
  }

  get table(): string {
    return this.options.table
  }

  /** Cleans up after a crashed run, looks at the devices, and loads the ruleset. Throws on refusal. */
  start(network: NetworkConfig, policy: CompiledPolicy): void {
    this.sysctls.recover()
    if (removeTable(this.options.table)) {
      this.log.warn(
        { table: this.options.table },
        'removed the ruleset a previous run left behind (it did not exit cleanly)',
      )
    }
    this.layouts = readDeviceLayouts(devicesOf(network))
    this.logLayouts(network, this.layouts, null)
    this.load(network, policy)
  }

  /**
   * Replaces the ruleset with one for `network` and `policy` (a reload, an API change), atomically:
   * connections the kernel tracks keep their state. Throws, leaving the running ruleset, when the
   * kernel refuses it.
   */
  replace(network: NetworkConfig, policy: CompiledPolicy): void {
    const layouts = readDeviceLayouts(devicesOf(network))
    this.logLayouts(network, layouts, this.layouts)
    this.layouts = layouts
    this.load(network, policy)
  }

  /**
   * Looks at the devices again (the daemon's clock): when one appeared, went away or changed
   * place, logs it and replaces the ruleset. True when it did; a failure is logged, never thrown,
   * and the previous ruleset stays.
   */
  watchDevices(network: NetworkConfig, policy: CompiledPolicy): boolean {
    if (!this.loaded) return false
    try {
      const layouts = readDeviceLayouts(devicesOf(network))
      if (sameLayouts(layouts, this.layouts)) return false
      this.logLayouts(network, layouts, this.layouts)
      this.layouts = layouts
      this.load(network, policy)
      this.log.info({ table: this.options.table }, 'ruleset replaced for the devices as they are now')
      return true
    } catch (error) {
      this.log.error(
        { error: error instanceof Error ? error.message : String(error) },
        'a device changed and the ruleset could not follow; the previous ruleset stays',
      )
      return false
    }
  }

  /** Removes the table and restores the sysctls. Synchronous, so it also runs from process 'exit'. */
  remove(): void {
    if (this.loaded) {
      this.loaded = false
      try {
        removeTable(this.options.table)
        this.log.info({ table: this.options.table }, 'removed the enforce ruleset')
      } catch (error) {
        this.log.error(
          { error: error instanceof Error ? error.message : String(error) },
          'could not remove the enforce ruleset',
        )
      }
    }
    try {
      this.sysctls.restore()
    } catch (error) {
      this.log.error(
        { error: error instanceof Error ? error.message : String(error), stateFile: this.sysctls.stateFile },
        'could not restore the bridge sysctls; the next start restores them from the state file',
      )
    }
  }

  private load(network: NetworkConfig, policy: CompiledPolicy): void {
    for (const [device, layout] of this.layouts) {
      const reason = unsupportedReason(device, layout)
      if (reason !== null) throw new FlowlogError('ERR_ENFORCE_DEVICE', `enforce mode refused: ${reason}`)
    }
    const text = renderRuleset(network, policy, this.options, this.layouts)
    if ([...this.layouts.values()].some((l) => l.kind === 'bridged')) this.sysctls.enable()
    loadRuleset(text)
    this.loaded = true
  }

  /** One line per device whose place is new (all of them at start), naming how it is found. */
  private logLayouts(
    network: NetworkConfig,
    layouts: ReadonlyMap<string, DeviceLayout>,
    before: ReadonlyMap<string, DeviceLayout> | null,
  ): void {
    for (const nic of network.interfaces) {
      if (nic.device === null) continue
      const layout = layouts.get(nic.device)
      if (layout === undefined) continue
      const previous = before?.get(nic.device)
      if (previous !== undefined && sameLayout(previous, layout)) continue
      const fields = {
        interface: nic.id,
        device: nic.device,
        layout: describeLayout(layout),
        ...(previous === undefined ? {} : { was: describeLayout(previous) }),
      }
      switch (layout.kind) {
        case 'routed':
          this.log.info({ ...fields, matchedBy: 'device name' }, `${nic.device}: routed device`)
          break
        case 'absent':
          this.log.warn(
            { ...fields, matchedBy: 'device name' },
            `${nic.device}: no such device yet; judged by name as a routed device until it appears`,
          )
          break
        case 'bridged':
          if (nic.mac !== null) {
            this.log.info(
              { ...fields, matchedBy: `mac ${nic.mac}, addresses` },
              `${nic.device}: port of bridge ${layout.bridge}`,
            )
          } else {
            this.log.warn(
              { ...fields, matchedBy: 'addresses', addresses: nic.addresses },
              `${nic.device}: port of bridge ${layout.bridge}, and ${nic.id} has no mac: its packets are ` +
                'told apart by its addresses only (give it its mac to judge DHCP, link-local and other source addresses)',
            )
          }
          break
        case 'unsupported':
          this.log.error(fields, unsupportedReason(nic.device, layout) ?? 'unsupported device')
          break
      }
    }
  }
}

function devicesOf(network: NetworkConfig): string[] {
  return network.interfaces.flatMap((nic) => (nic.device === null ? [] : [nic.device]))
}

function sameLayout(a: DeviceLayout, b: DeviceLayout): boolean {
  return describeLayout(a) === describeLayout(b)
}

function sameLayouts(a: ReadonlyMap<string, DeviceLayout>, b: ReadonlyMap<string, DeviceLayout>): boolean {
  if (a.size !== b.size) return false
  for (const [device, layout] of a) {
    const other = b.get(device)
    if (other === undefined || !sameLayout(layout, other)) return false
  }
  return true
}
