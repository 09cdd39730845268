import { mkdir, stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'

/**
 * `mkdir -p` that always ends. Node's recursive mkdir retries for ever where a parent exists but
 * making the child fails with ENOENT, which is how procfs and sysfs refuse (`--out /proc/x` spun
 * four threads at full speed): here each missing directory is made once, from the deepest one
 * that exists down, and the first failure is thrown.
 */
export async function makeDirectory(path: string, mode?: number): Promise<void> {
  const missing: string[] = []
  for (let dir = resolve(path); ; ) {
    try {
      await stat(dir)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      missing.push(dir)
      const parent = dirname(dir)
      if (parent === dir) break
      dir = parent
    }
  }
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir, mode === undefined ? {} : { mode })
    } catch (error) {
      // Another writer made it meanwhile: fine.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
}
