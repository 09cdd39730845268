import { timingSafeEqual } from 'node:crypto'
import { Writable } from 'node:stream'
import { audit } from '../../analyze/audit.js'
import { detect } from '../../analyze/detect.js'
import { loadThresholds } from '../../analyze/detections/thresholds.js'
import { parseProposedGroups } from '../../analyze/proposed-groups.js'
import { whatIf } from '../../analyze/what-if.js'
import type { ControlPlane } from '../../control/control-plane.js'
import { FlowlogError, InputError } from '../../core/errors.js'
import type { NetworkConfig } from '../../core/network.js'
import { RowWriter } from '../../query/row-writer.js'
import { sqlString } from '../../read/duckdb-connection.js'
import type { ApiAdapter, ApiRequest, ApiResponse } from '../api-handler.js'
import {
  ANALYSIS_COLUMNS,
  BROWSER_COLUMNS,
  coverage,
  edges,
  flowPage,
  flowRows,
  rows,
  stepFor,
  top,
  trafficSeries,
} from './analysis-queries.js'
import { type AnalysisScope, PLACE_KINDS, type PlaceKind, parseScope, placeSql } from './analysis-scope.js'
import { blockChanges } from './block-change.js'
import type { FlowsCache } from './flows-cache.js'

/** The read-only analysis routes, NHN-style (DESIGN 10); documented in analysis-openapi.ts. */
export const ANALYSIS_PREFIX = '/v2.0/flowlog-analysis/'

export interface AnalysisOptions {
  flows: FlowsCache
  /** The network (config file or control-plane topology): places, rules for audit, what-if and blocks. */
  network: () => Promise<NetworkConfig | null>
  /**
   * When set, every request needs this X-Auth-Token (the API's token): flow records say who talks
   * to whom, which is not for every local user. Null for `flowlog console` over files without one.
   */
  token: string | null
  /** The control plane, when the server has one: `delivery` answers from it. */
  control?: Pick<ControlPlane, 'listFlowLogs' | 'deliveryStatus'> | null
}

const CSV_LIMIT = 1_000_000

/**
 * Read-only answers over the flow-log records for the console: every answer is JSON (but the CSV
 * export) and carries `coverage`, the range and the number of records it stands on. Bad parameters
 * are 400 with `{ error: { code, message } }`, NHN's error envelope.
 */
export function analysisAdapter(options: AnalysisOptions): ApiAdapter {
  return {
    name: 'analysis',
    handles: (request) => request.path.startsWith(ANALYSIS_PREFIX),
    handle: async (request) => {
      if (options.token !== null && !tokenMatches(request, options.token)) {
        return json(401, { error: { code: 'Unauthorized', message: 'X-Auth-Token is missing or wrong' } })
      }
      const route = request.path.slice(ANALYSIS_PREFIX.length)
      const allowed = route === 'what-if' ? 'POST' : 'GET'
      if (request.method !== allowed && !(allowed === 'GET' && request.method === 'HEAD')) {
        return json(405, { error: { code: 'MethodNotAllowed', message: `${route} answers ${allowed}` } })
      }
      try {
        return await answer(route, request, options)
      } catch (error) {
        if (error instanceof FlowlogError && error.code === 'ERR_INVALID_INPUT') {
          return json(400, { error: { code: 'InvalidParameterValue', message: error.message } })
        }
        throw error
      }
    },
  }
}

async function answer(route: string, request: ApiRequest, options: AnalysisOptions): Promise<ApiResponse> {
  if (route === 'delivery') return delivery(options)
  const network = await options.network()
  const scope = parseScope(request.query, network)
  const q = request.query
  switch (route) {
    case 'summary':
      return options.flows.use(async (c, stats) => {
        const choices: Record<string, string[]> = {}
        for (const kind of PLACE_KINDS) {
          const column = `${kind === 'interface' ? 'interface' : kind}_id`
          const seen = await rows(
            c,
            `SELECT DISTINCT ${column} AS id FROM flows WHERE ${column} IS NOT NULL ORDER BY 1`,
          )
          choices[kind] = [
            ...new Set([...seen.map((r) => String(r.id)), ...topologyIds(network, kind)]),
          ].sort()
        }
        return json(200, {
          coverage: await coverage(c, scope, stats.files),
          choices,
          // The groups as the network has them now, for what-if to start from (rules, no secrets).
          securityGroups: network?.securityGroups ?? null,
        })
      })
    case 'traffic':
      return options.flows.use(async (c, stats) => {
        const cover = await coverage(c, scope, stats.files)
        const stepText = q.get('step')
        const step =
          stepText === null || stepText === ''
            ? stepFor(scope.since ?? cover.first ?? 0, scope.until ?? cover.last ?? 0)
            : integer(stepText, 'step', 1, 31_536_000)
        const by = q.get('by') ?? ''
        if (by !== '' && !(PLACE_KINDS as readonly string[]).includes(by)) {
          throw new InputError(`by "${by}" is not one of ${PLACE_KINDS.join(', ')}`)
        }
        const split = by === '' ? null : placeSql(by as PlaceKind, network)
        return json(200, {
          coverage: cover,
          step,
          by: by === '' ? null : by,
          series: await trafficSeries(c, scope, step, split),
        })
      })
    case 'top': {
      const by = q.get('by') ?? 'srcaddr'
      const metric = q.get('metric') ?? 'bytes'
      const limit = integer(q.get('limit') ?? '10', 'limit', 1, 1000)
      return options.flows.use(async (c, stats) =>
        json(200, {
          coverage: await coverage(c, scope, stats.files),
          by,
          metric,
          items: await top(c, scope, by, metric, limit),
        }),
      )
    }
    case 'edges': {
      const metric = q.get('metric') ?? 'bytes'
      const limit = integer(q.get('limit') ?? '40', 'limit', 1, 1000)
      return options.flows.use(async (c, stats) =>
        json(200, {
          coverage: await coverage(c, scope, stats.files),
          metric,
          edges: await edges(c, scope, metric, limit),
        }),
      )
    }
    case 'flows': {
      const offset = integer(q.get('offset') ?? '0', 'offset', 0, Number.MAX_SAFE_INTEGER)
      const limit = integer(q.get('limit') ?? '50', 'limit', 1, 1000)
      return options.flows.use(async (c, stats) =>
        json(200, {
          coverage: await coverage(c, scope, stats.files),
          offset,
          limit,
          columns: BROWSER_COLUMNS,
          records: await flowPage(c, scope, offset, limit),
        }),
      )
    }
    case 'flows.csv':
      return options.flows.use(async (c) => csv(await collectCsv(flowRows(c, scope.where))))
    case 'findings':
      return findings(scope, network, options)
    case 'audit': {
      const net = needNetwork(network, 'audit')
      return options.flows.use(async (c, stats) => {
        const result = await audit(flowRows(c, scope.where, ANALYSIS_COLUMNS), net)
        return json(200, { coverage: await coverage(c, scope, stats.files), ...result })
      })
    }
    case 'what-if': {
      const net = needNetwork(network, 'what-if')
      const proposed = parseProposedGroups(request.body.toString('utf8'), 'groups', net)
      return options.flows.use(async (c, stats) => {
        const result = await whatIf(flowRows(c, scope.where, ANALYSIS_COLUMNS), net, proposed.network, {
          ruleChanges: q.get('ruleChanges') === 'true',
        })
        return json(200, {
          coverage: await coverage(c, scope, stats.files),
          proposed: proposed.proposed,
          unattached: proposed.unattached,
          ...result,
        })
      })
    }
    default:
      return json(404, { error: { code: 'NotFound', message: `no analysis route "${route}"` } })
  }
}

async function findings(
  scope: AnalysisScope,
  network: NetworkConfig | null,
  options: AnalysisOptions,
): Promise<ApiResponse> {
  return options.flows.use(async (c, stats) => {
    const result = await detect(flowRows(c, scope.where, ANALYSIS_COLUMNS), {
      thresholds: loadThresholds(undefined, []),
      network,
    })
    const out = []
    for (const finding of result.findings) {
      // The records in which the source was let in: where a block has something to change.
      const accepted = []
      for await (const row of flowRows(
        c,
        `${scope.where} AND action = 'ACCEPT' AND srcaddr = ${sqlString(finding.source)}`,
        ANALYSIS_COLUMNS,
      ))
        accepted.push(row)
      const block =
        finding.detection === 'egress-volume' ? [] : blockChanges(finding.source, accepted, network)
      out.push({ id: `${finding.detection}:${finding.source}`, ...finding, block })
    }
    return json(200, {
      coverage: await coverage(c, scope, stats.files),
      records: result.records,
      findings: out,
    })
  })
}

/** Each flow log's delivery as the daemon sees it: last file, spool backlog, last error. */
async function delivery(options: AnalysisOptions): Promise<ApiResponse> {
  const control = options.control
  if (control === undefined || control === null) {
    return json(404, { error: { code: 'NotFound', message: 'no control plane here: start with --state' } })
  }
  const flowLogs = await control.listFlowLogs()
  const deliveries = await Promise.all(
    flowLogs.map(async (f) => ({ id: f.spec.id, ...(await control.deliveryStatus(f.spec.id)) })),
  )
  return json(200, { deliveries })
}

function needNetwork(network: NetworkConfig | null, what: string): NetworkConfig {
  if (network === null) {
    throw new InputError(
      `${what} needs the network's security groups: start the console with --config or --state`,
    )
  }
  return network
}

function topologyIds(network: NetworkConfig | null, kind: (typeof PLACE_KINDS)[number]): string[] {
  if (network === null) return []
  switch (kind) {
    case 'vpc':
      return network.vpcs.map((v) => v.id)
    case 'subnet':
      return network.vpcs.flatMap((v) => v.subnets.map((s) => s.id))
    case 'instance':
      return network.interfaces.flatMap((n) => (n.instance === null ? [] : [n.instance]))
    case 'interface':
      return network.interfaces.map((n) => n.id)
  }
}

function integer(text: string, name: string, min: number, max: number): number {
  const n = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new InputError(`${name} "${text}" is not a whole number from ${min} to ${max}`)
  }
  return n
}

async function collectCsv(source: AsyncIterable<Record<string, string | number | null>>): Promise<Buffer> {
  const chunks: Buffer[] = []
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk)
      done()
    },
  })
  const fields = BROWSER_COLUMNS.map((c) => c.replaceAll('_', '-'))
  const writer = new RowWriter(out, 'csv', fields)
  let n = 0
  for await (const row of source) {
    writer.row(fields.map((f) => row[f] ?? null))
    if (++n >= CSV_LIMIT) break
    if (n % 10_000 === 0) await writer.flush()
  }
  await writer.end()
  return Buffer.concat(chunks)
}

function tokenMatches(request: ApiRequest, token: string): boolean {
  const given = request.headers['x-auth-token']
  if (typeof given !== 'string') return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

function json(status: number, body: unknown): ApiResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  }
}

function csv(body: Buffer): ApiResponse {
  return {
    status: 200,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="flows.csv"',
      'cache-control': 'no-store',
    },
    body,
  }
}
