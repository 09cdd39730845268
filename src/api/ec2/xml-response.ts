import { XMLBuilder } from 'fast-xml-parser'
import { type Ec2Model, shapeOf, xmlNameOf } from './ec2-model.js'

/**
 * EC2 Query responses as botocore's `ec2` parser reads them: `<{Action}Response xmlns=…>` with
 * `requestId` and the output shape's members under their `locationName`, lists as `<item>`
 * elements, booleans `true`/`false`, timestamps ISO 8601; and the error envelope
 * `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`.
 * Values are given by member name; a name the output shape lacks is a bug and throws.
 */
export type OutputValue = string | number | boolean | Date | null | undefined | OutputValue[] | OutputStruct
export interface OutputStruct {
  [member: string]: OutputValue
}

type XmlNode = string | XmlNode[] | { [element: string]: XmlNode }

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  suppressEmptyNode: false,
})
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

function toXml(model: Ec2Model, shapeName: string, value: OutputValue, path: string): XmlNode {
  const shape = shapeOf(model, shapeName)
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date)
        throw new Error(`EC2 response ${path}: ${shapeName} needs an object`)
      const members = shape.members ?? {}
      const node: Record<string, XmlNode> = {}
      for (const [name, v] of Object.entries(value)) {
        const ref = members[name]
        if (ref === undefined) throw new Error(`EC2 response ${path}: ${shapeName} has no member ${name}`)
        if (v === undefined || v === null) continue
        node[xmlNameOf(name, ref)] = toXml(model, ref.shape, v, `${path}.${name}`)
      }
      return node
    }
    case 'list': {
      if (!Array.isArray(value)) throw new Error(`EC2 response ${path}: ${shapeName} needs an array`)
      const member = shape.member
      if (member === undefined) throw new Error(`EC2 model: list ${shapeName} has no member`)
      const items = value.map((v, i) => toXml(model, member.shape, v, `${path}[${i}]`))
      // An empty list is an empty element, which botocore reads as [] (the SDKs likewise).
      return items.length === 0 ? '' : { [member.locationName ?? 'member']: items }
    }
    case 'boolean':
      return value === true ? 'true' : 'false'
    case 'timestamp':
      return value instanceof Date ? value.toISOString() : String(value)
    default:
      return String(value)
  }
}

export function successXml(
  model: Ec2Model,
  action: string,
  outputShape: string | null,
  output: OutputStruct,
  requestId: string,
): string {
  const body =
    outputShape === null ? {} : (toXml(model, outputShape, output, action) as Record<string, XmlNode>)
  const root = { '@_xmlns': `${model.xmlNamespace}/`, requestId, ...body }
  // Actions without an output shape answer `return true`, as EC2 does; botocore ignores it.
  if (outputShape === null) Object.assign(root, { return: 'true' })
  return DECLARATION + builder.build({ [`${action}Response`]: root })
}

export function errorXml(code: string, message: string, requestId: string): string {
  return (
    DECLARATION +
    builder.build({
      Response: { Errors: { Error: { Code: code, Message: message } }, RequestID: requestId },
    })
  )
}
