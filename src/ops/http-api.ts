import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ApiHandlers {
  metrics(): Promise<string>
  metricsContentType: string
  /** A small JSON view of the daemon (mode, devices, flow logs, counts). */
  status(): unknown
  /** Reloads the config; `ok` false when refused (with the reason). */
  reload(): Promise<{ ok: boolean; message: string }>
}

export interface ApiOptions {
  host: string
  port: number
  /** Bearer token required by state-changing calls; null disables them. */
  token: string | null
}

/**
 * The daemon's HTTP API (DESIGN 9): loopback by default. Reading (`GET /metrics`, `GET /status`,
 * `GET /healthz`) needs nothing; anything that changes state (`POST /reload`) needs
 * `Authorization: Bearer <token>`, compared in constant time, and is refused outright when no
 * token is configured.
 */
export async function startApi(
  options: ApiOptions,
  handlers: ApiHandlers,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    handle(req, res, options, handlers).catch((error: unknown) => {
      send(res, 500, { error: error instanceof Error ? error.message : String(error) })
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => resolve())
  })
  server.unref()
  return { server, port: (server.address() as AddressInfo).port }
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: ApiOptions,
  handlers: ApiHandlers,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]
  if (req.method === 'GET' && path === '/metrics') {
    const body = await handlers.metrics()
    res.writeHead(200, { 'content-type': handlers.metricsContentType })
    res.end(body)
    return
  }
  if (req.method === 'GET' && path === '/healthz') return send(res, 200, { ok: true })
  if (req.method === 'GET' && path === '/status') return send(res, 200, handlers.status())
  if (path === '/reload') {
    if (req.method !== 'POST') return send(res, 405, { error: 'use POST /reload' })
    if (options.token === null) {
      return send(res, 403, {
        error: 'state-changing calls are disabled: start flowlog with FLOWLOG_API_TOKEN set',
      })
    }
    if (!authorized(req, options.token)) return send(res, 401, { error: 'missing or wrong bearer token' })
    const result = await handlers.reload()
    return send(res, result.ok ? 200 : 409, result)
  }
  send(res, 404, { error: `no such endpoint: ${req.method} ${path}` })
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? ''
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '')
  const wanted = Buffer.from(token)
  return given.length === wanted.length && timingSafeEqual(given, wanted)
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(`${JSON.stringify(body)}\n`)
}
