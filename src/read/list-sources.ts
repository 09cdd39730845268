import { createReadStream } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join, resolve, sep } from 'node:path'
import { InputError } from '../core/errors.js'
import { keyMayHold } from './key-time.js'
import { isHidden, listS3 } from './s3-source.js'
import type { SourceFile } from './source-file.js'

export interface Listing {
  files: SourceFile[]
  /** Files and folders skipped by their key (outside since/until), never opened. */
  pruned: number
}

/**
 * Expands sources (files, directories walked recursively, s3://bucket/prefix) into the files to read,
 * in a stable order (each source's files sorted by key), pruning by time from the key layout.
 * A source that does not exist is bad input.
 */
export async function listSources(
  sources: readonly string[],
  since: number | undefined,
  until: number | undefined,
): Promise<Listing> {
  if (sources.length === 0)
    throw new InputError('no sources: name flow-log files, directories, s3:// prefixes or - (standard input)')
  const listing: Listing = { files: [], pruned: 0 }
  const pruned = () => {
    listing.pruned++
  }
  for (const source of sources) {
    if (source === '-') {
      // Loaded here: only a read of standard input needs it.
      listing.files.push(await (await import('./stdin-source.js')).stdinSource())
      continue
    }
    if (source.startsWith('s3://')) {
      listing.files.push(...(await listS3(source, since, until, pruned)))
      continue
    }
    const path = resolve(source)
    const info = await stat(path).catch(() => null)
    if (info === null) throw new InputError(`source "${source}": no such file or directory`)
    if (info.isDirectory()) {
      const found: SourceFile[] = []
      await walk(path, since, until, found, pruned)
      found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      listing.files.push(...found)
    } else if (keyMayHold(slashes(path), since, until)) {
      listing.files.push(localFile(path, info.size))
    } else {
      pruned()
    }
  }
  return listing
}

async function walk(
  dir: string,
  since: number | undefined,
  until: number | undefined,
  out: SourceFile[],
  pruned: () => void,
): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true })
  for (const entry of entries) {
    const path = join(dir, entry.name)
    if (isHidden(entry.name)) continue
    let isDirectory = entry.isDirectory()
    let isFile = entry.isFile()
    if (entry.isSymbolicLink()) {
      const target = await stat(path).catch(() => null)
      isDirectory = target?.isDirectory() ?? false
      isFile = target?.isFile() ?? false
    }
    if (!keyMayHold(slashes(path), since, until)) {
      pruned()
      continue
    }
    if (isDirectory) await walk(path, since, until, out, pruned)
    else if (isFile) out.push(localFile(path, (await stat(path)).size))
  }
}

/** A local file as a SourceFile. */
export function localFile(path: string, size: number): SourceFile {
  return {
    name: path,
    key: slashes(path),
    size,
    localPath: path,
    read: () => readFile(path),
    stream: async () => createReadStream(path, { highWaterMark: 1 << 20 }),
  }
}

function slashes(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/')
}
