/**
 * The part of botocore's model of EC2 (`botocore/data/ec2/2016-11-15/service-2.json`) the adapter
 * reads: shapes with their wire names. The request parser and the XML writer are driven by it, so
 * parameter names, list encodings and response element names are botocore's, never typed twice.
 */
export type ShapeType =
  | 'structure'
  | 'list'
  | 'map'
  | 'string'
  | 'integer'
  | 'long'
  | 'boolean'
  | 'timestamp'
  | 'double'
  | 'float'
  | 'blob'

export interface MemberRef {
  shape: string
  /** The wire name in XML responses (and, capitalised, in requests). */
  locationName?: string
  /** The request parameter name, when it differs from the capitalised locationName. */
  queryName?: string
}

export interface Shape {
  type: ShapeType
  members?: Record<string, MemberRef>
  required?: string[]
  /** List element. */
  member?: MemberRef
  enum?: string[]
  min?: number
  max?: number
}

export interface OperationModel {
  input: string | null
  output: string | null
}

export interface Ec2Model {
  apiVersion: string
  xmlNamespace: string
  operations: Record<string, OperationModel>
  shapes: Record<string, Shape>
}

/** The shape named `name`; the model is closed over its operations, so a miss is a bug of the subset. */
export function shapeOf(model: Ec2Model, name: string): Shape {
  const shape = model.shapes[name]
  if (shape === undefined) throw new Error(`EC2 model: no shape ${name}`)
  return shape
}

/**
 * A structure member's request parameter name under botocore's `ec2` protocol: `queryName`, else
 * `locationName` with its first letter upper-cased, else the member name (serialize.py EC2Serializer).
 */
export function queryNameOf(memberName: string, ref: MemberRef): string {
  if (ref.queryName !== undefined) return ref.queryName
  if (ref.locationName !== undefined) return ref.locationName[0]?.toUpperCase() + ref.locationName.slice(1)
  return memberName
}

/** A member's XML element name in responses: `locationName`, else the member name. */
export function xmlNameOf(memberName: string, ref: MemberRef): string {
  return ref.locationName ?? memberName
}
