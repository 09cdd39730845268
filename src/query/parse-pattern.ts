import { InputError } from '../core/errors.js'
import type { PatternCondition, PatternNode, PatternTerm, TermsNode } from './filter.js'
import { globRegex } from './glob.js'

/**
 * Parses what `--pattern` takes: any CloudWatch Logs filter pattern that applies to flow logs.
 * `[...]` is a space-delimited pattern (parsePattern); a list without brackets (`..., action=REJECT,
 * status`) is one too; anything else is a term pattern (parseTerms): `REJECT`, `?NODATA ?SKIPDATA`.
 */
export function parseCloudWatchPattern(text: string, what: string): PatternNode | TermsNode {
  const trimmed = text.trim()
  if (trimmed.startsWith('[')) return parsePattern(trimmed, what)
  if (trimmed.startsWith('{')) {
    throw new InputError(
      `${what} "${text}": a JSON pattern ({ $.field = ... }) is for JSON logs; flow-log records are space-delimited: [..., action=REJECT, status], or --where 'action=REJECT'`,
    )
  }
  if (trimmed.includes(',')) return parsePattern(`[${trimmed}]`, what)
  return parseTerms(text, what)
}

/**
 * Parses a CloudWatch term pattern: terms separated by spaces, each bare (letters, digits and
 * `_ - . : / *`) or in double quotes; `?term` makes the terms alternatives, `-term` excludes. An
 * empty pattern matches every record, as in CloudWatch.
 */
export function parseTerms(text: string, what: string): TermsNode {
  const all: string[] = []
  const any: string[] = []
  const none: string[] = []
  const re = /\s*([?-]?)(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))/y
  let i = 0
  const body = text.trim()
  while (i < body.length) {
    re.lastIndex = i
    const m = re.exec(body)
    if (m === null) throw new InputError(`${what} "${text}": a quote is not closed`)
    i = re.lastIndex
    const quoted = m[2] !== undefined
    const term = quoted ? m[2]!.replace(/\\(.)/g, '$1') : m[3]!
    if (!quoted && /[=<>!&|()[\]{}$]/.test(term)) {
      throw new InputError(
        `${what} "${text}": "${term}" is not a term (quote it to match it as text); a condition on a field is written by position in brackets, [..., action=REJECT, status], or with --where 'action=REJECT'`,
      )
    }
    if (term === '') continue
    if (m[1] === '?') any.push(term)
    else if (m[1] === '-') none.push(term)
    else all.push(term)
  }
  return { kind: 'terms', all, any, none, text: body }
}

/**
 * Parses a CloudWatch Logs filter pattern for space-delimited logs (reference 8.2):
 *
 *   [version, account, eni, source, destination, srcport, destport="22", protocol="6", packets,
 *    bytes, windowstart, windowend, action="REJECT", flowlogstatus]
 *   [..., action=REJECT, status]          (`...` stands for any number of fields)
 *   [v, a, e, src=10.0.2.*, ...]           (`*` wildcards)
 *   [v, a, e, s, d, sp, dstport = 80 || dstport = 8080, ...]
 *   [v, a, e, s, d, sp, dp, proto, packets, bytes >= 400, ...]   (numeric)
 *
 * Labels are free names; conditions are = != < <= > >= with a quoted or bare value, joined by && and
 * ||. As in CloudWatch, without `...` a record matches only if it has exactly as many fields.
 */
export function parsePattern(text: string, what: string): PatternNode {
  const trimmed = text.trim()
  if (!trimmed.startsWith('[') || !trimmed.endsWith(']')) {
    throw new InputError(
      `${what} "${text}": a space-delimited pattern is written [field, field="value", ...]`,
    )
  }
  const parts = splitTerms(trimmed.slice(1, -1), text, what)
  const head: PatternTerm[] = []
  let tail: PatternTerm[] | null = null
  for (const part of parts) {
    if (part === '...') {
      if (tail !== null)
        throw new InputError(
          `${what} "${text}": only one "..." is allowed (fields are matched by position: name those before the one you test, [v, a, e, src, dst, sp, dp, proto, packets, bytes>=400, ...])`,
        )
      tail = []
      continue
    }
    const term = parseTerm(part, text, what)
    if (tail === null) head.push(term)
    else tail.push(term)
  }
  if (head.length === 0 && (tail === null || tail.length === 0)) {
    throw new InputError(`${what} "${text}": the pattern names no field`)
  }
  return { kind: 'pattern', head, tail, text: trimmed }
}

/** Splits at commas outside quotes. */
function splitTerms(body: string, text: string, what: string): string[] {
  const out: string[] = []
  let current = ''
  let quote: string | null = null
  for (const c of body) {
    if (quote !== null) {
      current += c
      if (c === quote) quote = null
    } else if (c === '"' || c === "'") {
      quote = c
      current += c
    } else if (c === ',') {
      out.push(current.trim())
      current = ''
    } else current += c
  }
  if (quote !== null) throw new InputError(`${what} "${text}": a quote is not closed`)
  out.push(current.trim())
  for (const part of out)
    if (part === '') throw new InputError(`${what} "${text}": an empty field between commas`)
  return out
}

const CONDITION = /^([A-Za-z_][\w.-]*)\s*(=|!=|<=|>=|<|>)\s*("(?:[^"]*)"|'(?:[^']*)'|[^\s"']+)$/
const LABEL = /^[A-Za-z_][\w.-]*$/

function parseTerm(part: string, text: string, what: string): PatternTerm {
  if (LABEL.test(part)) return { label: part, alternatives: [] }
  let label: string | null = null
  const alternatives = part.split('||').map((alternative) =>
    alternative.split('&&').map((piece) => {
      const m = CONDITION.exec(piece.trim())
      if (m === null) {
        throw new InputError(
          `${what} "${text}": "${piece.trim()}" is not a condition (label = value, label != value, label >= number, ...)`,
        )
      }
      const name = m[1]!
      if (label !== null && label !== name) {
        throw new InputError(
          `${what} "${text}": "${part}" compares two labels (${label}, ${name}) in one position`,
        )
      }
      label = name
      return condition(m[2] as PatternCondition['op'], unquote(m[3]!), text, what)
    }),
  )
  return { label: label ?? part, alternatives }
}

function condition(op: PatternCondition['op'], value: string, text: string, what: string): PatternCondition {
  const number = /^-?\d+(?:\.\d+)?$/.test(value) ? Number(value) : null
  if (op !== '=' && op !== '!=' && number === null) {
    throw new InputError(`${what} "${text}": ${op} ${value}: < <= > >= compare numbers`)
  }
  return { op, value, number, regex: value.includes('*') ? globRegex(value) : null }
}

function unquote(value: string): string {
  return (value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))
    ? value.slice(1, -1)
    : value
}
