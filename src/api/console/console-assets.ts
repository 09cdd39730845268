import { readFileSync, statSync } from 'node:fs'
import { extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ApiAdapter, ApiResponse } from '../api-handler.js'

/** Where `npm run build` (vite) puts the console: `dist-console/` at the package root. */
export const CONSOLE_ASSETS_DIR = fileURLToPath(new URL('../../../../dist-console/', import.meta.url))

export const CONSOLE_PATH = '/console/'

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
}

/**
 * The console's own page and files, and what it needs to know about this server
 * (`/console/settings.json`: which APIs are mounted, whether they need a login; never a secret).
 * Pages are sent with a strict Content-Security-Policy (scripts from this origin only, no inline
 * script, no framing): the page talks to this origin's APIs and nothing else.
 */
export interface ConsoleSettings {
  /** The NHN flow-log API and the EC2 API are mounted (a state dir): the management pages work. */
  management: boolean
  /** The analysis endpoints want the X-Auth-Token too. */
  analysisNeedsToken: boolean
  /** The EC2 API's region for SigV4 (the network's region). */
  region: string
}

export function consoleAssets(
  settings: () => Promise<ConsoleSettings>,
  dir = CONSOLE_ASSETS_DIR,
): ApiAdapter {
  const root = normalize(dir)
  return {
    name: 'console',
    handles: (request) =>
      (request.method === 'GET' || request.method === 'HEAD') &&
      (request.path === '/' || request.path === '/console' || request.path.startsWith(CONSOLE_PATH)),
    handle: async (request) => {
      if (request.path === '/' || request.path === '/console') {
        return { status: 302, headers: { location: CONSOLE_PATH, ...SECURITY_HEADERS }, body: '' }
      }
      const rest = request.path.slice(CONSOLE_PATH.length)
      if (rest === 'settings.json') {
        return file(200, '.json', JSON.stringify(await settings()), 'no-store')
      }
      const name = rest === '' ? 'index.html' : decodeURIComponent(rest)
      const path = normalize(join(root, name))
      if (!path.startsWith(root.endsWith(sep) ? root : root + sep) || name.includes('\0')) {
        return file(404, '.html', 'not found', 'no-store')
      }
      const info = statSync(path, { throwIfNoEntry: false })
      if (info === undefined || !info.isFile()) {
        if (rest === '' || rest === 'index.html') {
          return file(
            503,
            '.html',
            '<!doctype html><title>flowlog console</title><p>The console is not built: run <code>npm run build</code>.</p>',
            'no-store',
          )
        }
        return file(404, '.html', 'not found', 'no-store')
      }
      // Vite names assets by content hash: they never change under their name.
      const cache = name.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'
      return file(200, extname(path), readFileSync(path), cache)
    },
  }
}

/**
 * Scripts only from this origin and never inline; styles may be inline because ECharts writes its
 * tooltips as HTML with style attributes (an inline style cannot run code).
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
}

function file(status: number, ext: string, body: string | Buffer, cache: string): ApiResponse {
  return {
    status,
    headers: {
      'content-type': TYPES[ext] ?? 'application/octet-stream',
      'cache-control': cache,
      ...SECURITY_HEADERS,
    },
    body,
  }
}
