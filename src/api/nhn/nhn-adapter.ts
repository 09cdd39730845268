import { createHash, timingSafeEqual } from 'node:crypto'
import { ID_PATTERN } from '../../config/rules.js'
import { ControlError } from '../../control/control-error.js'
import type { ControlPlane } from '../../control/control-plane.js'
import type { FlowLogResource } from '../../control/resources.js'
import type { ApiAdapter, ApiRequest, ApiResponse } from '../api-handler.js'
import { badRequest, errorResponse, fromControlError, jsonResponse, NhnError } from './nhn-error.js'
import {
  applyFilters,
  CREATE_KEYS,
  draftOfCreate,
  inNhnTerms,
  LOGGER_FILTERS,
  loggerBody,
  loggerOf,
  type NhnLogger,
  patchOfUpdate,
  UPDATE_KEYS,
} from './nhn-logger.js'

/**
 * NHN Cloud's Flow Log API v2 (reference 7.4) over the control plane: flowlog-loggers (list,
 * create, show, update, delete) and the read-only flowlog-logging-ports. Every call needs the
 * `X-Auth-Token` the server was given. A logger is a flow log: the EC2 API sees the same ones.
 */
export interface NhnAdapterOptions {
  control: ControlPlane
  /** The token every call must carry in X-Auth-Token. */
  token: string
}

export const NHN_PREFIX = '/v2.0/'
const LOGGERS = '/v2.0/flowlog-loggers'
const PORTS = '/v2.0/flowlog-logging-ports'

/** One logging port: a logger and one interface it covers now. */
export interface NhnLoggingPort {
  id: string
  logger_id: string
  port_id: string
  network_id: string
  subnet_id: string
  tenant_id: string
  project_id: string
  status: NhnLogger['status']
}

export const PORT_FILTERS: Record<string, keyof NhnLoggingPort> = {
  id: 'id',
  logger_id: 'logger_id',
  port_id: 'port_id',
  network_id: 'network_id',
  subnet_id: 'subnet_id',
  status: 'status',
}

/** The routes, as the OpenAPI document must list them (its test compares the two). */
export const NHN_ROUTES: ReadonlyArray<{ method: string; path: string }> = [
  { method: 'GET', path: LOGGERS },
  { method: 'POST', path: LOGGERS },
  { method: 'GET', path: `${LOGGERS}/{id}` },
  { method: 'PUT', path: `${LOGGERS}/{id}` },
  { method: 'DELETE', path: `${LOGGERS}/{id}` },
  { method: 'GET', path: PORTS },
  { method: 'GET', path: `${PORTS}/{id}` },
]

const LOGGING_PORT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,256}$/
const digest = (text: string) => createHash('sha256').update(text).digest()

export class NhnApiAdapter implements ApiAdapter {
  readonly name = 'nhn'
  readonly #control: ControlPlane
  readonly #token: Buffer

  constructor(options: NhnAdapterOptions) {
    if (options.token === '') throw new Error('the NHN API needs a non-empty token')
    this.#control = options.control
    this.#token = digest(options.token)
  }

  handles(request: Pick<ApiRequest, 'method' | 'path' | 'headers'>): boolean {
    return [LOGGERS, PORTS].some((base) => request.path === base || request.path.startsWith(`${base}/`))
  }

  async handle(request: ApiRequest): Promise<ApiResponse> {
    try {
      this.#authenticate(request)
      return await this.#route(request)
    } catch (error) {
      return errorResponse(error)
    }
  }

  /** Both sides hashed first, so the comparison takes the same time whatever the length. */
  #authenticate(request: ApiRequest): void {
    const given = request.headers['x-auth-token']
    const token = Array.isArray(given) ? given[0] : given
    if (token === undefined || token === '')
      throw new NhnError(401, 'HTTPUnauthorized', 'X-Auth-Token: is required')
    if (!timingSafeEqual(digest(token), this.#token))
      throw new NhnError(401, 'HTTPUnauthorized', 'X-Auth-Token: is not a valid token')
  }

  async #route(request: ApiRequest): Promise<ApiResponse> {
    const [base, id, extra] = splitPath(request.path)
    if (extra !== undefined) throw new NhnError(404, 'HTTPNotFound', `${request.path}: no such resource`)
    const route = NHN_ROUTES.filter((r) => r.path === (id === undefined ? base : `${base}/{id}`))
    if (!route.some((r) => r.method === request.method)) {
      const allow = route.map((r) => r.method).join(', ')
      return errorResponse(
        new NhnError(
          405,
          'HTTPMethodNotAllowed',
          `${request.method} ${request.path}: the methods here are ${allow}`,
        ),
        { allow },
      )
    }
    if (base === LOGGERS) {
      if (id === undefined)
        return request.method === 'GET' ? this.#listLoggers(request) : this.#createLogger(request)
      if (request.method === 'GET') return jsonResponse(200, { flowlog_logger: await this.#logger(id) })
      if (request.method === 'PUT') return this.#updateLogger(id, request)
      return this.#deleteLogger(id)
    }
    const ports = await this.#loggingPorts()
    if (id === undefined)
      return jsonResponse(200, { flowlog_logging_ports: applyFilters(ports, request.query, PORT_FILTERS) })
    const port = ports.find((p) => p.id === id)
    if (port === undefined)
      throw new NhnError(404, 'FlowlogLoggingPortNotFound', `flowlog logging port ${id} does not exist`)
    return jsonResponse(200, { flowlog_logging_port: port })
  }

  async #tenant(): Promise<string> {
    return (await this.#control.topology()).account
  }

  async #loggerOf(resource: FlowLogResource, tenant: string): Promise<NhnLogger> {
    return loggerOf(resource, tenant, await this.#control.deliveryStatus(resource.spec.id))
  }

  async #logger(id: string): Promise<NhnLogger> {
    return this.#loggerOf(await this.#control.getFlowLog(id), await this.#tenant())
  }

  async #listLoggers(request: ApiRequest): Promise<ApiResponse> {
    const tenant = await this.#tenant()
    const loggers = await Promise.all(
      (await this.#control.listFlowLogs()).map((f) => this.#loggerOf(f, tenant)),
    )
    return jsonResponse(200, { flowlog_loggers: applyFilters(loggers, request.query, LOGGER_FILTERS) })
  }

  async #createLogger(request: ApiRequest): Promise<ApiResponse> {
    const body = loggerBody(
      parseJson(request.body),
      CREATE_KEYS,
      `is not a key of a flowlog logger (${CREATE_KEYS.join(', ')})`,
    )
    const { resourceId, draft } = draftOfCreate(body)
    const result = await this.#control
      .createFlowLogs({ resourceIds: [resourceId], draft, clientToken: null, dryRun: false })
      .catch((error: unknown) => {
        throw error instanceof ControlError ? new ControlError(error.code, inNhnTerms(error.message)) : error
      })
    const failed = result.unsuccessful[0]
    if (failed !== undefined) throw fromControlError(new ControlError(failed.code, failed.message))
    const created = result.flowLogs[0]
    if (created === undefined)
      throw new NhnError(500, 'HTTPInternalServerError', 'the logger was not created')
    return jsonResponse(201, { flowlog_logger: await this.#loggerOf(created, await this.#tenant()) })
  }

  async #updateLogger(id: string, request: ApiRequest): Promise<ApiResponse> {
    const body = loggerBody(
      parseJson(request.body),
      UPDATE_KEYS,
      'may not be changed (a logger is immutable but for name, description and admin_state_up)',
    )
    const updated = await this.#control.updateFlowLog(id, patchOfUpdate(body))
    return jsonResponse(200, { flowlog_logger: await this.#loggerOf(updated, await this.#tenant()) })
  }

  async #deleteLogger(id: string): Promise<ApiResponse> {
    const result = await this.#control.deleteFlowLogs([id])
    const failed = result.unsuccessful[0]
    if (failed !== undefined) throw fromControlError(new ControlError(failed.code, failed.message))
    return jsonResponse(204, null)
  }

  /** Every (logger, covered interface) pair; its id joins the two, so it is stable while both exist. */
  async #loggingPorts(): Promise<NhnLoggingPort[]> {
    const topology = await this.#control.topology()
    const vpcOfSubnet = new Map(topology.vpcs.flatMap((v) => v.subnets.map((s) => [s.id, v.id] as const)))
    const ports: NhnLoggingPort[] = []
    for (const flowLog of await this.#control.listFlowLogs()) {
      const logger = await this.#loggerOf(flowLog, topology.account)
      for (const nic of await this.#control.coveredInterfaces(flowLog.spec.id)) {
        ports.push({
          id: `${flowLog.spec.id}.${nic.id}`,
          logger_id: flowLog.spec.id,
          port_id: nic.id,
          network_id: vpcOfSubnet.get(nic.subnet) ?? '',
          subnet_id: nic.subnet,
          tenant_id: topology.account,
          project_id: topology.account,
          status: logger.status,
        })
      }
    }
    return ports
  }
}

/** [collection, id?, anything more?]; the id is percent-decoded and must be an id. */
function splitPath(path: string): [string, string | undefined, string | undefined] {
  const base = path.startsWith(`${LOGGERS}`) ? LOGGERS : PORTS
  const rest = path.slice(base.length).replace(/^\//, '')
  if (rest === '') return [base, undefined, undefined]
  const [raw, ...more] = rest.split('/')
  let id: string
  try {
    id = decodeURIComponent(raw ?? '')
  } catch {
    throw badRequest(`${JSON.stringify(raw)}: is not a percent-encoded id`)
  }
  // A logging port's id joins two ids with "."; both halves are ids, so the whole matches too.
  if (!ID_PATTERN.test(id) && !LOGGING_PORT_ID.test(id))
    throw badRequest(`${JSON.stringify(id)}: is not a valid id (letters, digits, ".", "_" or "-")`)
  return [base, id, more.length > 0 && more.join('/') !== '' ? more.join('/') : undefined]
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown
  } catch {
    throw badRequest('the body is not JSON')
  }
}
