import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { ApiResponse } from '../api-handler.js'

/**
 * The OpenAPI 3 document of the NHN-style REST API, kept in the repository as docs/openapi.json
 * (a test holds it to the adapter's routes, filters and shapes) and served at GET /openapi.json.
 */
export const OPENAPI_FILE = fileURLToPath(new URL('../../../../docs/openapi.json', import.meta.url))

let cached: string | undefined

/** The document's text, read once. */
export function openApiText(): string {
  cached ??= readFileSync(OPENAPI_FILE, 'utf8')
  return cached
}

/** The answer to GET /openapi.json; needs no token (it holds no state). */
export function openApiResponse(): ApiResponse {
  return {
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' },
    body: openApiText(),
  }
}
