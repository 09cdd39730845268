import { readFileSync } from 'node:fs'
import { parseDocument } from 'yaml'
import * as z from 'zod'
import { formatIssue, ruleOfIssue, strictObject } from '../../config/problems.js'
import { checkCidr } from '../../config/rules.js'
import { InputError } from '../../core/errors.js'

/**
 * The thresholds of every detection, with the defaults documented in docs/analysis-reports.md.
 * Set them in a YAML file (`--thresholds FILE`, same keys) and/or one at a time
 * (`--set portScan.minPorts=20`); the flags win. Unknown keys are errors, as in the config.
 */
export interface Thresholds {
  /** Sources never reported (a vulnerability scanner, a bastion, monitoring): CIDRs. */
  ignoreSources: string[]
  /** Sample records shown per finding. */
  samples: number
  portScan: { windowSeconds: number; minPorts: number; minRejectedShare: number }
  bruteForce: {
    windowSeconds: number
    minAttempts: number
    maxAttemptPackets: number
    sshPorts: number[]
    rdpPorts: number[]
  }
  sweep: { windowSeconds: number; minHosts: number; minRejectedShare: number }
  rejectBurst: { bucketSeconds: number; minPackets: number; spikeFactor: number }
  egressVolume: { bucketSeconds: number; minBytes: number; spikeFactor: number; minBaselineBuckets: number }
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  ignoreSources: [],
  samples: 5,
  // Panther's AWS.VPC.PortScanning: 10 distinct ports in 60 minutes.
  portScan: { windowSeconds: 3600, minPorts: 10, minRejectedShare: 0.5 },
  // 20 short or rejected connections in 10 minutes: 2 a minute, which is tooling, not a person.
  bruteForce: {
    windowSeconds: 600,
    minAttempts: 20,
    maxAttemptPackets: 40,
    sshPorts: [22],
    rdpPorts: [3389],
  },
  sweep: { windowSeconds: 3600, minHosts: 10, minRejectedShare: 0.5 },
  rejectBurst: { bucketSeconds: 60, minPackets: 100, spikeFactor: 10 },
  // 1 GiB in an hour to addresses outside the network, and 10 times the host's usual hour.
  egressVolume: { bucketSeconds: 3600, minBytes: 1_073_741_824, spikeFactor: 10, minBaselineBuckets: 3 },
}

const whole = (min: number) => z.number().int().min(min)
const share = z.number().min(0).max(1)
const port = z.number().int().min(0).max(65535)
const cidr = z.string().transform((text, ctx): string => {
  const result = checkCidr(text, true)
  if (result.ok) return result.value
  ctx.issues.push({ code: 'custom', message: result.rule, input: text })
  return z.NEVER
})

const d = DEFAULT_THRESHOLDS
const schema = strictObject({
  ignoreSources: z.array(cidr).default(d.ignoreSources),
  samples: whole(0).default(d.samples),
  portScan: strictObject({
    windowSeconds: whole(1).default(d.portScan.windowSeconds),
    minPorts: whole(2).default(d.portScan.minPorts),
    minRejectedShare: share.default(d.portScan.minRejectedShare),
  }).default(d.portScan),
  bruteForce: strictObject({
    windowSeconds: whole(1).default(d.bruteForce.windowSeconds),
    minAttempts: whole(2).default(d.bruteForce.minAttempts),
    maxAttemptPackets: whole(1).default(d.bruteForce.maxAttemptPackets),
    sshPorts: z.array(port).default(d.bruteForce.sshPorts),
    rdpPorts: z.array(port).default(d.bruteForce.rdpPorts),
  }).default(d.bruteForce),
  sweep: strictObject({
    windowSeconds: whole(1).default(d.sweep.windowSeconds),
    minHosts: whole(2).default(d.sweep.minHosts),
    minRejectedShare: share.default(d.sweep.minRejectedShare),
  }).default(d.sweep),
  rejectBurst: strictObject({
    bucketSeconds: whole(1).default(d.rejectBurst.bucketSeconds),
    minPackets: whole(1).default(d.rejectBurst.minPackets),
    spikeFactor: z.number().min(1).default(d.rejectBurst.spikeFactor),
  }).default(d.rejectBurst),
  egressVolume: strictObject({
    bucketSeconds: whole(1).default(d.egressVolume.bucketSeconds),
    minBytes: whole(1).default(d.egressVolume.minBytes),
    spikeFactor: z.number().min(1).default(d.egressVolume.spikeFactor),
    minBaselineBuckets: whole(1).default(d.egressVolume.minBaselineBuckets),
  }).default(d.egressVolume),
})

function validate(raw: unknown, source: string): Thresholds {
  const result = schema.safeParse(raw ?? {}, { reportInput: true, error: ruleOfIssue })
  if (result.success) return result.data
  const problems = result.error.issues.flatMap(formatIssue)
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`
  throw new InputError(
    `${source}: thresholds are not valid (${count}):\n  ${problems.join('\n  ')}`,
    problems,
  )
}

const LIST_KEYS = new Set(['ignoreSources', 'sshPorts', 'rdpPorts'])

/** `portScan.minPorts=20` → { portScan: { minPorts: 20 } }; lists are comma-separated. */
function applySetting(target: Record<string, unknown>, setting: string): void {
  const eq = setting.indexOf('=')
  if (eq <= 0) throw new InputError(`--set: "${setting}" is not key=value (e.g. portScan.minPorts=20)`)
  const path = setting.slice(0, eq).trim().split('.')
  const text = setting.slice(eq + 1).trim()
  const parse = (t: string): unknown => (t !== '' && Number.isFinite(Number(t)) ? Number(t) : t)
  const last = path[path.length - 1] ?? ''
  const list = LIST_KEYS.has(last)
  let node = target
  for (const key of path.slice(0, -1)) {
    const next = node[key]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {}
    node = node[key] as Record<string, unknown>
  }
  node[last] = list
    ? text
        .split(',')
        .filter((t) => t !== '')
        .map(parse)
    : parse(text)
}

/** Thresholds from an optional YAML/JSON file and `--set` overrides, on top of the defaults. */
export function loadThresholds(file: string | undefined, settings: readonly string[] = []): Thresholds {
  let raw: Record<string, unknown> = {}
  let source = '--set'
  if (file !== undefined) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error)
      throw new InputError(`--thresholds: cannot read ${file}: ${reason}`)
    }
    const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true })
    if (document.errors.length > 0) {
      const problems = document.errors.map((e) => {
        const at = e.linePos?.[0]
        const message = e.message.split('\n')[0] ?? e.message
        return at === undefined ? `${file}: ${message}` : `${file}:${at.line}:${at.col}: ${message}`
      })
      throw new InputError(`${file} is not valid YAML:\n  ${problems.join('\n  ')}`, problems)
    }
    const parsed: unknown = document.toJS()
    if (parsed !== null && parsed !== undefined && (typeof parsed !== 'object' || Array.isArray(parsed))) {
      throw new InputError(
        `${file}: thresholds must be a mapping (key: value), not ${JSON.stringify(parsed)}`,
      )
    }
    raw = (parsed ?? {}) as Record<string, unknown>
    source = settings.length > 0 ? `${file} with --set` : file
  }
  for (const setting of settings) applySetting(raw, setting)
  return validate(raw, source)
}
