import { createHash } from 'node:crypto'
import { readdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { S3Settings } from '../core/network.js'
import { syncDirectory, writeFileAtomic } from './atomic-write.js'
import { makeDirectory } from './make-directory.js'

/** What the spool knows about a file waiting for delivery: everything needed to deliver it later. */
export interface SpoolEntry {
  /** Derived from destination and key: the same file spooled twice is one entry, never two. */
  id: string
  /** The destination URL (`s3://bucket/prefix` or `file:///dir`). */
  destination: string
  /** The object key, prefix included. */
  key: string
  /** The config's s3 settings when the file was made (null for file://); credentials never. */
  s3: S3Settings | null
  flowLogId: string | null
  /** Unix seconds of the window the file holds, when known. */
  windowStart: number | null
  bytes: number
  /** When the file was finished (ISO 8601): delivery latency is measured from here. */
  createdAt: string
  attempts: number
  lastAttemptAt: string | null
  /** The last failure, in words (never a credential). */
  lastError: string | null
  /** The last failure was one that waiting does not fix (no such bucket, access denied, ...). */
  refused: boolean
}

export type NewSpoolEntry = Pick<SpoolEntry, 'destination' | 'key' | 's3' | 'flowLogId' | 'windowStart'>

const FORMAT_VERSION = 1
const META = '.json'
const DATA = '.data'
/** Temporaries and data without metadata older than this are debris of a crash. */
const DEBRIS_AGE_MS = 60 * 60 * 1000

/**
 * A local directory where finished files wait until their destination takes them (DESIGN 5, 9).
 *
 * Each file is two files: `{id}.data` (the bytes exactly as they will be put) and `{id}.json`
 * (the SpoolEntry). Both are written atomically (temp, fsync, rename, directory fsync), data
 * first: an entry exists once its metadata does, so a kill -9 at any moment leaves either no
 * entry or a whole one. Removal deletes the metadata first for the same reason. Several
 * processes may share a spool: puts are idempotent (deterministic keys), so the worst a race
 * does is deliver a file twice to the same key.
 */
export class Spool {
  constructor(readonly dir: string) {}

  /** The entry id of a destination and key. */
  static idOf(destination: string, key: string): string {
    return createHash('sha256').update(`${destination}\n${key}`).digest('hex').slice(0, 32)
  }

  dataPath(id: string): string {
    return join(this.dir, `${id}${DATA}`)
  }

  metaPath(id: string): string {
    return join(this.dir, `${id}${META}`)
  }

  /** Stores a finished file; a file with the same destination and key replaces the old entry. */
  async add(file: NewSpoolEntry, body: Uint8Array, createdAt = new Date()): Promise<SpoolEntry> {
    await makeDirectory(this.dir, 0o700)
    const entry: SpoolEntry = {
      id: Spool.idOf(file.destination, file.key),
      destination: file.destination,
      key: file.key,
      s3: file.s3,
      flowLogId: file.flowLogId,
      windowStart: file.windowStart,
      bytes: body.length,
      createdAt: createdAt.toISOString(),
      attempts: 0,
      lastAttemptAt: null,
      lastError: null,
      refused: false,
    }
    // Flow logs say who talked to whom: only the owner reads the spool.
    await writeFileAtomic(this.dataPath(entry.id), body, 0o600)
    await this.writeMeta(entry)
    return entry
  }

  /** Records an attempt's outcome. False when the entry is gone (delivered by another process). */
  async update(entry: SpoolEntry): Promise<boolean> {
    const exists = await stat(this.dataPath(entry.id)).then(
      () => true,
      () => false,
    )
    if (!exists) {
      await rm(this.metaPath(entry.id), { force: true })
      return false
    }
    await this.writeMeta(entry)
    return true
  }

  async read(id: string): Promise<Uint8Array | null> {
    try {
      return await readFile(this.dataPath(id))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw error
    }
  }

  async remove(id: string): Promise<void> {
    await rm(this.metaPath(id), { force: true })
    await rm(this.dataPath(id), { force: true })
    await syncDirectory(this.dir)
  }

  /**
   * Every waiting entry, oldest first. A missing directory is an empty spool; a metadata file that
   * cannot be read is reported in `broken`, never silently dropped.
   */
  async list(): Promise<{ entries: SpoolEntry[]; broken: string[] }> {
    let names: string[]
    try {
      names = await readdir(this.dir)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], broken: [] }
      throw error
    }
    const entries: SpoolEntry[] = []
    const broken: string[] = []
    for (const name of names) {
      if (!name.endsWith(META) || name.startsWith('.')) continue
      const path = join(this.dir, name)
      try {
        const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<SpoolEntry> & { format?: number }
        const entry = asEntry(parsed)
        if (entry === null) broken.push(`${path}: not a flowlog spool entry`)
        else entries.push(entry)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue
        broken.push(`${path}: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
    entries.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.key.localeCompare(b.key))
    return { entries, broken }
  }

  /** Removes crash debris: temporaries and data files without metadata, older than an hour. */
  async sweep(now = Date.now()): Promise<number> {
    let names: string[]
    try {
      names = await readdir(this.dir)
    } catch {
      return 0
    }
    const metas = new Set(names.filter((n) => n.endsWith(META)).map((n) => n.slice(0, -META.length)))
    let removed = 0
    for (const name of names) {
      const orphan = name.endsWith(DATA) && !metas.has(name.slice(0, -DATA.length))
      const temporary = name.startsWith('.') && name.endsWith('.tmp')
      if (!orphan && !temporary) continue
      const info = await stat(join(this.dir, name)).catch(() => null)
      if (info === null || now - info.mtimeMs < DEBRIS_AGE_MS) continue
      await rm(join(this.dir, name), { force: true })
      removed++
    }
    return removed
  }

  private async writeMeta(entry: SpoolEntry): Promise<void> {
    const text = `${JSON.stringify({ format: FORMAT_VERSION, ...entry }, null, 2)}\n`
    await writeFileAtomic(this.metaPath(entry.id), Buffer.from(text), 0o600)
  }
}

function asEntry(p: Partial<SpoolEntry> & { format?: number }): SpoolEntry | null {
  if (
    p.format !== FORMAT_VERSION ||
    typeof p.id !== 'string' ||
    typeof p.destination !== 'string' ||
    typeof p.key !== 'string' ||
    typeof p.bytes !== 'number' ||
    typeof p.createdAt !== 'string'
  ) {
    return null
  }
  return {
    id: p.id,
    destination: p.destination,
    key: p.key,
    s3: p.s3 ?? null,
    flowLogId: p.flowLogId ?? null,
    windowStart: p.windowStart ?? null,
    bytes: p.bytes,
    createdAt: p.createdAt,
    attempts: p.attempts ?? 0,
    lastAttemptAt: p.lastAttemptAt ?? null,
    lastError: p.lastError ?? null,
    refused: p.refused ?? false,
  }
}
