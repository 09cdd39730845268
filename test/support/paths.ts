import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root, whether this runs from test/ through tsx or from dist/test/ after tsc. */
export const REPO_ROOT = (() => {
  const here = dirname(fileURLToPath(import.meta.url))
  return here.includes(`${'/'}dist${'/'}`) ? resolve(here, '../../..') : resolve(here, '../..')
})()

export function repoPath(...parts: string[]): string {
  return resolve(REPO_ROOT, ...parts)
}
