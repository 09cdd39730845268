import type { StoreKind } from './store.js'

/**
 * Where the etcd backend keeps each item (docs/fleet.md, "Key layout"):
 * `<prefix>v1/<kind>/<id>` → the item as JSON text, e.g. `/flowlog/v1/security-group/sg-0a1…`.
 * `v1` is the layout's version: a later flowlog that changes the layout writes under `v2/` and
 * migrates, so agents of two versions never read each other's shapes by mistake. The id is the
 * rest of the key, so ids may hold `/` (client tokens may).
 */
export const LAYOUT_VERSION = 'v1'
export const DEFAULT_PREFIX = '/flowlog/'

/** Every kind, for telling our keys from anything else under the prefix. */
const KINDS: Record<StoreKind, true> = {
  'flow-log': true,
  'security-group': true,
  attachment: true,
  'client-token': true,
  topology: true,
  status: true,
}

function isKind(text: string): text is StoreKind {
  return Object.hasOwn(KINDS, text)
}

export class EtcdKeys {
  /** `<prefix>v1/`: every key of this layout starts with it. */
  readonly root: string

  constructor(prefix: string) {
    this.root = `${prefix}${LAYOUT_VERSION}/`
  }

  key(kind: StoreKind, id: string): string {
    return `${this.root}${kind}/${id}`
  }

  kindPrefix(kind: StoreKind): string {
    return `${this.root}${kind}/`
  }

  /** The kind and id of a key of this layout, or null for any other key under the prefix. */
  parse(key: string): { kind: StoreKind; id: string } | null {
    if (!key.startsWith(this.root)) return null
    const rest = key.slice(this.root.length)
    const slash = rest.indexOf('/')
    if (slash <= 0 || slash === rest.length - 1) return null
    const kind = rest.slice(0, slash)
    return isKind(kind) ? { kind, id: rest.slice(slash + 1) } : null
  }
}

/**
 * etcd's range end for "every key starting with prefix": the prefix with its last byte that is
 * not 0xff incremented, and what follows dropped (as clientv3.GetPrefixRangeEnd).
 */
export function prefixRangeEnd(prefix: string): Buffer {
  const bytes = Buffer.from(prefix, 'utf8')
  for (let i = bytes.length - 1; i >= 0; i--) {
    const byte = bytes[i] ?? 0xff
    if (byte < 0xff) {
      const end = bytes.subarray(0, i + 1)
      end[i] = byte + 1
      return end
    }
  }
  // All 0xff (never for our prefixes): "to the end of the keyspace".
  return Buffer.from([0])
}
