import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from '../ops/logger.js'
import type { ApiAdapter, ApiRequest, ApiResponse } from './api-handler.js'

/** What the daemon serves itself, beside the adapters. */
export interface ServerRoutes {
  metrics(): Promise<string>
  metricsContentType: string
  /** A small JSON view of the daemon (mode, devices, store, flow logs, last change applied). */
  status(): unknown
  /** Reloads the config; `ok` false when refused (with the reason). */
  reload(): Promise<{ ok: boolean; message: string }>
  /** The OpenAPI document of the REST routes (JSON text), served at GET /openapi.json; null: none. */
  openapi: (() => string) | null
}

export interface ServerOptions {
  host: string
  port: number
  /** Bearer token of POST /reload; null refuses it. (Adapters check their own credentials.) */
  token: string | null
  /** The protocol adapters, asked in order: the first that handles a request answers it. */
  adapters: readonly ApiAdapter[]
  /** Largest request body, bytes (default 1 MiB): a larger one is answered 413 unread. */
  bodyLimit?: number
  logger: Logger
}

export interface ApiServer {
  readonly server: Server
  readonly port: number
  close(): Promise<void>
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024
/** Longest time a client may take to send a whole request. */
const REQUEST_TIMEOUT_MS = 30_000

/**
 * The daemon's one HTTP listener (DESIGN 9, 10), loopback by default. It owns the socket, the
 * body limit and the routing; the protocol adapters own their protocol (EC2 Query at POST /, NHN
 * REST under /v2.0/, ...) and their authentication. Its own routes: GET /metrics (Prometheus),
 * GET /status, GET /healthz and GET /openapi.json need nothing; POST /reload needs
 * `Authorization: Bearer <token>`, compared in constant time, and is refused outright when no
 * token is configured. An error no adapter turned into an answer is a 500 that says nothing more
 * (the log has it).
 */
export async function startApiServer(options: ServerOptions, routes: ServerRoutes): Promise<ApiServer> {
  const limit = options.bodyLimit ?? DEFAULT_BODY_LIMIT
  const log = options.logger
  const server = createServer((req, res) => {
    handle(req, res, options, routes, limit).catch((error: unknown) => {
      log.error(
        {
          method: req.method,
          path: pathOf(req),
          error: error instanceof Error ? error.message : String(error),
        },
        'api request failed',
      )
      if (res.headersSent) res.destroy()
      else send(res, 500, { error: 'internal error' })
    })
  })
  server.requestTimeout = REQUEST_TIMEOUT_MS
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => resolve())
  })
  server.unref()
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: ServerOptions,
  routes: ServerRoutes,
  limit: number,
): Promise<void> {
  const path = pathOf(req)
  const method = req.method ?? 'GET'
  if (method === 'GET' && path === '/metrics') {
    const body = await routes.metrics()
    res.writeHead(200, { 'content-type': routes.metricsContentType })
    res.end(body)
    return
  }
  if (method === 'GET' && path === '/healthz') return send(res, 200, { ok: true })
  if (method === 'GET' && path === '/status') return send(res, 200, routes.status())
  if (method === 'GET' && path === '/openapi.json' && routes.openapi !== null) {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(routes.openapi())
    return
  }
  if (path === '/reload') {
    if (method !== 'POST') return send(res, 405, { error: 'use POST /reload' })
    if (options.token === null) {
      return send(res, 403, {
        error: 'state-changing calls are disabled: start flowlog with --api-token-file or FLOWLOG_API_TOKEN',
      })
    }
    if (!bearerMatches(req, options.token)) return send(res, 401, { error: 'missing or wrong bearer token' })
    const result = await routes.reload()
    return send(res, result.ok ? 200 : 409, result)
  }
  const head = { method, path, headers: req.headers }
  const adapter = options.adapters.find((a) => a.handles(head))
  if (adapter === undefined) return send(res, 404, { error: `no such endpoint: ${method} ${path}` })
  const body = await readBody(req, limit)
  if (body === null) {
    res.setHeader('connection', 'close')
    send(res, 413, { error: `request body larger than ${limit} bytes` })
    // What the client still sends is not read: the connection closes once the answer is out.
    res.once('finish', () => req.destroy())
    return
  }
  const request: ApiRequest = {
    method,
    path,
    query: new URLSearchParams(queryOf(req)),
    headers: req.headers,
    body,
    remoteAddress: req.socket.remoteAddress ?? '',
  }
  reply(res, await adapter.handle(request))
}

/** The body, or null when it is larger than `limit` (by its Content-Length, or as it arrives). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (Number.isFinite(declared) && declared > limit) return null
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) return null
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, size)
}

function reply(res: ServerResponse, response: ApiResponse): void {
  const body = typeof response.body === 'string' ? Buffer.from(response.body) : response.body
  res.writeHead(response.status, { ...response.headers, 'content-length': String(body.length) })
  res.end(body)
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  return q < 0 ? url : url.slice(0, q)
}

function queryOf(req: IncomingMessage): string {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  return q < 0 ? '' : url.slice(q + 1)
}

/** `Authorization: Bearer <token>`, compared in constant time. */
export function bearerMatches(req: Pick<IncomingMessage, 'headers'>, token: string): boolean {
  const header = req.headers.authorization ?? ''
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '')
  const wanted = Buffer.from(token)
  return given.length === wanted.length && timingSafeEqual(given, wanted)
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(`${JSON.stringify(body)}\n`)
}
