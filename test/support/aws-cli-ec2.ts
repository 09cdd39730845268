import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * What Debian's awscli (/usr/bin/aws) prints for an EC2 describe call, for tests of code that reads
 * it: a loopback endpoint answers the call with the EC2 XML of a result given in awscli's JSON
 * shape, serialized by botocore's own EC2 model, and awscli parses it and prints its JSON. A key the
 * model does not have fails the serialization, so a test's data has exactly awscli's shape.
 */
export const AWS_CLI = '/usr/bin/aws'
const MODEL = '/usr/lib/python3/dist-packages/awscli/botocore/data/ec2/2016-11-15/service-2.json'

interface ShapeRef {
  shape: string
  locationName?: string
}
interface Shape {
  type: string
  members?: Record<string, ShapeRef>
  member?: ShapeRef
}
interface Model {
  shapes: Record<string, Shape>
  operations: Record<string, { output?: { shape: string } }>
}

let model: Model | null = null
function ec2Model(): Model {
  model ??= JSON.parse(readFileSync(MODEL, 'utf8')) as Model
  return model
}

function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** `value` as the children of an element of shape `shapeName`. */
function serialize(shapeName: string, value: unknown, path: string): string {
  const shape = ec2Model().shapes[shapeName]
  if (shape === undefined) throw new Error(`${path}: no shape ${shapeName} in the EC2 model`)
  if (shape.type === 'structure') {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error(`${path}: ${shapeName} is a structure`)
    return Object.entries(value)
      .map(([key, v]) => {
        const ref = shape.members?.[key]
        if (ref === undefined) throw new Error(`${path}.${key}: ${shapeName} has no member ${key}`)
        const tag = ref.locationName ?? key
        return `<${tag}>${serialize(ref.shape, v, `${path}.${key}`)}</${tag}>`
      })
      .join('')
  }
  if (shape.type === 'list') {
    if (!Array.isArray(value)) throw new Error(`${path}: ${shapeName} is a list`)
    const ref = shape.member as ShapeRef
    const tag = ref.locationName ?? 'member'
    return value.map((v, i) => `<${tag}>${serialize(ref.shape, v, `${path}[${i}]`)}</${tag}>`).join('')
  }
  if (shape.type === 'integer' || shape.type === 'long') {
    if (!Number.isInteger(value)) throw new Error(`${path}: ${shapeName} is an integer`)
    return String(value)
  }
  if (shape.type === 'boolean') {
    if (typeof value !== 'boolean') throw new Error(`${path}: ${shapeName} is a boolean`)
    return String(value)
  }
  if (typeof value !== 'string') throw new Error(`${path}: ${shapeName} is a ${shape.type} (a string)`)
  return xmlText(value)
}

/**
 * Runs `aws ec2 <command>` against an endpoint that returns `result` (awscli's JSON shape of the
 * operation's output) and gives back what awscli printed.
 */
export async function awsCliPrints(command: string, operation: string, result: unknown): Promise<string> {
  const output = ec2Model().operations[operation]?.output?.shape
  if (output === undefined) throw new Error(`no EC2 operation ${operation}`)
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>00000000-0000-0000-0000-000000000000</requestId>${serialize(output, result, operation)}</${operation}Response>`
  const server = createServer((request, response) => {
    request.resume()
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8' })
      response.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  try {
    return await new Promise<string>((resolve, reject) => {
      execFile(
        AWS_CLI,
        [
          'ec2',
          command,
          '--endpoint-url',
          `http://127.0.0.1:${port}`,
          '--region',
          'us-east-1',
          '--output',
          'json',
        ],
        {
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: process.env.HOME ?? '/tmp',
            AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
            AWS_SECRET_ACCESS_KEY: 'secret',
            AWS_CONFIG_FILE: '/dev/null',
            AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
            AWS_PAGER: '',
          },
          timeout: 60_000,
        },
        (error, stdout, stderr) =>
          error === null ? resolve(stdout) : reject(new Error(`${error.message}\n${stderr}`)),
      )
    })
  } finally {
    server.close()
  }
}
