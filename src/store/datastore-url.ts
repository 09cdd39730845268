import { InputError } from '../core/errors.js'
import { DEFAULT_PREFIX } from './etcd-keys.js'

/**
 * What `--datastore`, `datastore copy --from/--to` take:
 * - `sqlite:DIR` — the embedded store of one host, `DIR/state.db` (what `--state DIR` opens);
 * - `etcd://HOST:PORT[,HOST:PORT…][/PREFIX/]` — an etcd cluster (any of its members' client
 *   addresses), the items under PREFIX (default `/flowlog/`).
 */
export type Datastore =
  | { type: 'sqlite'; dir: string }
  | { type: 'etcd'; endpoints: string[]; prefix: string }

const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})$/

export function parseDatastore(text: string, option = '--datastore'): Datastore {
  const rule = 'sqlite:DIR or etcd://HOST:PORT[,HOST:PORT…][/PREFIX/]'
  const fail = (why: string): never => {
    throw new InputError(`${option} ${JSON.stringify(text)}: ${why} (expected ${rule})`)
  }
  if (text.startsWith('sqlite:')) {
    const dir = text.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')
    if (dir === '') fail('no directory')
    return { type: 'sqlite', dir }
  }
  if (!text.startsWith('etcd://')) {
    const scheme = /^([a-z0-9+.-]+):/i.exec(text)?.[1]
    return fail(scheme === undefined ? 'no scheme' : `unknown scheme ${JSON.stringify(scheme)}`)
  }
  const rest = text.slice('etcd://'.length)
  const slash = rest.indexOf('/')
  const hosts = slash < 0 ? rest : rest.slice(0, slash)
  let prefix = slash < 0 ? DEFAULT_PREFIX : rest.slice(slash)
  if (prefix === '/') prefix = DEFAULT_PREFIX
  if (!prefix.endsWith('/')) prefix += '/'
  if (prefix.includes('//')) fail(`the prefix ${JSON.stringify(prefix)} has an empty segment`)
  const endpoints = hosts.split(',').map((host) => {
    const port = HOST_PORT.exec(host)?.[1]
    if (port === undefined) return fail(`${JSON.stringify(host)} is not HOST:PORT`)
    if (Number(port) < 1 || Number(port) > 65535) fail(`port ${port} is out of range 1-65535`)
    return `http://${host}`
  })
  return { type: 'etcd', endpoints, prefix }
}

/** The datastore as text again, for logs and /status (it never holds credentials). */
export function describeDatastore(store: Datastore): string {
  if (store.type === 'sqlite') return `sqlite:${store.dir}`
  const hosts = store.endpoints.map((e) => e.replace(/^https?:\/\//, '')).join(',')
  return `etcd://${hosts}${store.prefix}`
}
