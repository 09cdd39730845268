import type { Cidr } from '../core/address.js'
import type { ResolvedField } from './field-names.js'

/**
 * A parsed filter: what `--where` expressions and CloudWatch-style `[...]` patterns both become.
 * Values are checked and converted once, at parse time (numbers, CIDRs, times, globs), so evaluating
 * a record compares numbers and strings and nothing else.
 */
export type FilterNode =
  | { kind: 'all' }
  | { kind: 'and'; items: FilterNode[] }
  | { kind: 'or'; items: FilterNode[] }
  | { kind: 'not'; item: FilterNode }
  | MatchNode
  | PatternNode
  | TermsNode

/** `field op value`: true when the field's value satisfies the matcher (or, negated, does not). */
export interface MatchNode {
  kind: 'match'
  field: ResolvedField
  matcher: ValueMatcher
  /** `!=`, `not in`, `!~`: none of the field's values satisfies the matcher. */
  negate: boolean
  /** The comparison as written, for messages. */
  text: string
}

export type Relation = '=' | '<' | '<=' | '>' | '>='

export type ValueMatcher =
  /** `field = -`: not applicable (null). */
  | { kind: 'null' }
  | { kind: 'number'; op: Relation; value: number }
  /** Inclusive range, `1024-65535`. */
  | { kind: 'range'; low: number; high: number }
  | { kind: 'numbers'; values: ReadonlySet<number> }
  /** Addresses inside any of the CIDRs (an address alone is a /32 or /128). */
  | { kind: 'cidr'; cidrs: readonly Cidr[] }
  | { kind: 'text'; op: Relation; value: string; caseless: boolean }
  | { kind: 'texts'; values: ReadonlySet<string>; caseless: boolean }
  /** Shell-style `*` wildcards or a `~` regular expression. */
  | { kind: 'regex'; regex: RegExp }
  /** Several matchers, any of which may match (a list mixing kinds: `22, 8000-8080`). */
  | { kind: 'any'; matchers: readonly ValueMatcher[] }

/**
 * A CloudWatch Logs filter pattern for space-delimited logs (reference 8.2):
 * `[version, account, eni, source, destination, srcport, destport="22", ..., action="REJECT", status]`.
 * Names are labels; fields are matched by position in the record as its file orders them. Without
 * `...` the record must have exactly as many fields as the pattern names; `...` stands for any number.
 */
export interface PatternNode {
  kind: 'pattern'
  /** The terms before `...` (all of them when there is none). */
  head: readonly PatternTerm[]
  /** The terms after `...`, matched from the end; null when there is no `...`. */
  tail: readonly PatternTerm[] | null
  text: string
}

/** One position: a label and the conditions on it (none, or alternatives `a = 4* || a = 5*`). */
export interface PatternTerm {
  label: string
  /** Any of these (||), each all of its parts (&&). Empty: no condition. */
  alternatives: readonly (readonly PatternCondition[])[]
}

export interface PatternCondition {
  op: Relation | '!='
  /** Text comparison with `*` wildcards, or a number for < <= > >= (and = when numeric). */
  value: string
  number: number | null
  regex: RegExp | null
}

/**
 * A CloudWatch Logs term pattern (for unstructured logs; reference 8.2): `REJECT`, `"REJECT OK"`,
 * `REJECT 22`, `?NODATA ?SKIPDATA`, `REJECT -22`. Terms are matched, case-sensitively, as text inside
 * the record written as its file writes it (fields joined by one space, `-` for not applicable).
 */
export interface TermsNode {
  kind: 'terms'
  /** Every one of these must appear. */
  all: readonly string[]
  /** At least one of these must appear (`?term`); empty: no such condition. */
  any: readonly string[]
  /** None of these may appear (`-term`). */
  none: readonly string[]
  text: string
}
