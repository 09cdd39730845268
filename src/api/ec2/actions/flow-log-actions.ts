import { randomUUID } from 'node:crypto'
import { resolveFields } from '../../../config/flow-log-fields.js'
import { ControlError } from '../../../control/control-error.js'
import type { FlowLogDraft, Unsuccessful } from '../../../control/control-plane.js'
import type { DeliveryStatus, FlowLogResource, FlowLogResourceType } from '../../../control/resources.js'
import type { TrafficType } from '../../../core/network.js'
import type { Action } from '../action.js'
import { dryRunSucceeded } from '../dry-run.js'
import { compileFilters } from '../filters.js'
import { destinationOf, logDestinationOf } from '../flow-log-destination.js'
import { paginate } from '../paging.js'
import { invalidValue, missingParameter } from '../query-params.js'
import { tagList, tagSpecificationTags } from '../tag-params.js'
import type { OutputStruct } from '../xml-response.js'

/**
 * CreateFlowLogs, DescribeFlowLogs, DeleteFlowLogs onto the control plane. AWS's defaults apply
 * (MaxAggregationInterval 600, plain-text, the version-2 format, gzip, the `aws` key layout);
 * MaxAggregationInterval takes flowlog's 1-900 seconds, beyond AWS's 60 and 600.
 */
const RESOURCE_TYPES: readonly FlowLogResourceType[] = ['VPC', 'Subnet', 'NetworkInterface']

export function unsuccessfulItems(list: readonly Unsuccessful[]): OutputStruct[] {
  return list.map((u) => ({ ResourceId: u.resourceId, Error: { Code: u.code, Message: u.message } }))
}

export const createFlowLogs: Action = async ({ control }, params) => {
  const resourceType = params.requiredString('ResourceType')
  if (!(RESOURCE_TYPES as readonly string[]).includes(resourceType))
    throw invalidValue('ResourceType', resourceType, `flowlog logs ${RESOURCE_TYPES.join(', ')}.`)
  const trafficType = params.string('TrafficType')
  if (trafficType === undefined) throw missingParameter('TrafficType')
  const destination = destinationOf(params.string('LogDestinationType'), params.string('LogDestination'))
  for (const cloudWatchOnly of ['LogGroupName', 'DeliverLogsPermissionArn'])
    if (params.has(cloudWatchOnly))
      throw new ControlError(
        'InvalidParameterCombination',
        `${cloudWatchOnly} applies only to LogDestinationType cloud-watch-logs`,
      )
  if (params.has('DeliverCrossAccountRole'))
    throw invalidValue(
      'DeliverCrossAccountRole',
      params.requiredString('DeliverCrossAccountRole'),
      'Cross-account delivery is not supported by flowlog.',
    )

  const options = params.struct('DestinationOptions')
  const fileFormat = options?.string('FileFormat') === 'parquet' ? 'parquet' : 'text'
  const logFormat = params.string('LogFormat') ?? null
  const { problems } = resolveFields(fileFormat, logFormat ?? undefined, undefined)
  const problem = problems[0]
  if (problem !== undefined)
    throw invalidValue('LogFormat', String(problem.value), `${String(problem.value)} ${problem.rule}.`)
  const interval = params.integer('MaxAggregationInterval') ?? 600
  if (interval < 1 || interval > 900)
    throw invalidValue(
      'MaxAggregationInterval',
      String(interval),
      'It must be 60 or 600 (AWS), or any whole number of seconds 1-900 (flowlog).',
    )
  const draft: FlowLogDraft = {
    resourceType: resourceType as FlowLogResourceType,
    trafficType: trafficType as TrafficType,
    aggregationInterval: interval,
    logFormat,
    fields: null,
    fileFormat,
    destination,
    layout: options?.boolean('HiveCompatiblePartitions') === true ? 'aws-hive' : 'aws',
    perHourPartition: options?.boolean('PerHourPartition') ?? false,
    compression: 'gzip',
    fileNameTemplate: null,
    name: null,
    description: null,
    enabled: true,
    tags: tagSpecificationTags(params, 'vpc-flow-log'),
  }
  const result = await control.createFlowLogs({
    resourceIds: params.strings('ResourceIds'),
    draft,
    // AWS answers with a token even when none was given; with one, a retry is idempotent.
    clientToken: params.string('ClientToken') ?? randomUUID(),
    dryRun: params.boolean('DryRun') ?? false,
  })
  return {
    ClientToken: result.clientToken ?? undefined,
    FlowLogIds: result.flowLogs.map((f) => f.spec.id),
    Unsuccessful: unsuccessfulItems(result.unsuccessful),
  }
}

interface Described {
  flowLog: FlowLogResource
  delivery: DeliveryStatus
}

function flowLogOutput({ flowLog, delivery }: Described): OutputStruct {
  const spec = flowLog.spec
  return {
    CreationTime: new Date(flowLog.createdAt),
    DeliverLogsStatus: delivery.status,
    DeliverLogsErrorMessage: delivery.error ?? undefined,
    FlowLogId: spec.id,
    FlowLogStatus: 'ACTIVE',
    ResourceId: spec.resource,
    TrafficType: spec.trafficType,
    LogDestinationType: 's3',
    LogDestination: logDestinationOf(spec.destination),
    LogFormat: flowLog.logFormat ?? spec.fields.map((f) => `\${${f}}`).join(' '),
    Tags: tagList(flowLog.tags),
    MaxAggregationInterval: spec.aggregationInterval,
    DestinationOptions: {
      FileFormat: spec.fileFormat === 'parquet' ? 'parquet' : 'plain-text',
      HiveCompatiblePartitions: spec.layout === 'aws-hive',
      PerHourPartition: spec.perHourPartition,
    },
  }
}

export const describeFlowLogs: Action = async ({ control }, params) => {
  const ids = params.strings('FlowLogIds')
  const maxResults = params.integer('MaxResults')
  if (maxResults !== undefined && (maxResults < 1 || maxResults > 1000))
    throw invalidValue('MaxResults', String(maxResults), 'It must be 1-1000.')
  const matches = compileFilters<Described>(
    params.structs('Filter'),
    {
      'deliver-log-status': (d) => [d.delivery.status],
      'log-destination-type': () => ['s3'],
      'flow-log-id': (d) => [d.flowLog.spec.id],
      'log-group-name': () => [],
      'resource-id': (d) => [d.flowLog.spec.resource],
      'traffic-type': (d) => [d.flowLog.spec.trafficType],
    },
    (d) => d.flowLog.tags,
  )
  const flowLogs = (await control.listFlowLogs()).filter((f) => ids.length === 0 || ids.includes(f.spec.id))
  const described = await Promise.all(
    flowLogs.map(async (flowLog) => ({ flowLog, delivery: await control.deliveryStatus(flowLog.spec.id) })),
  )
  const page = paginate(
    described.filter(matches),
    (d) => d.flowLog.spec.id,
    maxResults,
    params.string('NextToken'),
  )
  return { FlowLogs: page.items.map(flowLogOutput), NextToken: page.nextToken }
}

export const deleteFlowLogs: Action = async ({ control }, params) => {
  const ids = params.strings('FlowLogIds')
  if (params.boolean('DryRun') === true) {
    for (const id of ids) await control.getFlowLog(id)
    throw dryRunSucceeded()
  }
  const result = await control.deleteFlowLogs(ids)
  return { Unsuccessful: unsuccessfulItems(result.unsuccessful) }
}
