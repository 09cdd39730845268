import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { DEFAULT_NHN_FIELDS } from '../../config/fields.js'
import { openTestControl, type TestControl, testDraft } from '../../control/test-kit.js'
import type { ApiRequest } from '../api-handler.js'
import { NhnApiAdapter } from './nhn-adapter.js'

const TOKEN = 'test-token-0123456789'
const AWS_ID = /^fl-[0-9a-f]{17}$/

interface Answer {
  status: number
  headers: Record<string, string>
  json: Record<string, unknown>
}

function call(
  adapter: NhnApiAdapter,
  method: string,
  pathAndQuery: string,
  body?: unknown,
  token: string | null = TOKEN,
): Promise<Answer> {
  // As the server hands it over: the raw path (no dot-segment resolution), the query parsed.
  const [path = '', query = ''] = pathAndQuery.split('?')
  const request: ApiRequest = {
    method,
    path,
    query: new URLSearchParams(query),
    headers: token === null ? {} : { 'x-auth-token': token },
    body: Buffer.from(body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)),
    remoteAddress: '127.0.0.1',
  }
  assert.ok(adapter.handles(request), `${method} ${path} is the NHN adapter's`)
  return adapter.handle(request).then((r) => {
    const text = r.body.toString()
    return {
      status: r.status,
      headers: r.headers,
      json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    }
  })
}

type Logger = Record<string, unknown>
const logger = (a: Answer) => a.json.flowlog_logger as Logger
const loggers = (a: Answer) => a.json.flowlog_loggers as Logger[]
const neutronError = (a: Answer) => a.json.NeutronError as { type: string; message: string }

const create = (extra: Record<string, unknown> = {}) => ({
  flowlog_logger: {
    name: 'web-logger',
    resource_id: 'eni-web1',
    storage_type: 'OBS',
    storage_url: 's3://nhn-flowlogs/web',
    ...extra,
  },
})

describe('NHN Flow Log API v2 adapter', () => {
  let control: TestControl
  let nhn: NhnApiAdapter
  before(async () => {
    control = await openTestControl()
    nhn = new NhnApiAdapter({ control: control.service, token: TOKEN })
  })
  after(() => control.close())

  test('every call needs the X-Auth-Token; a wrong one changes nothing', async () => {
    for (const token of [null, '', 'test-token-0123456788', 'x']) {
      const answer = await call(nhn, 'POST', '/v2.0/flowlog-loggers', create(), token)
      assert.equal(answer.status, 401)
      assert.equal(neutronError(answer).type, 'HTTPUnauthorized')
    }
    assert.equal((await call(nhn, 'GET', '/v2.0/flowlog-logging-ports', undefined, 'nope')).status, 401)
    assert.equal((await control.service.listFlowLogs()).length, 1)
  })

  test('creates a logger with NHN defaults; it is a flow log the EC2 side lists', async () => {
    const answer = await call(nhn, 'POST', '/v2.0/flowlog-loggers', create())
    assert.equal(answer.status, 201)
    assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8')
    const made = logger(answer)
    assert.match(String(made.id), AWS_ID)
    assert.deepEqual(
      { ...made, id: 'x', created_at: 'x', updated_at: 'x' },
      {
        id: 'x',
        name: 'web-logger',
        description: '',
        tenant_id: '123456789012',
        project_id: '123456789012',
        resource_type: 'PORT',
        resource_id: 'eni-web1',
        filter: 'ALL',
        aggregation_interval: 10,
        connection_setup_only: false,
        storage_type: 'OBS',
        storage_url: 's3://nhn-flowlogs/web',
        log_format: 'CSV',
        compression_type: 'RAW',
        customized_field: DEFAULT_NHN_FIELDS.join(','),
        partition_period: 'DAY',
        customized_file_name: '#{logger_id}_#{year}-#{month}-#{day}T#{hour}:#{minute}:#{second}Z',
        admin_state_up: true,
        status: 'ACTIVE',
        error_type: null,
        created_at: 'x',
        updated_at: 'x',
      },
    )
    assert.match(String(made.created_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    const flowLog = await control.service.getFlowLog(String(made.id))
    assert.deepEqual(
      [
        flowLog.resourceType,
        flowLog.spec.fileFormat,
        flowLog.spec.layout,
        flowLog.spec.aggregationInterval,
        flowLog.spec.compression,
      ],
      ['NetworkInterface', 'nhn-csv', 'nhn', 600, 'none'],
    )
    const network = await control.service.effectiveNetwork()
    assert.ok(network.flowLogs.some((f) => f.id === made.id))
    await call(nhn, 'DELETE', `/v2.0/flowlog-loggers/${made.id}`)
  })

  test('every create parameter maps; NHN Object Storage URLs become s3:// destinations', async () => {
    const answer = await call(
      nhn,
      'POST',
      '/v2.0/flowlog-loggers',
      create({
        name: 'vpc hourly',
        description: 'all of vpc-0b1',
        resource_type: 'VPC',
        resource_id: 'vpc-0b1',
        filter: 'DROP',
        aggregation_interval: 1,
        storage_url: 'https://kr1-api-object-storage.nhncloudservice.com/v1/AUTH_0123abcd/flow-logs/vpc/b1',
        log_format: 'PARQUET',
        compression_type: 'GZIP',
        customized_field: 'interface-id,srcaddr,dstaddr,action',
        partition_period: 'HOUR',
        customized_file_name: 'fl_#{logger_id}_#{year}#{month}#{day}-#{hour}#{minute}#{second}',
        admin_state_up: false,
      }),
    )
    assert.equal(answer.status, 201, JSON.stringify(answer.json))
    const made = logger(answer)
    assert.deepEqual(
      [
        made.resource_type,
        made.filter,
        made.aggregation_interval,
        made.storage_url,
        made.log_format,
        made.compression_type,
      ],
      ['VPC', 'DROP', 1, 's3://flow-logs/vpc/b1', 'PARQUET', 'GZIP'],
    )
    assert.deepEqual(
      [made.customized_field, made.partition_period, made.admin_state_up, made.status],
      ['interface-id,srcaddr,dstaddr,action', 'HOUR', false, 'INACTIVE'],
    )
    const spec = (await control.service.getFlowLog(String(made.id))).spec
    assert.deepEqual(
      [
        spec.trafficType,
        spec.aggregationInterval,
        spec.fileFormat,
        spec.perHourPartition,
        spec.fileNameTemplate,
      ],
      ['REJECT', 60, 'parquet', true, 'fl_#{logger_id}_#{year}#{month}#{day}-#{hour}#{minute}#{second}'],
    )
    // Paused: the daemon does not run it.
    assert.ok(!(await control.service.effectiveNetwork()).flowLogs.some((f) => f.id === made.id))
    await call(nhn, 'DELETE', `/v2.0/flowlog-loggers/${made.id}`)
  })

  test('bad bodies are 400 naming the field, the value and the rule; nothing is created', async () => {
    const cases: Array<[unknown, RegExp]> = [
      ['{not json', /the body is not JSON/],
      [[], /not a JSON object/],
      [{ flowlog_logger: {}, extra: 1 }, /"extra": the body takes only "flowlog_logger"/],
      [create({ id: 'fl-1' }), /flowlog_logger\.id: is not a key of a flowlog logger/],
      [create({ name: undefined }), /flowlog_logger\.name: is required/],
      [
        create({ resource_type: 'NIC' }),
        /flowlog_logger\.resource_type: "NIC" is not one of VPC, SUBNET, PORT/,
      ],
      [create({ filter: 'REJECT' }), /flowlog_logger\.filter: "REJECT" is not one of ALL, ACCEPT, DROP/],
      [
        create({ aggregation_interval: 16 }),
        /aggregation_interval: 16 is not a whole number of minutes from 1 to 15/,
      ],
      [create({ aggregation_interval: '10' }), /aggregation_interval: "10" is not a whole number/],
      [create({ storage_type: 'S3' }), /storage_type: "S3" is not OBS/],
      [create({ storage_url: 'https://example.com/bucket' }), /storage_url: .* is not s3:\/\/bucket/],
      [create({ storage_url: 'ftp://x' }), /flowlog_logger\.storage_url: "ftp:\/\/x" is not a destination/],
      [create({ log_format: 'JSON' }), /log_format: "JSON" is not one of CSV, PARQUET/],
      [create({ compression_type: 'ZIP' }), /compression_type: "ZIP" is not one of RAW, GZIP/],
      [
        create({ customized_field: 'src_addr,srcaddr' }),
        /flowlog_logger\.customized_field\[1\]: "srcaddr" is not a field of fileFormat nhn-csv/,
      ],
      [
        create({ log_format: 'PARQUET', customized_field: 'srcaddr,vm_id' }),
        /flowlog_logger\.customized_field: "vm_id" is not a field of fileFormat parquet/,
      ],
      [
        create({ partition_period: 'year=#{year}' }),
        /partition_period: .* \(custom partition templates are not supported\)/,
      ],
      [
        create({ customized_file_name: 'x' }),
        /flowlog_logger\.customized_file_name: "x" is not a file name template/,
      ],
      [create({ admin_state_up: 'yes' }), /admin_state_up: "yes" is not true or false/],
      [create({ connection_setup_only: true }), /connection_setup_only: true is not supported/],
      [create({ resource_id: '../x' }), /flowlog_logger\.resource_id: "..\/x" is not a valid id/],
    ]
    for (const [body, message] of cases) {
      const answer = await call(nhn, 'POST', '/v2.0/flowlog-loggers', body)
      assert.equal(answer.status, 400, `${JSON.stringify(body)} → ${JSON.stringify(answer.json)}`)
      assert.equal(neutronError(answer).type, 'HTTPBadRequest')
      assert.match(neutronError(answer).message, message)
    }
    assert.equal((await control.service.listFlowLogs()).length, 1)
  })

  test('an unknown resource is 404, the same logger twice 409', async () => {
    const missing = await call(
      nhn,
      'POST',
      '/v2.0/flowlog-loggers',
      create({ resource_type: 'SUBNET', resource_id: 'subnet-404' }),
    )
    assert.equal(missing.status, 404)
    assert.match(neutronError(missing).message, /subnet subnet-404/)
    const first = await call(nhn, 'POST', '/v2.0/flowlog-loggers', create())
    assert.equal(first.status, 201)
    const twice = await call(nhn, 'POST', '/v2.0/flowlog-loggers', create({ name: 'again' }))
    assert.equal(twice.status, 409)
    assert.equal(neutronError(twice).type, 'FlowlogLoggerAlreadyExists')
    await call(nhn, 'DELETE', `/v2.0/flowlog-loggers/${logger(first).id}`)
  })

  test('list, filters and show; flow logs of the config and the EC2 API are loggers too', async () => {
    const ec2 = await control.service.createFlowLogs({
      resourceIds: ['subnet-0a2'],
      draft: testDraft({ resourceType: 'Subnet', trafficType: 'ACCEPT', aggregationInterval: 60 }),
      clientToken: null,
      dryRun: false,
    })
    const ec2Id = ec2.flowLogs[0]?.spec.id
    const nhnMade = logger(await call(nhn, 'POST', '/v2.0/flowlog-loggers', create({ filter: 'DROP' })))
    const all = loggers(await call(nhn, 'GET', '/v2.0/flowlog-loggers'))
    assert.deepEqual(all.map((l) => l.id).sort(), ['fl-config', ec2Id, nhnMade.id].sort())
    const fromEc2 = all.find((l) => l.id === ec2Id)
    assert.deepEqual(
      [
        fromEc2?.resource_type,
        fromEc2?.filter,
        fromEc2?.aggregation_interval,
        fromEc2?.log_format,
        fromEc2?.storage_url,
      ],
      ['SUBNET', 'ACCEPT', 1, 'TEXT', 's3://flowlog-test-bucket/logs'],
    )
    const ids = async (query: string) =>
      loggers(await call(nhn, 'GET', `/v2.0/flowlog-loggers?${query}`))
        .map((l) => l.id)
        .sort()
    assert.deepEqual(await ids('resource_type=VPC'), ['fl-config'])
    assert.deepEqual(await ids('filter=DROP'), [nhnMade.id])
    assert.deepEqual(await ids('filter=DROP&filter=ACCEPT'), [ec2Id, nhnMade.id].sort())
    assert.deepEqual(await ids('resource_type=PORT&status=ACTIVE&name=web-logger'), [nhnMade.id])
    assert.deepEqual(await ids('aggregation_interval=1&log_format=TEXT'), [ec2Id])
    assert.deepEqual(await ids(`id=${ec2Id}`), [ec2Id])
    const badFilter = await call(nhn, 'GET', '/v2.0/flowlog-loggers?colour=red')
    assert.equal(badFilter.status, 400)
    assert.match(neutronError(badFilter).message, /"colour" is not a filter/)

    const shown = await call(nhn, 'GET', `/v2.0/flowlog-loggers/${nhnMade.id}`)
    assert.deepEqual(logger(shown), nhnMade)
    const unknown = await call(nhn, 'GET', '/v2.0/flowlog-loggers/fl-00000000000000000')
    assert.equal(unknown.status, 404)
    assert.equal(neutronError(unknown).type, 'FlowlogLoggerNotFound')
    assert.equal((await call(nhn, 'GET', '/v2.0/flowlog-loggers/%2e%2e')).status, 400)
    assert.equal((await call(nhn, 'GET', '/v2.0/flowlog-loggers/%zz')).status, 400)
    assert.equal((await call(nhn, 'GET', `/v2.0/flowlog-loggers/${nhnMade.id}/more`)).status, 404)
    const patch = await call(nhn, 'PATCH', `/v2.0/flowlog-loggers/${nhnMade.id}`, {})
    assert.equal(patch.status, 405)
    assert.equal(patch.headers.allow, 'GET, PUT, DELETE')
    await control.service.deleteFlowLogs([ec2Id ?? '', String(nhnMade.id)])
  })

  test('PUT changes name, description and admin_state_up only; DELETE removes', async () => {
    const made = logger(await call(nhn, 'POST', '/v2.0/flowlog-loggers', create()))
    const path = `/v2.0/flowlog-loggers/${made.id}`
    const paused = await call(nhn, 'PUT', path, {
      flowlog_logger: { admin_state_up: false, name: 'renamed', description: 'why' },
    })
    assert.equal(paused.status, 200)
    assert.deepEqual(
      [logger(paused).name, logger(paused).description, logger(paused).status],
      ['renamed', 'why', 'INACTIVE'],
    )
    assert.ok(!(await control.service.effectiveNetwork()).flowLogs.some((f) => f.id === made.id))
    for (const field of ['filter', 'storage_url', 'aggregation_interval', 'resource_id']) {
      const refused = await call(nhn, 'PUT', path, { flowlog_logger: { name: 'x', [field]: 'ALL' } })
      assert.equal(refused.status, 400)
      assert.match(neutronError(refused).message, new RegExp(`flowlog_logger\\.${field}: may not be changed`))
    }
    assert.equal((await call(nhn, 'PUT', path, { flowlog_logger: { admin_state_up: 1 } })).status, 400)
    const resumed = await call(nhn, 'PUT', path, { flowlog_logger: { admin_state_up: true } })
    assert.deepEqual([logger(resumed).name, logger(resumed).status], ['renamed', 'ACTIVE'])
    assert.equal(
      (
        await call(nhn, 'PUT', '/v2.0/flowlog-loggers/fl-00000000000000000', {
          flowlog_logger: { name: 'x' },
        })
      ).status,
      404,
    )
    const gone = await call(nhn, 'DELETE', path)
    assert.equal(gone.status, 204)
    assert.equal((await call(nhn, 'DELETE', path)).status, 404)
    assert.equal((await call(nhn, 'GET', path)).status, 404)
  })

  test('logging ports are the interfaces each logger covers, with filters', async () => {
    const ports = (await call(nhn, 'GET', '/v2.0/flowlog-logging-ports')).json
      .flowlog_logging_ports as Logger[]
    assert.deepEqual(
      ports.map((p) => [p.id, p.logger_id, p.port_id, p.network_id, p.subnet_id]),
      [
        ['fl-config.eni-web1', 'fl-config', 'eni-web1', 'vpc-0a1', 'subnet-0a1'],
        ['fl-config.eni-db1', 'fl-config', 'eni-db1', 'vpc-0a1', 'subnet-0a2'],
      ],
    )
    const filtered = await call(nhn, 'GET', '/v2.0/flowlog-logging-ports?logger_id=fl-config&port_id=eni-db1')
    assert.deepEqual(
      (filtered.json.flowlog_logging_ports as Logger[]).map((p) => p.id),
      ['fl-config.eni-db1'],
    )
    const one = await call(nhn, 'GET', '/v2.0/flowlog-logging-ports/fl-config.eni-web1')
    assert.equal((one.json.flowlog_logging_port as Logger).port_id, 'eni-web1')
    assert.equal((await call(nhn, 'GET', '/v2.0/flowlog-logging-ports/fl-config.eni-b1')).status, 404)
    assert.equal((await call(nhn, 'POST', '/v2.0/flowlog-logging-ports', {})).status, 405)
  })

  test('a failing destination shows as status ERROR', async () => {
    const failing = await openTestControl({
      deliveryStatus: () => ({
        status: 'FAILED',
        error: 'no bucket',
        lastFile: null,
        lastFileAt: null,
        spooled: 2,
      }),
    })
    try {
      const adapter = new NhnApiAdapter({ control: failing.service, token: TOKEN })
      const shown = logger(await call(adapter, 'GET', '/v2.0/flowlog-loggers/fl-config'))
      assert.deepEqual([shown.status, shown.error_type], ['ERROR', 'OBSServiceNotAvailableError'])
    } finally {
      await failing.close()
    }
  })
})
