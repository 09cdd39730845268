import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { makeDirectory } from './make-directory.js'

/**
 * Writes `body` to `path` so that a reader (or a process restarted after kill -9) sees the old
 * file or the whole new one, never a part: a temporary dot file beside the target
 * (`.{name}.{random}.tmp`, which listings skip), fsynced, renamed over the target, and the
 * directory fsynced so the rename itself survives a crash. The temporary is removed on failure.
 */
export async function writeFileAtomic(path: string, body: Uint8Array, mode = 0o644): Promise<void> {
  const directory = dirname(path)
  const temp = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    await makeDirectory(directory)
    const file = await open(temp, 'wx', mode)
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
    throw error
  }
}

/** Makes a rename or unlink durable; some filesystems refuse fsync on a directory, which is not fatal. */
export async function syncDirectory(directory: string): Promise<void> {
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
