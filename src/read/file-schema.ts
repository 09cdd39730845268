import { closestName } from '../config/closest-name.js'
import { DEFAULT_LOG_FORMAT, DEFAULT_NHN_FIELDS, FIELD_CATALOGUE } from '../config/fields.js'
import { InputError } from '../core/errors.js'
import { KNOWN_FIELDS, NHN_TO_AWS } from './flow-row.js'
import { logFormatNames } from './log-format-presets.js'

/**
 * The columns of one file (or of one part of a file, when concatenated files change format midway),
 * resolved once so that rows are read by column number, never by name.
 */
export interface FileSchema {
  /** Field names of the columns, in the file's order, as FlowRow keys (NHN names already mapped). */
  readonly columns: readonly string[]
  /** Every FlowRow name → its column (NHN src_addr serves both srcaddr and pkt-srcaddr). */
  readonly index: ReadonlyMap<string, number>
  /** The FlowRow names each column fills. */
  readonly rowNames: readonly (readonly string[])[]
  /** True where the column holds numbers. */
  readonly numeric: readonly boolean[]
  /** Per column, a stored value → the value shown (NHN DROP → REJECT), or null. */
  readonly valueMaps: readonly (ReadonlyMap<string, string> | null)[]
  /** Columns of start and end, or -1 (for the time range). */
  readonly start: number
  readonly end: number
  /** The header line as written (concatenated files repeat it), or null. */
  readonly header: string | null
  /**
   * How many columns the file itself has (positional CloudWatch patterns count these). Object records
   * (JSONL, Parquet) list every known field after their own, so `columns` may be longer.
   */
  readonly width: number
}

const NHN_ACTIONS: ReadonlyMap<string, string> = new Map([['DROP', 'REJECT']])

/**
 * A schema from field names as a file names them: AWS names (hyphens, or Athena's underscores)
 * for text, JSONL and Parquet; NHN names for NHN CSV, mapped to their AWS names.
 */
export function schemaOf(
  names: readonly string[],
  family: 'aws' | 'nhn',
  header: string | null,
  width = names.length,
): FileSchema {
  const rowNames: string[][] = []
  const numeric: boolean[] = []
  const valueMaps: (ReadonlyMap<string, string> | null)[] = []
  const index = new Map<string, number>()
  names.forEach((raw, column) => {
    const mapped = family === 'nhn' ? NHN_TO_AWS.get(raw) : undefined
    const fields = mapped ?? [awsName(raw)]
    rowNames.push([...fields])
    for (const f of fields) if (!index.has(f)) index.set(f, column)
    const first = fields[0] ?? raw
    numeric.push(KNOWN_FIELDS.get(first) === 'number')
    valueMaps.push(family === 'nhn' && raw === 'filter' ? NHN_ACTIONS : null)
  })
  return {
    columns: rowNames.map((n) => n[0] ?? ''),
    index,
    rowNames,
    numeric,
    valueMaps,
    start: index.get('start') ?? -1,
    end: index.get('end') ?? -1,
    header,
    width,
  }
}

/** `log_status` (Athena, Parquet) → `log-status`; names flowlog does not know stay as they are. */
export function awsName(name: string): string {
  if (KNOWN_FIELDS.has(name)) return name
  const hyphenated = name.replaceAll('_', '-')
  return KNOWN_FIELDS.has(hyphenated) ? hyphenated : name
}

const IDENTIFIER = /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/

/**
 * True when a first line is a header of field names rather than a record: every token looks like a
 * lower-case field name and at least half of them are names flowlog knows. Records never pass: they
 * hold numbers, addresses, upper-case ACCEPT/REJECT/OK, or ids with digits that are not field names.
 */
/** A field flowlog knows by this name: AWS's (hyphens or underscores), NHN's, or its own. */
export function isFlowField(name: string): boolean {
  return KNOWN_FIELDS.has(awsName(name)) || NHN_TO_AWS.has(name)
}

export function isHeader(tokens: readonly string[]): boolean {
  if (tokens.length === 0) return false
  let known = 0
  for (const t of tokens) {
    if (!IDENTIFIER.test(t)) return false
    if (KNOWN_FIELDS.has(awsName(t)) || NHN_TO_AWS.has(t)) known++
  }
  return known * 2 >= tokens.length
}

/** AWS's default format (version 2), the one headerless files most likely have. */
export const AWS_DEFAULT_FIELDS: readonly string[] = [...DEFAULT_LOG_FORMAT.matchAll(/\$\{([^}]+)\}/g)].map(
  (m) => m[1]!,
)

export { DEFAULT_NHN_FIELDS }

/**
 * The NHN field lists a headerless CSV is recognised by, from its field count: flowlog's default
 * (18), NHN's whole documented order (24: the catalogue's, without the older vm_id), and the basic
 * set of NHN's API example (17, reference 5.2).
 */
export const HEADERLESS_NHN_FIELDS: ReadonlyMap<number, readonly string[]> = new Map(
  [
    DEFAULT_NHN_FIELDS,
    FIELD_CATALOGUE.filter((f) => f.family === 'nhn' && f.name !== 'vm_id').map((f) => f.name),
    'timestamp_start,timestamp_end,interface_id,vm_id,subnet_id,vpc_id,region,protocol,src_addr,dst_addr,src_port,dst_port,tcp_flag,packets,bytes,filter,status'.split(
      ',',
    ),
  ].map((fields) => [fields.length, fields]),
)

/**
 * Field names from a --log-format: AWS's `${a} ${b}` syntax, or plain names separated by spaces or
 * commas. Every name must be a field flowlog knows (AWS, NHN or its own); an unknown one is bad input.
 */
export function parseLogFormat(format: string): string[] {
  const names = logFormatNames(format)
  if (names.length === 0) throw new InputError(`--log-format "${format}": names no field`)
  const known = [...KNOWN_FIELDS.keys(), ...NHN_TO_AWS.keys()]
  const problems: string[] = []
  for (const name of names) {
    if (KNOWN_FIELDS.has(awsName(name)) || NHN_TO_AWS.has(name)) continue
    const near = closestName(name, known)
    problems.push(
      `--log-format: "${name}" is not a flow-log field${near === null ? '' : ` (did you mean "${near}"?)`}`,
    )
  }
  if (problems.length > 0) throw new InputError(problems[0] ?? '', problems)
  return names
}

/** NHN when any name is NHN's own (src_addr, filter, status...), not an AWS name with underscores. */
export function familyOf(names: readonly string[]): 'aws' | 'nhn' {
  return names.some((n) => NHN_TO_AWS.has(n) && !KNOWN_FIELDS.has(awsName(n))) ? 'nhn' : 'aws'
}

/**
 * A schema for records that are objects: their own keys first, then every other known field.
 * `family` is told when `names` are some of a file's columns (the family is the file's).
 */
export function objectSchema(
  names: readonly string[],
  family = familyOf(names),
): { schema: FileSchema; sourceNames: string[] } {
  const sourceNames = [...names]
  const present = new Set(schemaOf(names, family, null).columns)
  for (const field of KNOWN_FIELDS.keys()) if (!present.has(field)) sourceNames.push(field)
  return { schema: schemaOf(sourceNames, family, null, names.length), sourceNames }
}

/** For each field, the column a record's toRow takes its value from (the last that fills it), or -1. */
export function columnsOf(schema: FileSchema, fields: readonly string[]): number[] {
  return fields.map((field) => {
    for (let c = schema.rowNames.length - 1; c >= 0; c--) if (schema.rowNames[c]!.includes(field)) return c
    return -1
  })
}
