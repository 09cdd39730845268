import type { FlowLogDraft, FlowLogPatch } from '../../control/control-plane.js'
import type { DeliveryStatus, FlowLogResource, FlowLogResourceType } from '../../control/resources.js'
import type { TrafficType } from '../../core/network.js'
import { badRequest } from './nhn-error.js'

/**
 * NHN Cloud's flowlog logger (Flow Log API v2, reference 7.4) and flowlog's one flow-log model,
 * both ways: a create body becomes a FlowLogDraft with NHN's defaults; a flow log (made here, by
 * the EC2 API or from the config) becomes a logger. A logger's files are NHN's: nhn-csv or
 * parquet, the nhn key layout, day or hour partitions.
 */
export interface NhnLogger {
  id: string
  name: string
  description: string
  tenant_id: string
  project_id: string
  resource_type: 'VPC' | 'SUBNET' | 'PORT'
  resource_id: string
  filter: 'ALL' | 'ACCEPT' | 'DROP'
  /** Minutes. */
  aggregation_interval: number
  connection_setup_only: boolean
  storage_type: 'OBS'
  storage_url: string
  log_format: string
  compression_type: 'RAW' | 'GZIP'
  customized_field: string
  partition_period: 'HOUR' | 'DAY'
  customized_file_name: string | null
  admin_state_up: boolean
  status: 'ACTIVE' | 'INACTIVE' | 'ERROR'
  error_type: string | null
  created_at: string
  updated_at: string
}

const RESOURCE_TYPES: Record<string, FlowLogResourceType> = {
  VPC: 'VPC',
  SUBNET: 'Subnet',
  PORT: 'NetworkInterface',
}
const FILTERS: Record<string, TrafficType> = { ALL: 'ALL', ACCEPT: 'ACCEPT', DROP: 'REJECT' }
const LOG_FORMATS: Record<string, 'nhn-csv' | 'parquet'> = { CSV: 'nhn-csv', PARQUET: 'parquet' }
const COMPRESSIONS: Record<string, 'none' | 'gzip'> = { RAW: 'none', GZIP: 'gzip' }

/** Every key a create body may carry, with NHN's defaults where it has one. */
export const CREATE_KEYS = [
  'name',
  'description',
  'resource_type',
  'resource_id',
  'filter',
  'aggregation_interval',
  'connection_setup_only',
  'storage_type',
  'storage_url',
  'log_format',
  'compression_type',
  'customized_field',
  'partition_period',
  'customized_file_name',
  'admin_state_up',
] as const

export const UPDATE_KEYS = ['name', 'description', 'admin_state_up'] as const

type Body = Record<string, unknown>

const where = (key: string) => `flowlog_logger.${key}`

function oneOf<T>(body: Body, key: string, table: Record<string, T>, fallback: string): T {
  const value = body[key] ?? fallback
  const mapped = typeof value === 'string' ? table[value] : undefined
  if (mapped === undefined)
    throw badRequest(`${where(key)}: ${JSON.stringify(value)} is not one of ${Object.keys(table).join(', ')}`)
  return mapped
}

function text(body: Body, key: string, required: boolean): string | null {
  const value = body[key]
  if (value === undefined || value === null) {
    if (required) throw badRequest(`${where(key)}: is required`)
    return null
  }
  if (typeof value !== 'string' || value.length > 255)
    throw badRequest(`${where(key)}: ${JSON.stringify(value)} is not text of at most 255 characters`)
  return value
}

function flag(body: Body, key: string, fallback: boolean): boolean {
  const value = body[key] ?? fallback
  if (typeof value !== 'boolean')
    throw badRequest(`${where(key)}: ${JSON.stringify(value)} is not true or false`)
  return value
}

/** The object under `flowlog_logger`, with no key but `allowed`. */
export function loggerBody(body: unknown, allowed: readonly string[], rule: string): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('the body is not a JSON object {"flowlog_logger": {...}}')
  const outer = Object.keys(body)
  const unexpected = outer.find((k) => k !== 'flowlog_logger')
  if (unexpected !== undefined)
    throw badRequest(`${JSON.stringify(unexpected)}: the body takes only "flowlog_logger"`)
  const inner = (body as Body).flowlog_logger
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner))
    throw badRequest('flowlog_logger: is required, a JSON object')
  for (const key of Object.keys(inner)) {
    if (!allowed.includes(key)) throw badRequest(`${where(key)}: ${rule}`)
  }
  return inner as Body
}

/**
 * NHN's storage URL as a flowlog destination. `s3://bucket/prefix` and `file:///dir` are taken
 * as they are; NHN's Object Storage URL `https://{endpoint}/v1/AUTH_{tenant}/{container}/{path}`
 * becomes `s3://{container}/{path}`, written through the S3-compatible API of whatever store
 * flowlog's S3 client is configured for (NHN Object Storage offers one).
 */
export function destinationOfStorageUrl(url: string): string {
  if (!/^https?:\/\//.test(url)) return url
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw badRequest(`${where('storage_url')}: ${JSON.stringify(url)} is not a URL`)
  }
  const segments = parsed.pathname.split('/').filter((s) => s !== '')
  const tenant = segments.findIndex((s) => s.startsWith('AUTH_'))
  const container = tenant >= 0 ? segments[tenant + 1] : undefined
  if (container === undefined)
    throw badRequest(
      `${where('storage_url')}: ${JSON.stringify(url)} is not s3://bucket[/prefix], file:///dir or an Object Storage URL https://{endpoint}/v1/AUTH_{tenant}/{container}[/{path}]`,
    )
  const path = segments.slice(tenant + 2).map((s) => decodeURIComponent(s))
  return ['s3:/', container, ...path].join('/')
}

function intervalSeconds(body: Body): number {
  const minutes = body.aggregation_interval ?? 10
  if (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < 1 || minutes > 15)
    throw badRequest(
      `${where('aggregation_interval')}: ${JSON.stringify(minutes)} is not a whole number of minutes from 1 to 15`,
    )
  return minutes * 60
}

function fieldList(body: Body): string[] | null {
  const value = body.customized_field
  if (value === undefined || value === null) return null
  if (typeof value !== 'string')
    throw badRequest(`${where('customized_field')}: ${JSON.stringify(value)} is not a comma-separated list`)
  return value.split(',').map((f) => f.trim())
}

/** A create body (already through loggerBody) as the draft the control plane takes. */
export function draftOfCreate(body: Body): { resourceId: string; draft: FlowLogDraft } {
  const name = text(body, 'name', true)
  const resourceId = text(body, 'resource_id', true) ?? ''
  if (flag(body, 'connection_setup_only', false))
    throw badRequest(
      `${where('connection_setup_only')}: true is not supported (flowlog records every packet of a flow)`,
    )
  const storageType = body.storage_type ?? 'OBS'
  if (storageType !== 'OBS')
    throw badRequest(`${where('storage_type')}: ${JSON.stringify(storageType)} is not OBS`)
  const storageUrl = text(body, 'storage_url', true) ?? ''
  const fileFormat = oneOf(body, 'log_format', LOG_FORMATS, 'CSV')
  const fields = fieldList(body)
  const period = body.partition_period ?? 'DAY'
  if (period !== 'DAY' && period !== 'HOUR')
    throw badRequest(
      `${where('partition_period')}: ${JSON.stringify(period)} is not DAY or HOUR (custom partition templates are not supported)`,
    )
  return {
    resourceId,
    draft: {
      resourceType: oneOf(body, 'resource_type', RESOURCE_TYPES, 'PORT'),
      trafficType: oneOf(body, 'filter', FILTERS, 'ALL'),
      aggregationInterval: intervalSeconds(body),
      // Parquet flow logs take AWS's ${field} list; CSV loggers NHN's field names.
      logFormat: fileFormat === 'parquet' && fields !== null ? fields.map((f) => `\${${f}}`).join(' ') : null,
      fields: fileFormat === 'nhn-csv' ? fields : null,
      fileFormat,
      destination: destinationOfStorageUrl(storageUrl),
      layout: 'nhn',
      perHourPartition: period === 'HOUR',
      compression: oneOf(body, 'compression_type', COMPRESSIONS, 'RAW'),
      fileNameTemplate: text(body, 'customized_file_name', false),
      name,
      description: text(body, 'description', false),
      enabled: flag(body, 'admin_state_up', true),
      tags: {},
    },
  }
}

export function patchOfUpdate(body: Body): FlowLogPatch {
  const patch: FlowLogPatch = {}
  if ('name' in body) {
    const name = text(body, 'name', true)
    if (name !== null) patch.name = name
  }
  if ('description' in body) patch.description = text(body, 'description', false)
  if ('admin_state_up' in body) patch.enabled = flag(body, 'admin_state_up', true)
  return patch
}

const NHN_RESOURCE_TYPES: Record<FlowLogResourceType, NhnLogger['resource_type']> = {
  VPC: 'VPC',
  Subnet: 'SUBNET',
  NetworkInterface: 'PORT',
}

/** NHN's times: UTC, whole seconds. */
export const nhnTime = (iso: string) => `${iso.slice(0, 19)}Z`

export function loggerOf(resource: FlowLogResource, tenant: string, delivery: DeliveryStatus): NhnLogger {
  const spec = resource.spec
  const failing = delivery.status === 'FAILED'
  return {
    id: spec.id,
    name: resource.name ?? resource.tags.Name ?? '',
    description: resource.description ?? '',
    tenant_id: tenant,
    project_id: tenant,
    resource_type: NHN_RESOURCE_TYPES[resource.resourceType],
    resource_id: spec.resource,
    filter: spec.trafficType === 'REJECT' ? 'DROP' : spec.trafficType,
    aggregation_interval: Math.max(1, Math.round(spec.aggregationInterval / 60)),
    connection_setup_only: false,
    storage_type: 'OBS',
    storage_url: spec.destination,
    // flowlog's other formats (text, jsonl) keep their own names, upper-case as NHN's.
    log_format: spec.fileFormat === 'nhn-csv' ? 'CSV' : spec.fileFormat.toUpperCase(),
    compression_type: spec.compression === 'gzip' ? 'GZIP' : 'RAW',
    customized_field: spec.fields.join(','),
    partition_period: spec.perHourPartition ? 'HOUR' : 'DAY',
    customized_file_name: spec.layout === 'nhn' ? spec.fileNameTemplate : null,
    admin_state_up: resource.enabled,
    status: !resource.enabled ? 'INACTIVE' : failing ? 'ERROR' : 'ACTIVE',
    error_type: resource.enabled && failing ? 'OBSServiceNotAvailableError' : null,
    created_at: nhnTime(resource.createdAt),
    updated_at: nhnTime(resource.updatedAt),
  }
}

/** The draft's parameter names (in the control plane's messages) as a create body names them. */
const NHN_NAMES: Array<[RegExp, string]> = [
  [/^resourceIds\[\d+\]/, 'resource_id'],
  [/^fields(\[\d+\])?/, 'customized_field$1'],
  [/^logFormat/, 'customized_field'],
  [/^destination/, 'storage_url'],
  [/^fileNameTemplate/, 'customized_file_name'],
  [/^(name|description)/, '$1'],
]

/** A control-plane message about a create, its problems ("; "-separated) named as NHN names them. */
export function inNhnTerms(message: string): string {
  return message
    .split('; ')
    .map((problem) => {
      for (const [pattern, name] of NHN_NAMES)
        if (pattern.test(problem)) return `flowlog_logger.${problem.replace(pattern, name)}`
      return problem
    })
    .join('; ')
}

/** List filters of flowlog-loggers (NHN's names; `partitioned_period` is the reference's spelling). */
export const LOGGER_FILTERS: Record<string, keyof NhnLogger> = {
  id: 'id',
  name: 'name',
  resource_type: 'resource_type',
  resource_id: 'resource_id',
  filter: 'filter',
  aggregation_interval: 'aggregation_interval',
  storage_type: 'storage_type',
  log_format: 'log_format',
  compression_type: 'compression_type',
  partition_period: 'partition_period',
  partitioned_period: 'partition_period',
  customized_file_name: 'customized_file_name',
  status: 'status',
  admin_state_up: 'admin_state_up',
  tenant_id: 'tenant_id',
  project_id: 'project_id',
}

/**
 * Keeps the items every filter matches; a filter given several times matches any of its values
 * (Neutron's rule). An unknown filter name is bad input, not silently ignored.
 */
export function applyFilters<T extends object>(
  items: readonly T[],
  query: URLSearchParams,
  filters: Record<string, keyof T>,
): T[] {
  const wanted = new Map<keyof T, string[]>()
  for (const [name, value] of query) {
    const key = filters[name]
    if (key === undefined)
      throw badRequest(
        `query parameter ${JSON.stringify(name)} is not a filter (${Object.keys(filters).join(', ')})`,
      )
    wanted.set(key, [...(wanted.get(key) ?? []), value])
  }
  return items.filter((item) =>
    [...wanted].every(([key, values]) => values.includes(String(item[key] ?? ''))),
  )
}
