import type { NetworkConfig } from '../core/network.js'
import { onThisHost } from '../pipeline/flow-log-coverage.js'

/**
 * What a live reload may change: security groups (their rules, and which groups an interface
 * has). Everything else shapes the running pipeline and is refused with the reason:
 * flow logs are immutable (as in AWS: delete and create a new one), and interfaces, VPCs,
 * account, region and limits need a restart.
 */
export function reloadProblems(current: NetworkConfig, next: NetworkConfig): string[] {
  const problems: string[] = []
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
  const before = new Map(current.flowLogs.map((f) => [f.id, f]))
  const after = new Map(next.flowLogs.map((f) => [f.id, f]))
  for (const [id, flowLog] of after) {
    const old = before.get(id)
    if (old === undefined) {
      problems.push(`flowLogs: flow log ${id} is new; adding a flow log needs a restart`)
      continue
    }
    const changed = (Object.keys(flowLog) as (keyof typeof flowLog)[]).filter(
      (k) => !same(flowLog[k], old[k]),
    )
    if (changed.length > 0) {
      problems.push(
        `flowLogs: flow log ${id} changed (${changed.join(', ')}); flow logs are immutable: give the changed one a new id and restart`,
      )
    }
  }
  for (const id of before.keys()) {
    if (!after.has(id))
      problems.push(`flowLogs: flow log ${id} was removed; removing a flow log needs a restart`)
  }
  problems.push(...topologyProblems(current, next))
  return problems
}

/**
 * What no live change may alter, because it shapes the running pipeline (interface indexes,
 * captures, table sizes): interfaces but for their security groups, VPCs, account, region and
 * limits. Flow logs and security groups may change (LiveDaemon.apply).
 */
export function topologyProblems(current: NetworkConfig, next: NetworkConfig): string[] {
  const problems: string[] = []
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
  // A fleet agent's own interfaces come first (fleet-topology.ts) and are all it captures and
  // records; the other hosts' follow and only lend their addresses to group references, so
  // hosts may join, leave and change while it runs.
  const own = (c: NetworkConfig) => c.interfaces.filter((i) => onThisHost(c, i))
  const shape = (c: NetworkConfig) => own(c).map(({ securityGroups: _groups, ...rest }) => rest)
  const first = (c: NetworkConfig) => c.interfaces.slice(0, own(c).length).every((i) => onThisHost(c, i))
  if (!same(shape(current), shape(next)) || !first(current) || !first(next)) {
    problems.push('interfaces: interfaces changed (other than their securityGroups); that needs a restart')
  }
  // A fleet's VPCs gain the subnets other hosts know; those of this host's interfaces may not change.
  const vpcs = (c: NetworkConfig) =>
    c.agentHost === undefined
      ? c.vpcs
      : c.vpcs.map((v) => ({
          id: v.id,
          cidrs: v.cidrs,
          subnets: v.subnets.filter((s) => own(c).some((i) => i.subnet === s.id)),
        }))
  if (!same(vpcs(current), vpcs(next))) problems.push('vpcs: VPCs or subnets changed; that needs a restart')
  if (current.account !== next.account || current.region !== next.region) {
    problems.push('account/region changed; that needs a restart')
  }
  if (!same(current.limits, next.limits)) problems.push('limits changed; that needs a restart')
  return problems
}
