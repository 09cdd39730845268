import { resolveFields } from '../config/flow-log-fields.js'
import { problem } from '../config/problems.js'
import { checkDestination, checkFileNameTemplate, DEFAULT_FILE_NAME_TEMPLATE } from '../config/rules.js'
import type { FlowLogSpec } from '../core/network.js'
import { ControlError } from './control-error.js'
import type { FlowLogDraft } from './control-plane.js'
import { tagProblems } from './tags.js'

/**
 * A flow log as an API asks for it, checked by the config file's own rules (the same field
 * catalogue, destinations and file-name templates), so the API and the config accept exactly
 * the same flow logs. Problems name the draft's parameter, the value and the rule.
 */
export type CheckedDraft = Omit<FlowLogSpec, 'id' | 'resource'>

const RESOURCE_TYPES = ['VPC', 'Subnet', 'NetworkInterface']
const TRAFFIC_TYPES = ['ALL', 'ACCEPT', 'REJECT']
const FILE_FORMATS = ['text', 'nhn-csv', 'jsonl', 'parquet']
const LAYOUTS = ['aws', 'aws-hive', 'nhn']
const COMPRESSIONS = ['gzip', 'none']

const oneOf = (list: readonly string[]) => `is not one of ${list.join(', ')}`

export function checkDraft(draft: FlowLogDraft): CheckedDraft {
  const problems: string[] = []
  const need = (ok: boolean, key: string, value: unknown, rule: string) => {
    if (!ok) problems.push(problem([key], value, rule))
  }
  need(RESOURCE_TYPES.includes(draft.resourceType), 'resourceType', draft.resourceType, oneOf(RESOURCE_TYPES))
  need(TRAFFIC_TYPES.includes(draft.trafficType), 'trafficType', draft.trafficType, oneOf(TRAFFIC_TYPES))
  need(
    Number.isInteger(draft.aggregationInterval) &&
      draft.aggregationInterval >= 1 &&
      draft.aggregationInterval <= 900,
    'aggregationInterval',
    draft.aggregationInterval,
    'is not a whole number of seconds from 1 to 900',
  )
  const formatOk = FILE_FORMATS.includes(draft.fileFormat)
  need(formatOk, 'fileFormat', draft.fileFormat, oneOf(FILE_FORMATS))
  need(LAYOUTS.includes(draft.layout), 'layout', draft.layout, oneOf(LAYOUTS))
  need(COMPRESSIONS.includes(draft.compression), 'compression', draft.compression, oneOf(COMPRESSIONS))
  need(
    typeof draft.perHourPartition === 'boolean',
    'perHourPartition',
    draft.perHourPartition,
    'is not true or false',
  )
  need(typeof draft.enabled === 'boolean', 'enabled', draft.enabled, 'is not true or false')
  for (const key of ['name', 'description'] as const) {
    const value = draft[key]
    need(
      value === null || (typeof value === 'string' && value.length <= 255),
      key,
      value,
      'is not text of at most 255 characters',
    )
  }
  let fields: string[] = []
  if (formatOk) {
    const resolved = resolveFields(draft.fileFormat, draft.logFormat ?? undefined, draft.fields ?? undefined)
    for (const p of resolved.problems) problems.push(problem(p.path, p.value, p.rule))
    fields = resolved.fields
  }
  const destination = checkDestination(String(draft.destination))
  if (!destination.ok) problems.push(problem(['destination'], draft.destination, destination.rule))
  let fileNameTemplate = DEFAULT_FILE_NAME_TEMPLATE
  if (draft.fileNameTemplate !== null) {
    const template = checkFileNameTemplate(draft.fileNameTemplate)
    if (!template.ok) problems.push(problem(['fileNameTemplate'], draft.fileNameTemplate, template.rule))
    else if (draft.layout !== 'nhn')
      problems.push(
        problem(
          ['fileNameTemplate'],
          draft.fileNameTemplate,
          `applies only to layout nhn (this flow log has layout ${draft.layout})`,
        ),
      )
    else fileNameTemplate = template.value
  }
  problems.push(...tagProblems(draft.tags))
  if (problems.length > 0 || !destination.ok)
    throw new ControlError('InvalidParameterValue', problems.join('; '))
  return {
    trafficType: draft.trafficType,
    aggregationInterval: draft.aggregationInterval,
    fields,
    fileFormat: draft.fileFormat,
    destination: destination.value,
    layout: draft.layout,
    perHourPartition: draft.perHourPartition,
    compression: draft.compression,
    fileNameTemplate,
    // The config's default: the traffic of the cloud's own services is recorded unless excluded.
    platformTraffic: 'include',
  }
}
