import type { Ec2Model, MemberRef, Shape, ShapeType } from './ec2-model.js'

/**
 * Cuts botocore's whole EC2 model (2.8 MB, 2900 shapes) down to the operations flowlog answers
 * and the shapes they reach, without documentation. The generator script writes the result to
 * ec2-model.generated.ts; a test checks it still equals a fresh cut of the installed awscli's model.
 */

interface BotocoreMemberRef {
  shape: string
  locationName?: string
  queryName?: string
}

interface BotocoreShape {
  type: ShapeType
  members?: Record<string, BotocoreMemberRef>
  required?: string[]
  member?: BotocoreMemberRef
  enum?: string[]
  min?: number
  max?: number
}

export interface BotocoreModel {
  metadata: { apiVersion: string; xmlNamespace: string; protocol: string }
  operations: Record<string, { input?: { shape: string }; output?: { shape: string } }>
  shapes: Record<string, BotocoreShape>
}

export const BOTOCORE_EC2_MODEL_PATH =
  '/usr/lib/python3/dist-packages/awscli/botocore/data/ec2/2016-11-15/service-2.json'

function ref(r: BotocoreMemberRef): MemberRef {
  const out: MemberRef = { shape: r.shape }
  if (r.locationName !== undefined) out.locationName = r.locationName
  if (r.queryName !== undefined) out.queryName = r.queryName
  return out
}

export function subsetModel(full: BotocoreModel, operations: readonly string[]): Ec2Model {
  if (full.metadata.protocol !== 'ec2') throw new Error(`not the ec2 protocol: ${full.metadata.protocol}`)
  const shapes: Record<string, Shape> = {}
  const visit = (name: string): void => {
    if (shapes[name] !== undefined) return
    const s = full.shapes[name]
    if (s === undefined) throw new Error(`botocore model has no shape ${name}`)
    const shape: Shape = { type: s.type }
    shapes[name] = shape
    if (s.members !== undefined) {
      shape.members = {}
      for (const [m, r] of Object.entries(s.members)) {
        shape.members[m] = ref(r)
        visit(r.shape)
      }
    }
    if (s.required !== undefined && s.required.length > 0) shape.required = [...s.required]
    if (s.member !== undefined) {
      shape.member = ref(s.member)
      visit(s.member.shape)
    }
    if (s.enum !== undefined) shape.enum = [...s.enum]
    if (s.min !== undefined && s.type !== 'string' && s.type !== 'list') shape.min = s.min
    if (s.max !== undefined && s.type !== 'string' && s.type !== 'list') shape.max = s.max
  }
  const ops: Ec2Model['operations'] = {}
  for (const name of [...operations].sort()) {
    const op = full.operations[name]
    if (op === undefined) throw new Error(`botocore model has no operation ${name}`)
    ops[name] = { input: op.input?.shape ?? null, output: op.output?.shape ?? null }
    if (op.input !== undefined) visit(op.input.shape)
    if (op.output !== undefined) visit(op.output.shape)
  }
  const sorted: Record<string, Shape> = {}
  for (const name of Object.keys(shapes).sort()) sorted[name] = shapes[name] as Shape
  return {
    apiVersion: full.metadata.apiVersion,
    xmlNamespace: full.metadata.xmlNamespace,
    operations: ops,
    shapes: sorted,
  }
}
