import * as z from 'zod'
import { closestName } from './closest-name.js'

/**
 * How config problems read: `path: value rule`, e.g.
 * `securityGroups[1].inbound[0].ports: "99999" is not a port range 0-65535`.
 * Schema checks give only the rule; this module adds the path and the value, so every message
 * has the same shape whether zod or a cross-reference check found it.
 */

export type Path = readonly PropertyKey[]

/** `securityGroups[1].inbound[0].ports`; the document itself is `config`. */
export function formatPath(path: Path): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else if (typeof part === 'string' && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(part))
      out += out === '' ? part : `.${part}`
    else out += `[${JSON.stringify(String(part))}]`
  }
  return out === '' ? 'config' : out
}

/** A value as the user wrote it: strings quoted, long lists and objects cut short. */
export function formatValue(value: unknown): string {
  if (value === undefined) return 'nothing'
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

export function problem(path: Path, value: unknown, rule: string): string {
  return `${formatPath(path)}: ${formatValue(value)} ${rule}`
}

// strictObject's own unknown-key message carries the known keys (and hints) to formatIssue, which
// writes one problem per unknown key with a suggestion. The prefix marks that private hand-over.
const KNOWN_KEYS = 'known keys:'

interface KeyHelp {
  known: string[]
  hints: Record<string, string>
}

/**
 * An object that rejects unknown keys (a typo must not be silently ignored). `hints` explains
 * keys that are wrong here but right elsewhere (`destination` in an inbound rule).
 */
export function strictObject<Shape extends z.ZodRawShape>(shape: Shape, hints: Record<string, string> = {}) {
  const help: KeyHelp = { known: Object.keys(shape), hints }
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `${KNOWN_KEYS}${JSON.stringify(help)}` : undefined,
  })
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object (key: value)',
}

/** The rule text of zod's built-in checks, for the few places a schema does not say its own. */
export const ruleOfIssue: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      const name = TYPE_NAMES[issue.expected] ?? issue.expected
      // A YAML number where a string is wanted (account: 012345678901) loses leading zeros.
      if (issue.expected === 'string' && typeof issue.input === 'number') return `is not ${name} (quote it)`
      return `is not ${name}`
    }
    case 'invalid_value':
      return `is not one of ${issue.values.map(String).join(', ')}`
    case 'too_small':
      return issue.origin === 'array'
        ? `needs at least ${issue.minimum} item(s)`
        : `is below ${issue.minimum}`
    case 'too_big':
      return issue.origin === 'string'
        ? `is longer than ${issue.maximum} characters`
        : issue.origin === 'array'
          ? `has more than ${issue.maximum} items`
          : `is above ${issue.maximum}`
    default:
      return undefined
  }
}

/** One zod issue as problem lines (an unknown-keys issue names each key on its own line). */
export function formatIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    const help: KeyHelp = issue.message.startsWith(KNOWN_KEYS)
      ? (JSON.parse(issue.message.slice(KNOWN_KEYS.length)) as KeyHelp)
      : { known: [], hints: {} }
    return issue.keys.map((key) => {
      const guess = closestName(key, help.known)
      const hint =
        help.hints[key] ??
        (guess !== null ? `did you mean "${guess}"?` : `known keys: ${help.known.join(', ')}`)
      return `${formatPath([...issue.path, key])}: unknown key (${hint})`
    })
  }
  if (issue.code === 'invalid_type' && issue.input === undefined)
    return [`${formatPath(issue.path)}: is required`]
  return [problem(issue.path, issue.input, issue.message)]
}

const TOP_LEVEL_ORDER = [
  'account',
  'region',
  'vpcs',
  'securityGroups',
  'interfaces',
  'flowLogs',
  'limits',
  'spoolDir',
  'deliveryTimeout',
  's3',
]

/**
 * Orders problems as the document reads: by top-level key (in schema order), then by the index of
 * the list item. The sort is stable, so problems inside one item keep the order they were found in.
 */
export function sortProblems(problems: readonly string[]): string[] {
  const rank = (p: string): [number, number] => {
    const match = /^([A-Za-z]+)(?:\[(\d+)\])?/.exec(p)
    const top = TOP_LEVEL_ORDER.indexOf(match?.[1] ?? '')
    return [top < 0 ? TOP_LEVEL_ORDER.length : top, Number(match?.[2] ?? -1)]
  }
  return problems
    .map((p) => ({ p, r: rank(p) }))
    .sort((a, b) => a.r[0] - b.r[0] || a.r[1] - b.r[1])
    .map((x) => x.p)
}
