import { isAbsolute, normalize } from 'node:path'
import type { Checked } from './rules.js'

/**
 * Value rules of the delivery keys (`spoolDir`, `deliveryTimeout`, `s3`), worded like the others:
 * each follows the value in `path: value rule`.
 */

const ok = <T>(value: T): Checked<T> => ({ ok: true, value })
const broken = <T>(rule: string): Checked<T> => ({ ok: false, rule })

/** An absolute local directory, normalised, without a trailing slash. */
export function checkSpoolDir(text: string): Checked<string> {
  if (!isAbsolute(text)) return broken('is not an absolute directory path')
  if ([...text].some((c) => c.charCodeAt(0) < 0x20)) return broken('has a control character')
  const path = normalize(text)
  return ok(path.length > 1 ? path.replace(/\/+$/, '') : path)
}

/**
 * An http(s) endpoint of an S3-compatible store, without credentials (they come from the AWS
 * chain, never from a config file that is copied around and logged), query or fragment.
 */
export function checkEndpoint(text: string): Checked<string> {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return broken('is not an endpoint URL (http://host:port or https://host)')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return broken('is not an endpoint URL (http://host:port or https://host)')
  }
  if (url.username !== '' || url.password !== '') {
    return broken('carries credentials: give them through the AWS chain (environment, ~/.aws, roles)')
  }
  if (url.search !== '' || url.hash !== '') return broken('has a query or fragment (an endpoint has neither)')
  return ok(url.href.replace(/\/$/, ''))
}

/** AWS region names (us-east-1) and the free-form names other stores accept (garage, kr1). */
export function checkS3Region(text: string): Checked<string> {
  return /^[a-z0-9][a-z0-9-]{0,62}$/.test(text)
    ? ok(text)
    : broken('is not a region name (lower-case letters, digits and "-", like us-east-1)')
}
