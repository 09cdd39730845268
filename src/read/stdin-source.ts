import { createWriteStream, statSync } from 'node:fs'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { InputError } from '../core/errors.js'
import { makeScratchDir } from '../ops/scratch-dirs.js'
import { localFile } from './list-sources.js'
import type { SourceFile } from './source-file.js'

/**
 * The source `-`: standard input (`zcat logs/*.gz | flowlog query -`, `aws s3 cp s3://... - | ...`).
 * It is copied to a temporary file as it arrives (bounded memory, whatever its size) and then read
 * like any file: the format is recognised from its content (gzip, AWS text, NHN CSV, JSONL), and
 * DuckDB can read it too. The file goes when the process ends.
 */
let taken = false

export async function stdinSource(input: NodeJS.ReadableStream = process.stdin): Promise<SourceFile> {
  if (taken) throw new InputError('source "-": standard input can be read once; give "-" once')
  taken = true
  if (input === process.stdin && process.stdin.isTTY === true)
    throw new InputError('source "-": standard input is a terminal; pipe flow-log records into it')
  const dir = makeScratchDir('flowlog-stdin-')
  const path = join(dir, 'stdin')
  await pipeline(input, createWriteStream(path))
  return { ...localFile(path, statSync(path).size), name: '-' }
}
