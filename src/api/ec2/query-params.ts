import { ControlError } from '../../control/control-error.js'
import { type Ec2Model, queryNameOf, type Shape, shapeOf } from './ec2-model.js'

/**
 * The request parameters of one EC2 Query call, decoded from the form (`ResourceId.1`,
 * `Filter.1.Name`, `Filter.1.Value.1`, `IpPermissions.1.IpRanges.1.CidrIp`) by walking the
 * operation's input shape under botocore's `ec2` protocol rules. Types, enums, integer bounds and
 * required members are checked here, so an action only reads values of the right kind; anything
 * the shape does not name is UnknownParameter, as EC2 answers.
 */
export type ParamValue = string | number | boolean | ParamValue[] | Params

/** A decoded structure: values by member name, and each member's wire name for error messages. */
export class Params {
  constructor(
    private readonly values: ReadonlyMap<string, ParamValue>,
    private readonly wire: ReadonlyMap<string, string>,
  ) {}

  has(member: string): boolean {
    return this.values.has(member)
  }

  /** The member's parameter name as the client sent it (`IpPermissions.1.FromPort`). */
  nameOf(member: string): string {
    return this.wire.get(member) ?? member
  }

  string(member: string): string | undefined {
    const v = this.values.get(member)
    return typeof v === 'string' ? v : undefined
  }

  requiredString(member: string): string {
    const v = this.string(member)
    if (v === undefined) throw missingParameter(this.nameOf(member))
    return v
  }

  integer(member: string): number | undefined {
    const v = this.values.get(member)
    return typeof v === 'number' ? v : undefined
  }

  boolean(member: string): boolean | undefined {
    const v = this.values.get(member)
    return typeof v === 'boolean' ? v : undefined
  }

  strings(member: string): string[] {
    const v = this.values.get(member)
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
  }

  structs(member: string): Params[] {
    const v = this.values.get(member)
    return Array.isArray(v) ? v.filter((x): x is Params => x instanceof Params) : []
  }

  struct(member: string): Params | undefined {
    const v = this.values.get(member)
    return v instanceof Params ? v : undefined
  }
}

export function missingParameter(name: string): ControlError {
  return new ControlError('MissingParameter', `The request must contain the parameter ${name}`)
}

/** Values are quoted back at most this long: an answer never echoes a whole oversized body. */
const QUOTED_VALUE_LENGTH = 200

export function invalidValue(name: string, value: string, rule: string): ControlError {
  const quoted = value.length > QUOTED_VALUE_LENGTH ? `${value.slice(0, QUOTED_VALUE_LENGTH)}...` : value
  return new ControlError(
    'InvalidParameterValue',
    `Value (${quoted}) for parameter ${name} is invalid. ${rule}`,
  )
}

/** Parameters that are the protocol's, not the operation's (query-string SigV4 included). */
const PROTOCOL_PARAMETERS = new Set(['Action', 'Version'])
const isProtocolParameter = (key: string): boolean => PROTOCOL_PARAMETERS.has(key) || key.startsWith('X-Amz-')

/** At most this many elements per list: EC2's own limits are 1000 (ids) and far less elsewhere. */
export const MAX_LIST_LENGTH = 1000

export function parseParams(model: Ec2Model, inputShape: string | null, form: URLSearchParams): Params {
  const values = new Map<string, string>()
  for (const [key, value] of form) {
    if (values.has(key)) throw invalidValue(key, value, 'The parameter is given more than once.')
    values.set(key, value)
  }
  const consumed = new Set<string>()
  // Reported after unknown parameters: a misspelt name is the likelier cause of a missing one.
  let missing: string | null = null
  // Keys grouped by their first dotted prefix would be faster; requests are small, a scan is enough.
  const keys = [...values.keys()].filter((k) => !isProtocolParameter(k))

  const hasUnder = (prefix: string): boolean => keys.some((k) => k.startsWith(`${prefix}.`))

  const scalar = (shape: Shape, key: string): ParamValue | undefined => {
    const text = values.get(key)
    if (text === undefined) return undefined
    consumed.add(key)
    switch (shape.type) {
      case 'integer':
      case 'long': {
        if (!/^-?\d{1,15}$/.test(text)) throw invalidValue(key, text, 'It must be an integer.')
        const n = Number(text)
        if (shape.min !== undefined && n < shape.min)
          throw invalidValue(key, text, `The minimum is ${shape.min}.`)
        if (shape.max !== undefined && n > shape.max)
          throw invalidValue(key, text, `The maximum is ${shape.max}.`)
        return n
      }
      case 'boolean': {
        const lower = text.toLowerCase()
        if (lower !== 'true' && lower !== 'false') throw invalidValue(key, text, 'It must be true or false.')
        return lower === 'true'
      }
      case 'string':
        if (shape.enum !== undefined && !shape.enum.includes(text))
          throw invalidValue(key, text, `It must be one of: ${shape.enum.join(', ')}.`)
        return text
      default:
        // Timestamps, doubles and blobs appear in no input of the supported actions.
        return text
    }
  }

  const list = (shape: Shape, key: string): ParamValue[] | undefined => {
    const member = shape.member
    if (member === undefined) return undefined
    const indices = new Set<number>()
    for (const k of keys) {
      if (!k.startsWith(`${key}.`)) continue
      const index = k.slice(key.length + 1).split('.', 1)[0] ?? ''
      // A non-numeric index stays unconsumed and is reported as an unknown parameter.
      if (/^[1-9]\d{0,5}$/.test(index)) indices.add(Number(index))
    }
    if (indices.size === 0) return undefined
    if (indices.size > MAX_LIST_LENGTH)
      throw invalidValue(key, `${indices.size} elements`, `At most ${MAX_LIST_LENGTH} are accepted.`)
    const out: ParamValue[] = []
    for (const i of [...indices].sort((a, b) => a - b)) {
      const v = value(member.shape, `${key}.${i}`)
      if (v !== undefined) out.push(v)
    }
    return out
  }

  const structure = (shapeName: string, shape: Shape, prefix: string): Params => {
    const parsed = new Map<string, ParamValue>()
    const wire = new Map<string, string>()
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      const key = prefix === '' ? queryNameOf(name, ref) : `${prefix}.${queryNameOf(name, ref)}`
      wire.set(name, key)
      const v = value(ref.shape, key)
      if (v !== undefined) parsed.set(name, v)
    }
    for (const name of shape.required ?? []) {
      if (!parsed.has(name)) missing ??= wire.get(name) ?? `${shapeName}.${name}`
    }
    return new Params(parsed, wire)
  }

  const value = (shapeName: string, key: string): ParamValue | undefined => {
    const shape = shapeOf(model, shapeName)
    if (shape.type === 'structure') return hasUnder(key) ? structure(shapeName, shape, key) : undefined
    if (shape.type === 'list') return list(shape, key)
    return scalar(shape, key)
  }

  const root =
    inputShape === null
      ? new Params(new Map(), new Map())
      : structure(inputShape, shapeOf(model, inputShape), '')
  const unknown = keys.find((k) => !consumed.has(k))
  if (unknown !== undefined)
    throw new ControlError('UnknownParameter', `The parameter ${unknown} is not recognized`)
  if (missing !== null) throw missingParameter(missing)
  return root
}
