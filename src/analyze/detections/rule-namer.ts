import type { NetworkConfig } from '../../core/network.js'
import { type CompiledPolicy, compilePolicy } from '../../policy/compile-policy.js'
import type { Flow } from '../flow.js'
import { flowToView, type InterfaceIndex, indexInterfaces, newView, placeFlow } from '../flow-view.js'
import { ruleText } from '../rule-text.js'

/**
 * Names the security-group rule that let an accepted request in: the record's own `rule-id` when
 * the format has it, else (with --config) the first rule of the interface's groups that allows it.
 * A detection's suggested fix is then "narrow this rule", which is the only fix a security group
 * has: it cannot deny one address.
 */
export interface NamedRule {
  id: string
  /** `sg-web inbound tcp 22 from 0.0.0.0/0`, or just the id when no config describes it. */
  text: string
}

export class RuleNamer {
  readonly #index: InterfaceIndex | null
  readonly #policy: CompiledPolicy | null
  readonly #texts = new Map<string, string>()
  readonly #view = newView()

  constructor(network: NetworkConfig | null) {
    this.#index = network === null ? null : indexInterfaces(network)
    this.#policy = network === null ? null : compilePolicy(network)
    for (const g of network?.securityGroups ?? []) {
      for (const r of g.inbound) this.#texts.set(r.id, `${g.id} ${ruleText(r, 'inbound')}`)
      for (const r of g.outbound) this.#texts.set(r.id, `${g.id} ${ruleText(r, 'outbound')}`)
    }
  }

  name(id: string): NamedRule {
    return { id, text: this.#texts.get(id) ?? id }
  }

  /** The rule that accepted this (request) record, or null when nothing says. */
  ruleOf(flow: Flow): NamedRule | null {
    if (flow.action !== 'ACCEPT') return null
    if (flow.ruleId !== null) return this.name(flow.ruleId)
    if (this.#index === null || this.#policy === null) return null
    const place = placeFlow(flow, this.#index)
    if (place === null || !flowToView(flow, this.#view, this.#index)) return null
    const rule = this.#policy.evaluate(place.iface, place.direction, this.#view)
    const id = this.#policy.ruleIds[rule]
    return id === undefined ? null : this.name(id)
  }
}
