import { type Cidr, cidrContains, isV4Mapped, parseAddress } from '../core/address.js'
import type { FileSchema } from '../read/file-schema.js'
import type { FlowRow } from '../read/flow-row.js'
import type { RecordCursor } from '../read/record-cursor.js'
import type { RecordTest } from '../read/scan-files.js'
import type {
  FilterNode,
  MatchNode,
  PatternCondition,
  PatternNode,
  Relation,
  TermsNode,
  ValueMatcher,
} from './filter.js'

/**
 * A filter compiled once into closures. `bind` resolves field names to the columns of one file's
 * schema (once per file, cached per schema) and gives the test the scanner runs on every record.
 * A test reads only the columns it needs, straight from the line (see RecordCursor).
 */
export interface CompiledFilter {
  readonly node: FilterNode
  /** Null when the filter takes every record. */
  bind(schema: FileSchema): RecordTest
  /** The test on a FlowRow (records that are already objects). */
  testRow(row: FlowRow): boolean
}

type Test = (cursor: RecordCursor) => boolean

export function compileFilter(node: FilterNode): CompiledFilter {
  const bound = new WeakMap<FileSchema, RecordTest>()
  return {
    node,
    bind(schema) {
      let test = bound.get(schema)
      if (test === undefined) {
        test = node.kind === 'all' ? null : bindNode(node, schema)
        bound.set(schema, test)
      }
      return test
    },
    testRow(row) {
      if (node.kind === 'all') return true
      const { cursor, schema } = rowCursor(row)
      const test = bindNode(node, schema)
      return test(cursor)
    },
  }
}

function bindNode(node: FilterNode, schema: FileSchema): Test {
  switch (node.kind) {
    case 'all':
      return () => true
    case 'not': {
      const inner = bindNode(node.item, schema)
      return (c) => !inner(c)
    }
    case 'and': {
      const items = node.items.map((n) => bindNode(n, schema))
      if (items.length === 2) {
        const [a, b] = items as [Test, Test]
        return (c) => a(c) && b(c)
      }
      return (c) => items.every((t) => t(c))
    }
    case 'or': {
      const items = node.items.map((n) => bindNode(n, schema))
      if (items.length === 2) {
        const [a, b] = items as [Test, Test]
        return (c) => a(c) || b(c)
      }
      return (c) => items.some((t) => t(c))
    }
    case 'match':
      return bindMatch(node, schema)
    case 'pattern':
      return bindPattern(node, schema)
    case 'terms':
      return bindTerms(node, schema)
  }
}

type ColumnTest = (cursor: RecordCursor, column: number) => boolean

function bindMatch(node: MatchNode, schema: FileSchema): Test {
  const { field, matcher, negate } = node
  if (field.pseudo === 'time') {
    const test = timeTest(matcher, schema)
    return negate ? (c) => !test(c) : test
  }
  const columns = field.fields.map((f) => schema.index.get(f) ?? -1).filter((c) => c >= 0)
  const value = columnTest(matcher)
  let test: Test
  if (columns.length === 0) {
    // The file lacks the field: every value is "not applicable".
    const nullMatches = matcher.kind === 'null'
    test = () => nullMatches
  } else if (columns.length === 1) {
    const column = columns[0]!
    test = (c) => value(c, column)
  } else {
    const [a, b] = columns as [number, number]
    test = (c) => value(c, a) || value(c, b)
  }
  return negate ? (c) => !test(c) : test
}

function compare(op: Relation, a: number | string, b: number | string): boolean {
  switch (op) {
    case '=':
      return a === b
    case '<':
      return a < b
    case '<=':
      return a <= b
    case '>':
      return a > b
    case '>=':
      return a >= b
  }
}

function columnTest(matcher: ValueMatcher): ColumnTest {
  switch (matcher.kind) {
    case 'null':
      return (c, col) => c.text(col) === null
    case 'number': {
      const { op, value } = matcher
      if (op === '=') {
        return (c, col) => c.number(col) === value
      }
      return (c, col) => {
        const n = c.number(col)
        return n !== null && compare(op, n, value)
      }
    }
    case 'range': {
      const { low, high } = matcher
      return (c, col) => {
        const n = c.number(col)
        return n !== null && n >= low && n <= high
      }
    }
    case 'numbers': {
      const { values } = matcher
      return (c, col) => {
        const n = c.number(col)
        return n !== null && values.has(n)
      }
    }
    case 'cidr':
      return cidrTest(matcher.cidrs)
    case 'text': {
      const { op, value, caseless } = matcher
      // Equality with plain ASCII (ACCEPT, an id) is compared in place, without decoding the field.
      if (op === '=' && /^[\x20-\x7e]*$/.test(value)) {
        const ascii = Buffer.from(value, 'latin1')
        return (c, col) => c.textEquals(col, ascii, caseless, value)
      }
      return (c, col) => {
        const t = c.text(col)
        if (t === null) return false
        return compare(op, caseless ? t.toUpperCase() : t, value)
      }
    }
    case 'texts': {
      const { values, caseless } = matcher
      return (c, col) => {
        const t = c.text(col)
        return t !== null && values.has(caseless ? t.toUpperCase() : t)
      }
    }
    case 'regex': {
      const { regex } = matcher
      return (c, col) => {
        const t = c.text(col)
        return t !== null && regex.test(t)
      }
    }
    case 'any': {
      const tests = matcher.matchers.map(columnTest)
      return (c, col) => tests.some((t) => t(c, col))
    }
  }
}

/**
 * Addresses in CIDRs. IPv4 text is parsed by hand into one number and masked (no regex, no array):
 * most flow-log addresses are IPv4 and this test may run on every record.
 */
function cidrTest(cidrs: readonly Cidr[]): ColumnTest {
  const v4 = cidrs.filter((c) => c.prefix >= 96 && isV4Mapped(c.words))
  const v6 = cidrs.filter((c) => !(c.prefix >= 96 && isV4Mapped(c.words)))
  const nets = v4.map((c) => c.words[3]! >>> 0)
  const masks = v4.map((c) => (c.prefix === 96 ? 0 : (0xffffffff << (128 - c.prefix)) >>> 0))
  const words = new Uint32Array(4)
  return (c, col) => {
    const t = c.text(col)
    if (t === null) return false
    const ip = parseIPv4(t)
    if (ip >= 0) {
      for (let i = 0; i < nets.length; i++) if ((ip & masks[i]!) >>> 0 === nets[i]) return true
      return false
    }
    if (v6.length === 0 || !parseAddress(t, words)) return false
    for (const cidr of v6) if (cidrContains(cidr, words)) return true
    return false
  }
}

/** Dotted IPv4 to an unsigned 32-bit number, or -1 when the text is not exactly that. */
export function parseIPv4(t: string): number {
  let value = 0
  let part = 0
  let digits = 0
  let dots = 0
  for (let i = 0; i < t.length; i++) {
    const ch = t.charCodeAt(i)
    if (ch === 46) {
      if (digits === 0 || dots === 3) return -1
      value = value * 256 + part
      part = 0
      digits = 0
      dots++
    } else {
      const d = ch - 48
      if (d < 0 || d > 9 || digits === 3) return -1
      part = part * 10 + d
      if (part > 255) return -1
      digits++
    }
  }
  if (dots !== 3 || digits === 0) return -1
  return value * 256 + part
}

/** `time`: the record's span [start, end] against a time or a range. */
function timeTest(matcher: ValueMatcher, schema: FileSchema): Test {
  const start = schema.start
  const end = schema.end >= 0 ? schema.end : schema.start
  const first = start >= 0 ? start : end
  if (first < 0) return () => false
  const num = (c: RecordCursor, col: number) => c.number(col)
  if (matcher.kind === 'range') {
    const { low, high } = matcher
    return (c) => {
      const s = num(c, first)
      const e = num(c, end)
      return s !== null && e !== null && e >= low && s <= high
    }
  }
  if (matcher.kind !== 'number') return () => false
  const { op, value } = matcher
  switch (op) {
    case '>=':
      return (c) => (num(c, end) ?? Number.NEGATIVE_INFINITY) >= value
    case '>':
      return (c) => (num(c, end) ?? Number.NEGATIVE_INFINITY) > value
    case '<':
      return (c) => (num(c, first) ?? Number.POSITIVE_INFINITY) < value
    case '<=':
      return (c) => (num(c, first) ?? Number.POSITIVE_INFINITY) <= value
    case '=':
      return (c) => {
        const s = num(c, first)
        const e = num(c, end)
        return s !== null && e !== null && s <= value && value <= e
      }
  }
}

/** CloudWatch positional pattern over the file's own columns. */
function bindPattern(node: PatternNode, schema: FileSchema): Test {
  const width = schema.width
  const { head, tail } = node
  const needed = head.length + (tail?.length ?? 0)
  if (tail === null ? width !== head.length : width < needed) return () => false
  const checks: { column: number; alternatives: readonly (readonly PatternCondition[])[] }[] = []
  head.forEach((term, i) => {
    if (term.alternatives.length > 0) checks.push({ column: i, alternatives: term.alternatives })
  })
  tail?.forEach((term, i) => {
    if (term.alternatives.length > 0)
      checks.push({ column: width - tail.length + i, alternatives: term.alternatives })
  })
  return (c) => {
    for (const { column, alternatives } of checks) {
      const value = c.text(column) ?? '-'
      let any = false
      for (const all of alternatives) {
        if (all.every((cond) => conditionHolds(cond, value))) {
          any = true
          break
        }
      }
      if (!any) return false
    }
    return true
  }
}

/** CloudWatch term pattern over the record as its file writes it (one space, `-` for null). */
function bindTerms(node: TermsNode, schema: FileSchema): Test {
  const { all, any, none } = node
  const width = schema.width
  return (c) => {
    let line = ''
    for (let i = 0; i < width; i++) line += (i === 0 ? '' : ' ') + (c.text(i) ?? '-')
    for (const t of all) if (!line.includes(t)) return false
    for (const t of none) if (line.includes(t)) return false
    return any.length === 0 || any.some((t) => line.includes(t))
  }
}

function conditionHolds(cond: PatternCondition, value: string): boolean {
  if (cond.op === '=' || cond.op === '!=') {
    let equal: boolean
    if (cond.regex !== null) equal = cond.regex.test(value)
    else if (cond.number !== null && value !== '-' && value.trim() !== '' && Number.isFinite(Number(value))) {
      equal = Number(value) === cond.number
    } else equal = value === cond.value
    return cond.op === '=' ? equal : !equal
  }
  const n = Number(value)
  if (value === '-' || value.trim() === '' || !Number.isFinite(n) || cond.number === null) return false
  return compare(cond.op, n, cond.number)
}

/** A FlowRow seen as a record, for testRow. */
function rowCursor(row: FlowRow): { cursor: RecordCursor; schema: FileSchema } {
  const names = Object.keys(row)
  const index = new Map(names.map((n, i) => [n, i]))
  const schema: FileSchema = {
    columns: names,
    index,
    rowNames: names.map((n) => [n]),
    numeric: names.map((n) => typeof row[n] === 'number'),
    valueMaps: names.map(() => null),
    start: index.get('start') ?? -1,
    end: index.get('end') ?? -1,
    header: null,
    width: names.length,
  }
  const cursor: RecordCursor = {
    schema,
    text: (col) => {
      const v = row[names[col]!]
      return v === null || v === undefined ? null : String(v)
    },
    number: (col) => {
      const v = row[names[col]!]
      if (typeof v === 'number') return v
      if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v)
      return null
    },
    textEquals: (col, _ascii, caseless, value) => {
      const v = row[names[col]!]
      if (v === null || v === undefined) return false
      const t = String(v)
      return (caseless ? t.toUpperCase() : t) === value
    },
    toRow: () => row,
  }
  return { cursor, schema }
}
