import { readFileSync } from 'node:fs'
import { parseDocument } from 'yaml'
import { parseConfig } from '../config/load-config.js'
import { InputError } from '../core/errors.js'
import type { NetworkConfig, SecurityGroupRule } from '../core/network.js'

/**
 * Proposed security groups for what-if: a YAML/JSON file with a list of groups in the config's own
 * schema, either bare (`- id: sg-web ...`) or under `securityGroups:`. A proposed group replaces the
 * config's group of the same id; other config groups stay; new groups may be referenced by rules.
 *
 * Validation is the config's own: the proposed groups, then the config's remaining groups, its VPCs
 * and interfaces go through the same parser, so every problem reads as in `flowlog validate`
 * (`securityGroups[0].inbound[1].ports: "99999" is not a port range 0-65535`), and since the
 * proposed groups come first, `securityGroups[i]` is the i-th group of the proposed file.
 */

type Raw = Record<string, unknown>

function rawRule(rule: SecurityGroupRule, peerKey: 'source' | 'destination'): Raw {
  const out: Raw = { id: rule.id, protocol: rule.protocol, [peerKey]: rule.peer }
  if (rule.ports !== null) out.ports = rule.ports
  if (rule.icmpType >= 0) out.icmpType = rule.icmpType
  if (rule.icmpCode >= 0) out.icmpCode = rule.icmpCode
  if (rule.description !== null) out.description = rule.description
  return out
}

/** The parts of a validated config that groups depend on, back in the file's shape. */
function rawNetwork(network: NetworkConfig, groups: readonly Raw[]): Raw {
  const proposed = new Set(groups.map((g) => g.id))
  const kept = network.securityGroups
    .filter((g) => !proposed.has(g.id))
    .map((g) => ({
      id: g.id,
      ...(g.vpc === null ? {} : { vpc: g.vpc }),
      ...(g.description === null ? {} : { description: g.description }),
      inbound: g.inbound.map((r) => rawRule(r, 'source')),
      outbound: g.outbound.map((r) => rawRule(r, 'destination')),
    }))
  return {
    account: network.account,
    region: network.region,
    vpcs: network.vpcs.map((v) => ({
      id: v.id,
      cidrs: v.cidrs,
      subnets: v.subnets.map((s) => ({ id: s.id, cidrs: s.cidrs, ...(s.az === null ? {} : { az: s.az }) })),
    })),
    securityGroups: [...groups, ...kept],
    interfaces: network.interfaces.map((n) => ({
      id: n.id,
      ...(n.instance === null ? {} : { instance: n.instance }),
      subnet: n.subnet,
      ...(n.mac === null ? {} : { mac: n.mac }),
      addresses: n.addresses,
      ...(n.device === null ? {} : { device: n.device }),
      securityGroups: n.securityGroups,
    })),
    limits: network.limits,
  }
}

export interface ProposedNetwork {
  network: NetworkConfig
  /** Ids of the groups the file proposes (replaced or new). */
  proposed: string[]
  /** Proposed groups no interface has: their rules judge nothing (unless referenced). */
  unattached: string[]
}

export function loadProposedGroups(path: string, current: NetworkConfig): ProposedNetwork {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error)
    throw new InputError(`--groups: cannot read ${path}: ${reason}`)
  }
  return parseProposedGroups(text, path, current)
}

/** The same from text (YAML or JSON) named `path` in messages: the console's what-if sends the groups. */
export function parseProposedGroups(text: string, path: string, current: NetworkConfig): ProposedNetwork {
  const json = path.toLowerCase().endsWith('.json') || /^\uFEFF?\s*[[{]/.test(text)
  const document = parseDocument(text, {
    schema: json ? 'json' : 'core',
    uniqueKeys: true,
    prettyErrors: true,
  })
  if (document.errors.length > 0) {
    const problems = document.errors.map((e) => {
      const at = e.linePos?.[0]
      const message = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '')
      return at === undefined ? `${path}: ${message}` : `${path}:${at.line}:${at.col}: ${message}`
    })
    throw new InputError(
      `${path} is not valid ${json ? 'JSON' : 'YAML'}:\n  ${problems.join('\n  ')}`,
      problems,
    )
  }
  const raw: unknown = document.toJS()
  const shape = 'a list of security groups, or a mapping with the one key "securityGroups"'
  let groups: unknown
  if (Array.isArray(raw)) groups = raw
  else if (typeof raw === 'object' && raw !== null) {
    const keys = Object.keys(raw)
    const extra = keys.filter((k) => k !== 'securityGroups')
    if (extra.length > 0)
      throw new InputError(`${path}: unknown key ${JSON.stringify(extra[0])} (the file holds ${shape})`)
    groups = (raw as Raw).securityGroups
  } else
    throw new InputError(
      `${path}: ${raw === null || raw === undefined ? 'the file is empty' : `${JSON.stringify(raw)} is not ${shape}`}`,
    )
  if (!Array.isArray(groups))
    throw new InputError(`${path}: securityGroups: ${JSON.stringify(groups)} is not a list`)
  if (groups.length === 0) throw new InputError(`${path}: proposes no security groups`)
  const items = groups.map((g) =>
    typeof g === 'object' && g !== null && !Array.isArray(g) ? (g as Raw) : { id: g },
  )

  let network: NetworkConfig
  try {
    network = parseConfig(JSON.stringify(rawNetwork(current, items)), path)
  } catch (error) {
    if (!(error instanceof InputError)) throw error
    const count = error.problems.length === 1 ? '1 problem' : `${error.problems.length} problems`
    throw new InputError(
      `${path}: the proposed security groups are not valid (${count}; securityGroups[i] is the i-th group of ${path}):\n  ${error.problems.join('\n  ')}`,
      error.problems,
    )
  }
  const proposed = items.map((g) => String(g.id))
  const attached = new Set(network.interfaces.flatMap((n) => n.securityGroups))
  return { network, proposed, unattached: proposed.filter((id) => !attached.has(id)) }
}
