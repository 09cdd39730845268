import { isAbsolute, relative, resolve, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import { DeliveryError, InputError } from '../core/errors.js'
import type { Destination } from '../core/stages.js'
import { writeFileAtomic } from './atomic-write.js'

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
    try {
      await writeFileAtomic(path, body)
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      throw new DeliveryError(`cannot write ${path}: ${reason}`, this.description, key, { cause: error })
    }
  }
}
