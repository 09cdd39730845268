import { createServer, type Server } from 'node:http'
import type { ApiAdapter, ApiRequest } from '../api-handler.js'

const BODY_LIMIT = 1024 * 1024

/**
 * A plain HTTP server over API adapters, the first adapter that handles a request answers it:
 * what `flowlog console` listens with. (The daemon's server, with its metrics and logs, mounts the
 * same adapters.) A thrown error is a 500 without detail; bodies over 1 MiB are refused.
 */
export function serveAdapters(adapters: readonly ApiAdapter[], onError: (error: unknown) => void): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > BODY_LIMIT) {
        res.writeHead(413, { 'content-type': 'text/plain' }).end('request body over 1 MiB')
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost')
      const request: ApiRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks),
        remoteAddress: req.socket.remoteAddress ?? '',
      }
      const adapter = adapters.find((a) => a.handles(request))
      if (adapter === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify({
            error: { code: 'NotFound', message: `no route for ${request.method} ${request.path}` },
          }),
        )
        return
      }
      adapter.handle(request).then(
        (answer) => {
          res.writeHead(answer.status, answer.headers)
          res.end(request.method === 'HEAD' ? undefined : answer.body)
        },
        (error: unknown) => {
          onError(error)
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ error: { code: 'InternalError', message: 'internal error' } }))
        },
      )
    })
  })
}
