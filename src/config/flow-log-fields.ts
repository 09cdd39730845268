import type { FileFormat } from '../core/network.js'
import { closestName } from './closest-name.js'
import {
  DEFAULT_JSONL_FIELDS,
  DEFAULT_LOG_FORMAT,
  DEFAULT_NHN_FIELDS,
  FORMAT_FAMILIES,
  fieldsOfFormat,
} from './fields.js'

/**
 * The field list of a flow log: parsed from `logFormat` (text, parquet: AWS's `${field} ...`) or
 * taken from `fields` (nhn-csv, jsonl), each name known to the file format, none twice.
 */
export interface FieldProblem {
  /** ['logFormat'] or ['fields', index]. */
  path: (string | number)[]
  value: unknown
  rule: string
}

export function takesLogFormat(format: FileFormat): boolean {
  return format === 'text' || format === 'parquet'
}

export function defaultFields(format: FileFormat): readonly string[] | null {
  if (format === 'nhn-csv') return DEFAULT_NHN_FIELDS
  if (format === 'jsonl') return DEFAULT_JSONL_FIELDS
  return null
}

const TOKEN = /^\$\{([^}]*)\}$/
// biome-ignore lint/suspicious/noTemplateCurlyInString: AWS's own ${field} syntax, not a template
const NEEDS_A_FIELD = 'needs at least one ${field}'
// biome-ignore lint/suspicious/noTemplateCurlyInString: as above
const NOT_A_TOKEN = 'is not a ${field} token'

export function resolveFields(
  format: FileFormat,
  logFormat: string | undefined,
  fields: readonly string[] | undefined,
): { fields: string[]; problems: FieldProblem[] } {
  const problems: FieldProblem[] = []
  const viaLogFormat = takesLogFormat(format)
  if (viaLogFormat && fields !== undefined) {
    problems.push({
      path: ['fields'],
      value: fields,
      rule: `applies to fileFormat nhn-csv and jsonl; fileFormat ${format} takes logFormat`,
    })
  }
  if (!viaLogFormat && logFormat !== undefined) {
    problems.push({
      path: ['logFormat'],
      value: logFormat,
      rule: `applies to fileFormat text and parquet; fileFormat ${format} takes fields`,
    })
  }
  const known = fieldsOfFormat(format).map((f) => f.name)
  const unknownRule = (name: string): string => {
    const guess = closestName(name, known)
    const families = FORMAT_FAMILIES[format].join(' and ')
    return `is not a field of fileFormat ${format} (${families} fields)${guess !== null ? `; did you mean "${guess}"?` : ''}`
  }
  const names: string[] = []
  const add = (name: string, path: (string | number)[]) => {
    if (!known.includes(name)) problems.push({ path, value: name, rule: unknownRule(name) })
    else if (names.includes(name)) problems.push({ path, value: name, rule: 'appears twice' })
    else names.push(name)
  }
  if (viaLogFormat) {
    const text = logFormat ?? DEFAULT_LOG_FORMAT
    const tokens = text.trim() === '' ? [] : text.trim().split(/\s+/)
    if (tokens.length === 0) problems.push({ path: ['logFormat'], value: text, rule: NEEDS_A_FIELD })
    for (const token of tokens) {
      const name = TOKEN.exec(token)?.[1]
      if (name === undefined) problems.push({ path: ['logFormat'], value: token, rule: NOT_A_TOKEN })
      else add(name, ['logFormat'])
    }
  } else {
    const list = fields ?? defaultFields(format) ?? []
    if (list.length === 0) problems.push({ path: ['fields'], value: list, rule: 'needs at least one field' })
    for (const [i, name] of list.entries()) add(name, ['fields', i])
  }
  return { fields: names, problems }
}
