import { createReadStream, statSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { InputError } from '../core/errors.js'
import type { FlowRow } from './flow-row.js'

/**
 * INTERIM: a minimal reader of flowlog's own text formats (AWS text with its header line, JSONL,
 * NHN CSV with its header row; gzip or not; files or directories), so the analysis commands run
 * end to end before src/read lands. It has the shape of src/read's `readFlows` and is replaced by
 * it in flow-source.ts. No Parquet, no s3://, no --log-format, no time pruning.
 */

/** NHN CSV columns → AWS field names (filter DROP is read as REJECT by toFlow). */
const NHN_NAMES: Record<string, string> = {
  timestamp_start: 'start',
  timestamp_end: 'end',
  interface_id: 'interface-id',
  owner_id: 'instance-id',
  vm_id: 'instance-id',
  subnet_id: 'subnet-id',
  vpc_id: 'vpc-id',
  src_addr: 'srcaddr',
  dst_addr: 'dstaddr',
  src_port: 'srcport',
  dst_port: 'dstport',
  tcp_flag: 'tcp-flags',
  direction: 'flow-direction',
  filter: 'action',
  status: 'log-status',
}

async function* walk(path: string): AsyncGenerator<string> {
  let isDirectory: boolean
  try {
    isDirectory = statSync(path).isDirectory()
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error)
    throw new InputError(`source ${path}: cannot read it (${reason})`)
  }
  if (!isDirectory) {
    yield path
    return
  }
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))
  for (const entry of entries) {
    const full = join(path, entry.name)
    if (entry.isDirectory()) yield* walk(full)
    else if (/\.(log|txt|jsonl|csv)(\.gz)?$/.test(entry.name)) yield full
  }
}

function lines(path: string): AsyncIterable<string> {
  let stream: Readable = createReadStream(path)
  if (path.endsWith('.gz')) stream = stream.pipe(createGunzip())
  return createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })
}

function value(text: string): string | number | null {
  if (text === '-' || text === '') return null
  return /^-?\d+$/.test(text) ? Number(text) : text
}

export async function* readFlows(sources: readonly string[]): AsyncGenerator<FlowRow> {
  for (const source of sources) {
    for await (const path of walk(source)) {
      const name = path.replace(/\.gz$/, '')
      let header: string[] | null = null
      for await (const line of lines(path)) {
        if (line.trim() === '') continue
        if (name.endsWith('.jsonl')) {
          yield JSON.parse(line) as FlowRow
          continue
        }
        const csv = name.endsWith('.csv')
        const cells = csv ? line.split(',') : line.trim().split(/\s+/)
        if (header === null) {
          header = cells.map((c) => (csv ? (NHN_NAMES[c] ?? c) : c))
          continue
        }
        const row: Record<string, unknown> = {}
        header.forEach((field, i) => {
          row[field] = value(cells[i] ?? '-')
        })
        yield row
      }
    }
  }
}
