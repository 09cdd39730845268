import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ApiAdapter } from '../../src/api/api-handler.js'
import { serveAdapters } from '../../src/api/console/serve-adapters.js'

/**
 * The adapters behind the same plain HTTP server `flowlog console` listens with, on 127.0.0.1 (a
 * random port). For adapter tests; the daemon has its own server.
 */
export async function startAdapterServer(
  adapters: readonly ApiAdapter[],
): Promise<{ server: Server; url: string }> {
  // A handler that throws is answered 500 without detail; these tests look at answers, not logs.
  const server = serveAdapters(adapters, () => {})
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { server, url: `http://127.0.0.1:${port}` }
}
