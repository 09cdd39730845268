import { formatAddress, formatMac, parseAddress, parseCidr, parseMac } from '../core/address.js'
import type { Protocol } from '../core/network.js'

/**
 * The value rules of the config, as plain functions: each returns the normalised value, or a
 * string with the rule the value broke (worded to follow the value: `"99999" is not a port range`).
 * The schema and the cross-reference checks both use them.
 */
export type Checked<T> = { ok: true; value: T } | { ok: false; rule: string }

const ok = <T>(value: T): Checked<T> => ({ ok: true, value })
const broken = <T>(rule: string): Checked<T> => ({ ok: false, rule })

/**
 * Ids end up in object keys, file names and text records, so they are a safe alphabet only:
 * no `/`, no whitespace, never `.` or `..` (no path traversal), at most 128 characters.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
export const ID_RULE =
  'is not a valid id (1-128 letters, digits, ".", "_" or "-", starting with a letter or digit)'

export function checkId(text: string): Checked<string> {
  return ID_PATTERN.test(text) ? ok(text) : broken(ID_RULE)
}

/** Canonical CIDR text (`10.0.1.7/24` → `10.0.1.0/24`). A bare address is a host route only if allowed. */
export function checkCidr(text: string, allowBareAddress: boolean): Checked<string> {
  if (!allowBareAddress && !text.includes('/')) return broken('is not a CIDR (address/prefix-length)')
  const cidr = parseCidr(text)
  if (typeof cidr === 'string') {
    // The address part's own message would repeat the value; the prefix's says what is wrong.
    return broken(
      cidr.startsWith('prefix') ? `is not an IPv4 or IPv6 CIDR (${cidr})` : 'is not an IPv4 or IPv6 CIDR',
    )
  }
  return ok(cidr.text)
}

const scratch = new Uint32Array(4)

/** Canonical address text (RFC 5952 for IPv6). */
export function checkAddress(text: string): Checked<string> {
  if (!parseAddress(text, scratch)) return broken('is not an IPv4 or IPv6 address')
  return ok(formatAddress(scratch))
}

/** Lower-case colon form. */
export function checkMac(text: string): Checked<string> {
  const mac = parseMac(text)
  return mac < 0 ? broken('is not a MAC address (six hex pairs like 02:00:0a:00:01:0a)') : ok(formatMac(mac))
}

/** Linux interface names: 1-15 bytes, no `/` or whitespace, not `.` or `..`. */
/**
 * A host name as `--host-name` gives it (by default the machine's host name): a DNS name or a
 * single label, 1-253 characters of letters, digits, `.`, `-` and `_`, labels of at most 63.
 */
export function checkHostName(text: string): Checked<string> {
  const labels = text.split('.')
  return text.length <= 253 &&
    labels.every((l) => /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(l))
    ? ok(text)
    : broken(
        'is not a host name (1-253 characters: letters, digits, "-" and "_" in dot-separated labels of 1-63)',
      )
}

export function checkDevice(text: string): Checked<string> {
  return /^[^\s/]{1,15}$/.test(text) && text !== '.' && text !== '..'
    ? ok(text)
    : broken('is not a network device name (1-15 characters, no "/" or spaces)')
}

const PROTOCOL_NAMES: Record<string, Protocol> = {
  tcp: 'tcp',
  udp: 'udp',
  icmp: 'icmp',
  icmpv6: 'icmpv6',
  all: 'all',
  '-1': 'all',
}
// AWS treats these numbers as the named protocols (IpProtocol "6" is tcp), so one form reaches the engine.
const NUMBER_NAMES: Record<number, Protocol> = { [-1]: 'all', 6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'icmpv6' }

export const PROTOCOL_RULE = 'is not a protocol (tcp, udp, icmp, icmpv6, all, -1 or a number 0-255)'

export function checkProtocol(value: string | number): Checked<Protocol> {
  const text = String(value).trim().toLowerCase()
  const named = PROTOCOL_NAMES[text]
  if (named !== undefined) return ok(named)
  if (!/^\d{1,3}$/.test(text)) return broken(PROTOCOL_RULE)
  const n = Number(text)
  if (n > 255) return broken(PROTOCOL_RULE)
  return ok(NUMBER_NAMES[n] ?? n)
}

export const PORTS_RULE = 'is not a port range 0-65535'

/** "22", "80-443" (or a number), canonical: no leading zeros, a single port for from = to. */
export function checkPorts(value: string | number): Checked<string> {
  const match = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(String(value))
  if (match === null) return broken(PORTS_RULE)
  const from = Number(match[1])
  const to = match[2] === undefined ? from : Number(match[2])
  if (from > 65535 || to > 65535 || from > to) return broken(PORTS_RULE)
  return ok(from === to ? String(from) : `${from}-${to}`)
}

/**
 * A rule's source or destination: a CIDR (a bare address is a host route) or a security-group id.
 * Text that looks like an address (digits and dots, or any `:` or `/`) is taken as a CIDR, so
 * `10.0.0.300` is reported as a bad address rather than as an unknown group.
 */
export function isCidrLike(text: string): boolean {
  return /^[\d.]+$/.test(text) || text.includes(':') || text.includes('/')
}

export function checkPeer(text: string): Checked<string> {
  if (isCidrLike(text)) return checkCidr(text, true)
  return ID_PATTERN.test(text) ? ok(text) : broken('is not a CIDR or a security-group id')
}

/** s3 bucket naming rules (the general-purpose bucket rules of S3). */
function bucketProblem(bucket: string): string | null {
  if (bucket.length < 3 || bucket.length > 63) return 'bucket names are 3-63 characters'
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(bucket)) {
    return 'bucket names are lower-case letters, digits, "." and "-", starting and ending with a letter or digit'
  }
  if (bucket.includes('..')) return 'bucket names have no ".."'
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) return 'bucket names are not IP addresses'
  if (bucket.startsWith('xn--') || bucket.startsWith('sthree-'))
    return 'bucket names do not start with xn-- or sthree-'
  if (bucket.endsWith('-s3alias') || bucket.endsWith('--ol-s3'))
    return 'bucket names do not end with -s3alias or --ol-s3'
  return null
}

/** Each segment of a key prefix or path: no empty, `.` or `..` segments, no control characters. */
function segmentsProblem(segments: readonly string[]): string | null {
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..') return 'has an empty, "." or ".." segment'
    if ([...s].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f' || c === '\\'))
      return 'has a control character or backslash'
  }
  return null
}

export const DESTINATION_RULE = 'is not a destination (file:///absolute/dir or s3://bucket[/prefix])'

/** `file:///abs/dir` or `s3://bucket[/prefix]`, without a trailing slash. */
export function checkDestination(text: string): Checked<string> {
  const trimmed = text.length > 1 && text.endsWith('/') ? text.replace(/\/+$/, '') : text
  if (trimmed.startsWith('file://')) {
    const path = trimmed.slice('file://'.length)
    if (!path.startsWith('/')) return broken(`${DESTINATION_RULE}: file:// needs an absolute path`)
    if (path === '' || path === '/') return ok('file:///')
    const problem = segmentsProblem(path.slice(1).split('/'))
    return problem === null ? ok(`file://${path}`) : broken(`${DESTINATION_RULE}: the path ${problem}`)
  }
  if (trimmed.startsWith('s3://')) {
    const rest = trimmed.slice('s3://'.length)
    const slash = rest.indexOf('/')
    const bucket = slash < 0 ? rest : rest.slice(0, slash)
    const bucketIssue = bucketProblem(bucket)
    if (bucketIssue !== null) return broken(`${DESTINATION_RULE}: ${bucketIssue}`)
    if (slash < 0) return ok(`s3://${bucket}`)
    const problem = segmentsProblem(rest.slice(slash + 1).split('/'))
    return problem === null ? ok(`s3://${rest}`) : broken(`${DESTINATION_RULE}: the prefix ${problem}`)
  }
  return broken(DESTINATION_RULE)
}

export const FILE_NAME_PLACEHOLDERS = [
  'logger_id',
  'year',
  'month',
  'day',
  'hour',
  'minute',
  'second',
] as const

/** We write UTC (NHN writes KST): the default template says so with its `Z`. */
export const DEFAULT_FILE_NAME_TEMPLATE = '#{logger_id}_#{year}-#{month}-#{day}T#{hour}:#{minute}:#{second}Z'

/** NHN's rule: each placeholder exactly once; the rest a safe file-name alphabet. */
export function checkFileNameTemplate(text: string): Checked<string> {
  const rule = `is not a file name template (each of ${FILE_NAME_PLACEHOLDERS.map((p) => `#{${p}}`).join(' ')} exactly once, other characters from A-Z a-z 0-9 . _ - : =)`
  const used = new Map<string, number>()
  const literal = text.replace(/#\{([^}]*)\}/g, (_, name: string) => {
    used.set(name, (used.get(name) ?? 0) + 1)
    return ''
  })
  if (!/^[A-Za-z0-9._:=-]*$/.test(literal)) return broken(rule)
  for (const name of used.keys())
    if (!(FILE_NAME_PLACEHOLDERS as readonly string[]).includes(name)) return broken(rule)
  for (const name of FILE_NAME_PLACEHOLDERS) if (used.get(name) !== 1) return broken(rule)
  return ok(text)
}
