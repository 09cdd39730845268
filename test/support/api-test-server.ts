import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ApiAdapter, ApiRequest } from '../../src/api/api-handler.js'

/**
 * A small node:http server that mounts API adapters on 127.0.0.1 (a random port), handing them
 * the raw request as the daemon's server does. For adapter tests; the daemon has its own.
 */
export async function startAdapterServer(
  adapters: readonly ApiAdapter[],
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
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
        res.writeHead(404).end()
        return
      }
      adapter.handle(request).then(
        (answer) => res.writeHead(answer.status, answer.headers).end(answer.body),
        () => res.writeHead(500).end(),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { server, url: `http://127.0.0.1:${port}` }
}
