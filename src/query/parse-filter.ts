import { closestName } from '../config/closest-name.js'
import { type Cidr, parseCidr } from '../core/address.js'
import { InputError } from '../core/errors.js'
import { kindOf } from '../read/flow-row.js'
import { type ResolvedField, resolveField } from './field-names.js'
import type { FilterNode, Relation, ValueMatcher } from './filter.js'
import { globRegex } from './glob.js'
import { parsePattern } from './parse-pattern.js'
import { parseTime } from './time-value.js'

/**
 * Parses a filter expression (`--where`):
 *
 *   dstport=22 and action=REJECT
 *   srcaddr in 10.0.0.0/8 and not dstport in 80,443
 *   port=1024-65535 or (protocol=icmp and packets>100)
 *   start >= 2024-06-01T12:00Z && flow-direction = ingress
 *   interface-id = eni-0a* ; instance-id ~ '^i-0(1|2)'
 *
 * Operators: = == != <> < <= > >= ~ !~ (regex), `in` / `not in` with a list. Booleans: and or not
 * (&& || !), parentheses; terms side by side are and-ed. Values: numbers, `a-b` ranges, comma lists,
 * CIDRs and addresses, `*` wildcards, quoted strings, `-` for "not applicable", protocol names, and
 * times (ISO 8601, unix seconds, 15m/2h/7d ago) for start, end and time. A text starting with `[` is
 * a CloudWatch filter pattern instead (see parsePattern).
 */
export function parseFilter(
  text: string,
  options: { zone?: string; what?: string; onWarning?: (message: string) => void } = {},
): FilterNode {
  const what = options.what ?? '--where'
  if (text.trim().startsWith('[')) return parsePattern(text, what)
  // A warning about one comparison starts with it; when that is the whole filter, say it once.
  const own = `${text.trim()}: `
  const parser = new Parser(tokenize(text, what), text, what, options.zone ?? 'UTC', (message) =>
    options.onWarning?.(
      `${what} "${text}": ${message.startsWith(own) ? message.slice(own.length) : message}`,
    ),
  )
  return parser.parse()
}

/**
 * The values fields of a fixed vocabulary can hold (compared in any case), so a value outside it
 * (`action=rejected`) is reported as one that can never match instead of silently matching nothing.
 */
const KNOWN_VALUES: ReadonlyMap<string, readonly string[]> = new Map([
  ['action', ['ACCEPT', 'REJECT']],
  ['log-status', ['OK', 'NODATA', 'SKIPDATA']],
  ['flow-direction', ['ingress', 'egress']],
  ['type', ['IPv4', 'IPv6', 'EFA']],
  ['reject-reason', ['BPA', 'EC']],
  ['sublocation-type', ['wavelength', 'outpost', 'localzone']],
])

/** Several filters (each --where) and-ed together. */
export function andAll(nodes: readonly FilterNode[]): FilterNode {
  const items = nodes.filter((n) => n.kind !== 'all')
  if (items.length === 0) return { kind: 'all' }
  if (items.length === 1) return items[0]!
  return { kind: 'and', items }
}

type Token =
  | { type: 'word'; text: string; quoted: boolean; at: number }
  | { type: 'op'; text: string; at: number }
  | { type: 'paren'; text: '(' | ')'; at: number }
  | { type: 'comma'; at: number }

const OPERATORS = ['==', '!=', '<>', '<=', '>=', '!~', '&&', '||', '=', '<', '>', '~', '!']
const SPECIAL = new Set(['(', ')', ',', '=', '!', '<', '>', '~', '&', '|', ' ', '\t', '\n', '"', "'"])

function tokenize(text: string, what: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (c === ' ' || c === '\t' || c === '\n') {
      i++
    } else if (c === '(' || c === ')') {
      tokens.push({ type: 'paren', text: c, at: i })
      i++
    } else if (c === ',') {
      tokens.push({ type: 'comma', at: i })
      i++
    } else if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1)
      if (end < 0) throw new InputError(`${what} "${text}": the quote at position ${i + 1} is not closed`)
      tokens.push({ type: 'word', text: text.slice(i + 1, end), quoted: true, at: i })
      i = end + 1
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i))
      if (op !== undefined) {
        tokens.push({ type: 'op', text: op, at: i })
        i += op.length
        continue
      }
      let j = i
      while (j < text.length && !SPECIAL.has(text[j]!)) j++
      if (j === i) throw new InputError(`${what} "${text}": unexpected "${c}" at position ${i + 1}`)
      tokens.push({ type: 'word', text: text.slice(i, j), quoted: false, at: i })
      i = j
    }
  }
  return tokens
}

const keyword = (t: Token | undefined, k: string) =>
  t?.type === 'word' && !t.quoted && t.text.toLowerCase() === k

class Parser {
  private i = 0
  constructor(
    private readonly tokens: Token[],
    private readonly text: string,
    private readonly what: string,
    private readonly zone: string,
    private readonly warn: (message: string) => void,
  ) {}

  parse(): FilterNode {
    if (this.tokens.length === 0) throw this.error('is empty')
    const node = this.or()
    const extra = this.tokens[this.i]
    if (extra !== undefined) throw this.error(`unexpected ${describe(extra)} at position ${extra.at + 1}`)
    return node
  }

  private or(): FilterNode {
    const items = [this.and()]
    while (keyword(this.peek(), 'or') || this.isOp('||')) {
      this.i++
      items.push(this.and())
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items }
  }

  private and(): FilterNode {
    const items = [this.unary()]
    for (;;) {
      const t = this.peek()
      if (keyword(t, 'and') || this.isOp('&&')) {
        this.i++
        items.push(this.unary())
      } else if (
        t !== undefined &&
        !(t.type === 'paren' && t.text === ')') &&
        !keyword(t, 'or') &&
        !this.isOp('||')
      ) {
        items.push(this.unary())
      } else break
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items }
  }

  private unary(): FilterNode {
    const t = this.peek()
    if (t === undefined) throw this.error('ends where a comparison should follow')
    if (keyword(t, 'not') || this.isOp('!')) {
      this.i++
      return { kind: 'not', item: this.unary() }
    }
    if (t.type === 'paren' && t.text === '(') {
      this.i++
      const inner = this.or()
      this.expectParen(')')
      return inner
    }
    return this.comparison()
  }

  private comparison(): FilterNode {
    const start = this.peek()!
    if (start.type !== 'word')
      throw this.error(`expected a field name at position ${start.at + 1}, found ${describe(start)}`)
    this.i++
    const field = resolveField(start.text, `${this.what} "${this.text}"`)
    let negate = false
    let op: string
    const next = this.peek()
    if (keyword(next, 'not') && keyword(this.tokens[this.i + 1], 'in')) {
      this.i += 2
      negate = true
      op = 'in'
    } else if (keyword(next, 'in')) {
      this.i++
      op = 'in'
    } else if (
      next?.type === 'op' &&
      ['=', '==', '!=', '<>', '<', '<=', '>', '>=', '~', '!~'].includes(next.text)
    ) {
      this.i++
      op = next.text
    } else {
      throw this.error(`"${start.text}" must be followed by an operator (= != < <= > >= ~ in)`)
    }
    const values = this.values(op === 'in')
    const end = this.tokens[this.i - 1]!
    const written = this.text
      .slice(start.at, end.at + (end.type === 'word' ? end.text.length + (end.quoted ? 2 : 0) : 1))
      .trim()
    if (op === '!=' || op === '<>' || op === '!~') negate = true
    const relation: Relation | 'in' | '~' =
      op === '==' || op === '!=' || op === '<>' || op === 'in'
        ? op === 'in'
          ? 'in'
          : '='
        : op === '!~'
          ? '~'
          : (op as Relation | '~')
    const matcher = this.matcher(field, relation, values, written)
    return { kind: 'match', field, matcher, negate, text: written }
  }

  /** One value, or a comma list (optionally in parentheses after `in`). */
  private values(list: boolean): { text: string; quoted: boolean }[] {
    const out: { text: string; quoted: boolean }[] = []
    let parens = false
    const open = this.peek()
    if (list && open?.type === 'paren' && open.text === '(') {
      this.i++
      parens = true
    }
    for (;;) {
      const t = this.peek()
      if (t?.type !== 'word')
        throw this.error(`expected a value${t === undefined ? ' at the end' : ` at position ${t.at + 1}`}`)
      this.i++
      out.push({ text: t.text, quoted: t.quoted })
      if (this.peek()?.type !== 'comma') break
      this.i++
    }
    if (parens) this.expectParen(')')
    return out
  }

  private matcher(
    field: ResolvedField,
    relation: Relation | 'in' | '~',
    values: { text: string; quoted: boolean }[],
    written: string,
  ): ValueMatcher {
    const first = values[0]!
    const fieldName = field.fields[0]!
    if (relation === '~') {
      if (values.length > 1) throw this.error(`${written}: ~ takes one regular expression`)
      try {
        return { kind: 'regex', regex: new RegExp(first.text) }
      } catch (error) {
        throw this.error(
          `${written}: "${first.text}" is not a regular expression (${(error as Error).message})`,
        )
      }
    }
    if (values.length === 1 && !first.quoted && first.text === '-') {
      if (relation !== '=' && relation !== 'in')
        throw this.error(`${written}: "-" (not applicable) takes = or != only`)
      return { kind: 'null' }
    }
    const rel: Relation = relation === 'in' ? '=' : relation
    const each = values.map((v) => this.one(field, fieldName, rel, v, written))
    if (each.length === 1) return each[0]!
    if (rel !== '=') throw this.error(`${written}: a list of values takes =, != or in`)
    if (each.every((m) => m.kind === 'number')) {
      return { kind: 'numbers', values: new Set(each.map((m) => (m as { value: number }).value)) }
    }
    if (each.every((m) => m.kind === 'cidr'))
      return { kind: 'cidr', cidrs: each.flatMap((m) => (m as { cidrs: readonly Cidr[] }).cidrs) }
    if (each.every((m) => m.kind === 'text')) {
      const caseless = (each[0] as { caseless: boolean }).caseless
      return {
        kind: 'texts',
        values: new Set(each.map((m) => (m as { value: string }).value)),
        caseless,
      }
    }
    return { kind: 'any', matchers: each }
  }

  private one(
    field: ResolvedField,
    fieldName: string,
    rel: Relation,
    value: { text: string; quoted: boolean },
    written: string,
  ): ValueMatcher {
    const v = value.text
    if (field.pseudo === 'time' || isTimeField(fieldName)) {
      const scale = fieldName.endsWith('-ms') ? 1000 : 1
      const range = /^(.+?)\.\.(.+)$/.exec(v)
      if (range !== null) {
        if (rel !== '=') throw this.error(`${written}: a time range a..b takes = or in`)
        return {
          kind: 'range',
          low: this.time(rangeEnds(range[1]!, range[2]!)[0], written) * scale,
          high: this.time(rangeEnds(range[1]!, range[2]!)[1], written) * scale,
        }
      }
      return { kind: 'number', op: rel, value: this.time(v, written) * scale }
    }
    if (isAddressField(fieldName)) {
      if (v.includes('*')) return this.glob(v, rel, written)
      if (rel !== '=')
        throw this.error(`${written}: addresses take =, !=, in (an address or a CIDR such as 10.0.0.0/8)`)
      const cidr = parseCidr(v)
      if (typeof cidr === 'string') throw this.error(`${written}: ${cidr}`)
      return { kind: 'cidr', cidrs: [cidr] }
    }
    if (kindOf(fieldName) === 'number') {
      if (fieldName === 'protocol') {
        const number = PROTOCOLS.get(v.toLowerCase())
        if (number !== undefined) return { kind: 'number', op: rel, value: number }
      }
      const range = /^(\d+)\s*-\s*(\d+)$/.exec(v)
      if (range !== null) {
        if (rel !== '=') throw this.error(`${written}: a range takes =, != or in`)
        const low = Number(range[1])
        const high = Number(range[2])
        if (low > high) throw this.error(`${written}: the range ${v} is empty (${low} > ${high})`)
        return { kind: 'range', low, high }
      }
      const n = Number(v)
      if (v.trim() === '' || !Number.isFinite(n)) {
        throw this.error(
          `${written}: "${v}" is not a number (${fieldName} holds numbers${fieldName === 'protocol' ? ' or tcp, udp, icmp, icmpv6, ...' : ''})`,
        )
      }
      return { kind: 'number', op: rel, value: n }
    }
    const caseless = CASELESS.has(fieldName)
    let text = caseless ? v.toUpperCase() : v
    if (fieldName === 'action') text = ACTIONS.get(text) ?? text
    if (!value.quoted && v.includes('*')) return this.glob(v, rel, written, caseless)
    const known = KNOWN_VALUES.get(fieldName)
    if (known !== undefined && rel === '=' && !known.some((k) => k.toUpperCase() === text)) {
      const near = closestName(text, known)
      this.warn(
        `${written}: "${v}" can never match: ${fieldName} is ${known.join(', ')} or -${near === null ? '' : ` (did you mean "${near}"?)`}`,
      )
    }
    return { kind: 'text', op: rel, value: text, caseless }
  }

  private glob(v: string, rel: Relation, written: string, caseless = false): ValueMatcher {
    if (rel !== '=') throw this.error(`${written}: wildcards take = or != only`)
    return { kind: 'regex', regex: globRegex(v, caseless) }
  }

  private time(text: string, written: string): number {
    try {
      return parseTime(text, written, this.zone)
    } catch (error) {
      throw this.error((error as Error).message)
    }
  }

  private peek(): Token | undefined {
    return this.tokens[this.i]
  }

  private isOp(op: string): boolean {
    const t = this.peek()
    return t?.type === 'op' && t.text === op
  }

  private expectParen(p: ')'): void {
    const t = this.peek()
    if (t?.type !== 'paren' || t.text !== p) throw this.error(`a "(" is not closed`)
    this.i++
  }

  private error(message: string): InputError {
    // A message about one comparison starts with it; when that is the whole filter, say it once.
    const own = `${this.text.trim()}: `
    const rest = message.startsWith(own) ? message.slice(own.length) : message
    return new InputError(`${this.what} "${this.text}": ${rest}`)
  }
}

function describe(t: Token): string {
  return t.type === 'comma' ? '","' : `"${t.text}"`
}

export function isAddressField(field: string): boolean {
  return field === 'srcaddr' || field === 'dstaddr' || field === 'pkt-srcaddr' || field === 'pkt-dstaddr'
}

export function isTimeField(field: string): boolean {
  return field === 'start' || field === 'end' || field === 'start-ms' || field === 'end-ms'
}

/** Fields whose values are a few upper- or lower-case words: compared without regard to case. */
const CASELESS = new Set([
  'action',
  'log-status',
  'flow-direction',
  'type',
  'reject-reason',
  'sublocation-type',
])

const ACTIONS = new Map([
  ['DROP', 'REJECT'],
  ['DENY', 'REJECT'],
  ['ALLOW', 'ACCEPT'],
])

/** IANA protocol numbers by the names people type. */
export const PROTOCOLS: ReadonlyMap<string, number> = new Map([
  ['icmp', 1],
  ['igmp', 2],
  ['tcp', 6],
  ['udp', 17],
  ['gre', 47],
  ['esp', 50],
  ['ah', 51],
  ['icmpv6', 58],
  ['ipv6-icmp', 58],
  ['icmp6', 58],
  ['sctp', 132],
])

/**
 * A time range's ends as written, completed: an end written as a time of day only
 * (`2024-06-01T12:00..12:30Z`) is on the start's date, and its zone, when the start has none, is
 * the start's too (the zone written once at the end is meant for the range).
 */
export function rangeEnds(low: string, high: string): [string, string] {
  const date = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/i.exec(low.trim())
  const time = /^\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(high.trim())
  if (time === null) return [low, high]
  const day = date?.[1] ?? /^(\d{4}-\d{2}-\d{2})[T ]/i.exec(low.trim())?.[1]
  if (day === undefined) return [low, high]
  const zone = time[1] ?? ''
  return [date !== null ? `${low.trim()}${zone}` : low, `${day}T${high.trim()}`]
}
