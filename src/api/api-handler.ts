import type { IncomingHttpHeaders } from 'node:http'

/**
 * What the HTTP server hands an API adapter, and what it gets back: the server owns the socket,
 * body limits, routing by path prefix and the catch-all (a thrown error is a 500 with no detail);
 * adapters own their protocol (parameters, auth, encodings, error envelopes).
 */
export interface ApiRequest {
  method: string
  /** Path without the query string, percent-decoding left to the adapter. */
  path: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
  /** The raw body (already limited in size by the server). */
  body: Buffer
  /** The client's address, for logs. */
  remoteAddress: string
}

export interface ApiResponse {
  status: number
  headers: Record<string, string>
  body: string | Buffer
}

export interface ApiAdapter {
  /** Path prefixes this adapter answers (`/` for the EC2 Query API's POST, `/v2.0/` for NHN). */
  readonly name: string
  handles(request: Pick<ApiRequest, 'method' | 'path' | 'headers'>): boolean
  handle(request: ApiRequest): Promise<ApiResponse>
}
