import { fileURLToPath } from 'node:url'
import { InputError } from '../core/errors.js'
import type { S3Settings } from '../core/network.js'
import type { Destination } from '../core/stages.js'
import { FileDestination } from './file-destination.js'
import { S3Destination } from './s3-destination.js'

/** AWS S3 with virtual-hosted addressing: what an s3:// destination means when the config says nothing. */
export const DEFAULT_S3_SETTINGS: Readonly<S3Settings> = {
  endpoint: null,
  region: null,
  forcePathStyle: false,
}

/** The destination of a flow log's `destination` URL. */
export function destinationFor(url: string, s3: S3Settings = DEFAULT_S3_SETTINGS): Destination {
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
  if (url.startsWith('s3://')) return new S3Destination(url, s3)
  throw new InputError(`destination "${url}" is not a file:// or s3:// URL`)
}
