import { type Path, problem } from '../config/problems.js'
import { checkPeer, checkProtocol, isCidrLike } from '../config/rules.js'
import { normaliseRule } from '../config/security-group-rule.js'
import type { SecurityGroupRule } from '../core/network.js'
import { ControlError } from './control-error.js'
import type { RuleDraft } from './control-plane.js'

/**
 * A security-group rule as an API gives it, checked and normalised by the config's own rules
 * (protocol names and numbers, port ranges only for tcp/udp, ICMP type before code, CIDRs in
 * canonical form), so two spellings of one rule are one rule and duplicates are found.
 */
export type CheckedRule = Omit<SecurityGroupRule, 'id'>

export function checkRuleDraft(draft: RuleDraft, at: Path): CheckedRule {
  const problems: string[] = []
  const protocol = checkProtocol(draft.protocol)
  if (!protocol.ok)
    throw new ControlError(
      'InvalidParameterValue',
      problem([...at, 'protocol'], draft.protocol, protocol.rule),
    )
  for (const key of ['icmpType', 'icmpCode'] as const) {
    const n = draft[key]
    if (!Number.isInteger(n) || n < -1 || n > 255)
      problems.push(problem([...at, key], n, 'is not an ICMP type or code -1..255'))
  }
  const { value, problems: ruleProblems } = normaliseRule({
    protocol: protocol.value,
    ports: draft.ports ?? undefined,
    icmpType: draft.icmpType === -1 ? undefined : draft.icmpType,
    icmpCode: draft.icmpCode === -1 ? undefined : draft.icmpCode,
  })
  for (const p of ruleProblems) problems.push(problem([...at, p.key], p.value, p.rule))
  const peer = checkPeer(String(draft.peer))
  if (!peer.ok) problems.push(problem([...at, 'peer'], draft.peer, peer.rule))
  if (draft.description !== null && (typeof draft.description !== 'string' || draft.description.length > 255))
    problems.push(problem([...at, 'description'], draft.description, 'is not text of at most 255 characters'))
  if (problems.length > 0 || !peer.ok) throw new ControlError('InvalidParameterValue', problems.join('; '))
  return { protocol: protocol.value, ...value, peer: peer.value, description: draft.description }
}

/** What makes two rules the same rule (AWS's duplicate test): everything but id and description. */
export function ruleKey(rule: CheckedRule): string {
  return [rule.protocol, rule.ports ?? '*', rule.icmpType, rule.icmpCode, rule.peer].join('|')
}

export function isGroupPeer(peer: string): boolean {
  return !isCidrLike(peer)
}
