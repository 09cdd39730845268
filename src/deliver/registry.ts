import { fileURLToPath } from 'node:url'
import { InputError } from '../core/errors.js'
import type { Destination } from '../core/stages.js'
import { FileDestination } from './file-destination.js'

/** The destination of a flow log's `destination` URL. */
export function destinationFor(url: string): Destination {
  if (url.startsWith('file:')) {
    let path: string
    try {
      path = fileURLToPath(url)
    } catch (error) {
      throw new InputError(`destination "${url}" is not a file:///absolute/dir URL`, undefined, {
        cause: error,
      })
    }
    return new FileDestination(path)
  }
  if (url.startsWith('s3://')) {
    throw new InputError(`destination "${url}": s3:// destinations arrive with object-storage support`)
  }
  throw new InputError(`destination "${url}" is not a file:// or s3:// URL`)
}
