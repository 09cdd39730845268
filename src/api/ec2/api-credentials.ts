import { readFileSync } from 'node:fs'
import { InputError } from '../../core/errors.js'

/**
 * The key pairs that may call the EC2 API (`flowlog run --api-credentials FILE`): a file in the
 * AWS shared-credentials format, where every profile's `aws_access_key_id` and
 * `aws_secret_access_key` is one caller. Other keys of a profile (region, output, ...) are
 * ignored. Secrets stay inside this object: nothing here logs or prints them.
 */
export interface ApiKeyPair {
  accessKeyId: string
  secretAccessKey: string
  /** The profile the pair came from, for logs (never the secret). */
  profile: string
}

export class ApiCredentials {
  private readonly byAccessKey: ReadonlyMap<string, ApiKeyPair>

  constructor(pairs: readonly ApiKeyPair[]) {
    this.byAccessKey = new Map(pairs.map((p) => [p.accessKeyId, p]))
  }

  /** The pair of this access key id, or undefined when no profile has it. */
  lookup(accessKeyId: string): ApiKeyPair | undefined {
    return this.byAccessKey.get(accessKeyId)
  }

  get size(): number {
    return this.byAccessKey.size
  }
}

// AWS access key ids are upper-case letters and digits; any word characters are accepted here.
const ACCESS_KEY_PATTERN = /^\w{1,128}$/

/** Parses the file's text; `source` names it in messages. */
export function parseApiCredentials(text: string, source: string): ApiCredentials {
  const problems: string[] = []
  const profiles = new Map<string, { line: number; values: Map<string, string> }>()
  let current: Map<string, string> | null = null
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim()
    const where = `${source}:${i + 1}`
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const section = /^\[\s*(?:profile\s+)?([^\]\s]+)\s*\]$/.exec(line)
    if (section !== null) {
      const name = section[1] as string
      if (profiles.has(name)) problems.push(`${where}: profile [${name}] appears twice`)
      current = new Map()
      profiles.set(name, { line: i + 1, values: current })
      continue
    }
    const pair = /^([A-Za-z0-9_.-]+)\s*=\s*(.*)$/.exec(line)
    if (pair === null) {
      // The line may hold a secret: name its place, not its text.
      problems.push(`${where}: is neither [profile] nor key = value`)
      continue
    }
    if (current === null) {
      problems.push(`${where}: ${pair[1]} comes before any [profile]`)
      continue
    }
    current.set((pair[1] as string).toLowerCase(), (pair[2] as string).trim())
  }
  const pairs: ApiKeyPair[] = []
  const owner = new Map<string, string>()
  for (const [profile, { line, values }] of profiles) {
    const accessKeyId = values.get('aws_access_key_id')
    const secretAccessKey = values.get('aws_secret_access_key')
    const where = `${source}:${line} [${profile}]`
    if (accessKeyId === undefined && secretAccessKey === undefined) continue
    if (accessKeyId === undefined || accessKeyId === '') {
      problems.push(`${where}: aws_access_key_id is missing`)
      continue
    }
    if (secretAccessKey === undefined || secretAccessKey === '') {
      problems.push(`${where}: aws_secret_access_key is missing`)
      continue
    }
    if (!ACCESS_KEY_PATTERN.test(accessKeyId)) {
      problems.push(
        `${where}: aws_access_key_id "${accessKeyId}" is not an access key id (1-128 letters or digits)`,
      )
      continue
    }
    const first = owner.get(accessKeyId)
    if (first !== undefined) {
      problems.push(`${where}: aws_access_key_id "${accessKeyId}" is already the key of [${first}]`)
      continue
    }
    owner.set(accessKeyId, profile)
    pairs.push({ accessKeyId, secretAccessKey, profile })
  }
  if (problems.length === 0 && pairs.length === 0)
    problems.push(`${source}: holds no profile with aws_access_key_id and aws_secret_access_key`)
  if (problems.length > 0) throw new InputError(`bad API credentials file ${source}`, problems)
  return new ApiCredentials(pairs)
}

/** Reads `--api-credentials FILE`. InputError (exit 1) when it cannot be read or holds no key pair. */
export function loadApiCredentials(path: string): ApiCredentials {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error)
    throw new InputError(`--api-credentials ${path}: cannot be read (${reason})`)
  }
  return parseApiCredentials(text, path)
}
