import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import { DeliveryError, InputError } from '../core/errors.js'
import type { Destination } from '../core/stages.js'

/**
 * Files under a local directory (`file:///abs/dir`), one per key.
 *
 * A put writes a temporary file beside the target (`.{name}.{random}.tmp`: a dot file, which
 * readers skip), fsyncs it, renames it over the target and fsyncs the directory. Rename is atomic
 * within a directory, so a reader sees the old file or the whole new one, never a partial one;
 * writing the same key again replaces it.
 */
export class FileDestination implements Destination {
  readonly description: string
  readonly root: string

  constructor(root: string) {
    if (!isAbsolute(root)) throw new InputError(`destination directory "${root}" is not an absolute path`)
    this.root = resolve(root)
    this.description = pathToFileURL(this.root).href
  }

  locate(key: string): string {
    const path = resolve(this.root, key)
    const inside = relative(this.root, path)
    // Keys come from validated ids, but a file path must never leave the root (DESIGN 9).
    if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) {
      throw new DeliveryError(`object key "${key}" leaves ${this.description}`, this.description, key)
    }
    return path
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const path = this.locate(key)
    const directory = dirname(path)
    const temp = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
    try {
      await mkdir(directory, { recursive: true })
      const file = await open(temp, 'wx', 0o644)
      try {
        await file.writeFile(body)
        await file.sync()
      } finally {
        await file.close()
      }
      await rename(temp, path)
      await syncDirectory(directory)
    } catch (error) {
      await rm(temp, { force: true }).catch(() => {})
      const reason = error instanceof Error ? error.message : String(error)
      throw new DeliveryError(`cannot write ${path}: ${reason}`, this.description, key, { cause: error })
    }
  }
}

/** Makes the rename itself durable; some filesystems refuse fsync on a directory, which is not fatal. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r').catch(() => null)
  if (handle === null) return
  try {
    await handle.sync()
  } catch {
    // EINVAL/EISDIR on filesystems without directory fsync: the data itself is already synced.
  } finally {
    await handle.close()
  }
}
