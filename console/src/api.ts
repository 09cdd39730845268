import { signedHeaders } from './sigv4'

/**
 * The console's only way to the server: the public APIs. The analysis endpoints and NHN's flow-log
 * API take the token in the X-Auth-Token header, the EC2 API a SigV4 signature: nothing rides on a
 * cookie, so another site cannot make the browser act (CSRF). The login lives in this tab's
 * sessionStorage, never in the page.
 */
export interface Settings {
  management: boolean
  analysisNeedsToken: boolean
  region: string
}

export interface Session {
  token: string
  accessKeyId: string
  secretAccessKey: string
}

const KEY = 'flowlog-console-session'

export function loadSession(): Session | null {
  const text = sessionStorage.getItem(KEY)
  if (text === null) return null
  try {
    return JSON.parse(text) as Session
  } catch {
    return null
  }
}

export function saveSession(session: Session | null): void {
  if (session === null) sessionStorage.removeItem(KEY)
  else sessionStorage.setItem(KEY, JSON.stringify(session))
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

let settingsPromise: Promise<Settings> | null = null
export function settings(): Promise<Settings> {
  settingsPromise ??= fetch('/console/settings.json').then((r) => r.json() as Promise<Settings>)
  return settingsPromise
}

function authHeaders(): Record<string, string> {
  const token = loadSession()?.token
  return token ? { 'x-auth-token': token } : {}
}

async function fail(response: Response): Promise<never> {
  const text = await response.text()
  let code = String(response.status)
  let message = text || response.statusText
  try {
    const body = JSON.parse(text) as Record<string, unknown>
    // flowlog's and NHN's envelopes: { error: { code, message } }, or NHN's { NeutronError: {...} }.
    const error = (body.error ?? body.NeutronError ?? body.header) as Record<string, unknown> | undefined
    if (error !== undefined) {
      code = String(error.code ?? error.type ?? code)
      message = String(error.message ?? error.resultMessage ?? message)
    }
  } catch {
    const xml = new DOMParser().parseFromString(text, 'application/xml')
    const c = xml.querySelector('Code')?.textContent
    const m = xml.querySelector('Message')?.textContent
    if (c) code = c
    if (m) message = m
  }
  throw new ApiError(response.status, code, `${code}: ${message}`)
}

export type Params = Record<string, string | number | undefined | null>

function search(params: Params): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s === '' ? '' : `?${s}`
}

export function analysisUrl(route: string, params: Params = {}): string {
  return `/v2.0/flowlog-analysis/${route}${search(params)}`
}

export async function analysis<T>(route: string, params: Params = {}, body?: string): Promise<T> {
  const response = await fetch(analysisUrl(route, params), {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      accept: 'application/json',
      ...authHeaders(),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body }),
  })
  if (!response.ok) return fail(response)
  return (await response.json()) as T
}

/** NHN Cloud's flow-log API (/v2.0/flowlog-loggers), with the token. */
export async function nhn<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`/v2.0/${path}`, {
    method,
    headers: {
      accept: 'application/json',
      ...authHeaders(),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  if (!response.ok) return fail(response)
  return response.status === 204 ? (undefined as T) : ((await response.json()) as T)
}

/** One EC2 Query API call, SigV4-signed with the login's key pair; the XML answer as a Document. */
export async function ec2(action: string, params: Record<string, string>): Promise<Document> {
  const session = loadSession()
  if (!session?.accessKeyId || !session.secretAccessKey) {
    throw new ApiError(
      401,
      'AuthFailure',
      'log in with an API key pair to change security groups or create AWS-style flow logs',
    )
  }
  const body = new URLSearchParams({ Action: action, Version: '2016-11-15', ...params }).toString()
  const { region } = await settings()
  const headers = await signedHeaders(session, region, location.host, body)
  const response = await fetch('/', { method: 'POST', headers, body })
  if (!response.ok) return fail(response)
  return new DOMParser().parseFromString(await response.text(), 'application/xml')
}
