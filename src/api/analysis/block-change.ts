import { RuleNamer } from '../../analyze/detections/rule-namer.js'
import { toFlow } from '../../analyze/flow.js'
import { ruleText } from '../../analyze/rule-text.js'
import type { NetworkConfig, SecurityGroupRule } from '../../core/network.js'
import type { FlowRow } from '../../read/flow-row.js'
import { excludeAddress } from './cidr-exclude.js'

/**
 * A finding's block as the exact security-group change that makes it: the rule that let the source
 * in is replaced by the same rule for every address of its peer but the source. A security group
 * can only allow, so this is the only block it can hold; the console applies it through the EC2
 * API (authorize the new rules first, then revoke the old one, so the traffic the rule should keep
 * allowing is never cut) after the user confirms.
 */
export interface BlockChange {
  groupId: string
  direction: 'inbound' | 'outbound'
  /** The rule to revoke, as it stands now. */
  revoke: SecurityGroupRule
  /** The rules to authorize in its place (same protocol and ports, narrower peers). */
  authorize: Omit<SecurityGroupRule, 'id'>[]
  /** `sg-web: replace sgr-x (inbound tcp 22 from 0.0.0.0/0) with 32 rules from 0.0.0.0/0 but 198.51.100.66/32`. */
  text: string
}

/**
 * The changes that block `source`, from the records in which a rule accepted it (the record's
 * rule-id, or the config's first matching rule). Only inbound rules: their peer is where the source
 * comes from. Rules whose peer is a security group, or does not hold the source, get no change
 * (nothing exact to do there).
 */
export function blockChanges(
  source: string,
  acceptedRows: Iterable<FlowRow>,
  network: NetworkConfig | null,
): BlockChange[] {
  if (network === null) return []
  const namer = new RuleNamer(network)
  const ruleIds = new Set<string>()
  for (const row of acceptedRows) {
    const rule = namer.ruleOf(toFlow(row))
    if (rule !== null) ruleIds.add(rule.id)
  }
  const changes: BlockChange[] = []
  for (const group of network.securityGroups) {
    // The source is the peer of an inbound rule. An outbound rule that let it out (its own
    // interface's egress record) names destinations, where the source has no place.
    for (const rule of group.inbound) {
      if (!ruleIds.has(rule.id)) continue
      const peers = excludeAddress(rule.peer, source)
      if (peers === null) continue
      const { id: _, ...shape } = rule
      const authorize = peers.map((peer) => ({
        ...shape,
        peer,
        description: `${rule.description ?? rule.id} (but ${source})`,
      }))
      changes.push({
        groupId: group.id,
        direction: 'inbound',
        revoke: rule,
        authorize,
        text: `${group.id}: replace ${rule.id} (${ruleText(rule, 'inbound')}) with ${authorize.length} rule(s) for ${rule.peer} but ${source}`,
      })
    }
  }
  return changes
}
