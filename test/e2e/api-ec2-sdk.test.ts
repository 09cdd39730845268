import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import { after, before, describe, test } from 'node:test'
import {
  AuthorizeSecurityGroupEgressCommand,
  CreateFlowLogsCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteFlowLogsCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DescribeFlowLogsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  type DescribeSecurityGroupsCommandInput,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  type EC2ServiceException,
  ModifyNetworkInterfaceAttributeCommand,
  paginateDescribeFlowLogs,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2'
import { ApiCredentials } from '../../src/api/ec2/api-credentials.js'
import { createEc2Adapter } from '../../src/api/ec2/ec2-adapter.js'
import type { DeliveryStatus } from '../../src/control/resources.js'
import { openTestControl, type TestControl } from '../../src/control/test-kit.js'
import { startAdapterServer } from '../support/api-test-server.js'
import { errorCode, signedPost } from '../support/ec2-signing.js'

/**
 * @aws-sdk/client-ec2 against the EC2 adapter with the real ControlService on SQLite: every
 * action, its filters and paging, AWS's error codes, and hand-signed calls no SDK would send
 * (stale date, malformed or unknown parameters, unknown action), which change nothing.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
const KEY = { accessKeyId: 'AKIDSDKTENANT001', secretAccessKey: 'sdk-secret' }
const S3 = 'arn:aws:s3:::flowlog-sdk-bucket/tenant-a/'

describe('@aws-sdk/client-ec2 against the EC2 API', { concurrency: false }, () => {
  let control: TestControl
  let server: Server
  let url = ''
  let ec2: EC2Client
  const failing = new Map<string, DeliveryStatus>()

  before(async () => {
    control = await openTestControl({
      deliveryStatus: (id) =>
        failing.get(id) ?? { status: 'SUCCESS', error: null, lastFile: null, lastFileAt: null, spooled: 0 },
    })
    const adapter = createEc2Adapter({
      control: control.service,
      credentials: new ApiCredentials([{ ...KEY, profile: 'sdk' }]),
    })
    const started = await startAdapterServer([adapter])
    server = started.server
    url = started.url
    ec2 = new EC2Client({ endpoint: url, region: 'kr1', credentials: KEY, maxAttempts: 1 })
  })

  after(async () => {
    ec2?.destroy()
    server?.close()
    await control?.close()
  })

  const codeOf = async (promise: Promise<unknown>): Promise<string> => {
    try {
      await promise
    } catch (error) {
      return (error as EC2ServiceException).name
    }
    return 'no error'
  }
  const state = async () =>
    JSON.stringify([
      await control.service.listFlowLogs(),
      await control.service.listSecurityGroups(),
      (await control.service.topology()).interfaces,
    ])

  test('CreateFlowLogs: per-resource Unsuccessful, options, tags, the 1-900 s extension, file:// destinations', async () => {
    const created = await ec2.send(
      new CreateFlowLogsCommand({
        ResourceType: 'Subnet',
        ResourceIds: ['subnet-0a1', 'subnet-nope'],
        TrafficType: 'REJECT',
        LogDestinationType: 's3',
        LogDestination: S3,
        MaxAggregationInterval: 60,
        DestinationOptions: { FileFormat: 'parquet', HiveCompatiblePartitions: true, PerHourPartition: true },
        TagSpecifications: [{ ResourceType: 'vpc-flow-log', Tags: [{ Key: 'Name', Value: 'rejects' }] }],
      }),
    )
    assert.equal(created.FlowLogIds?.length, 1)
    assert.deepEqual(
      created.Unsuccessful?.map((u) => [u.ResourceId, u.Error?.Code]),
      [['subnet-nope', 'InvalidSubnetID.NotFound']],
    )
    const spec = (await control.service.getFlowLog(created.FlowLogIds?.[0] ?? '')).spec
    assert.deepEqual(
      [
        spec.resource,
        spec.trafficType,
        spec.aggregationInterval,
        spec.fileFormat,
        spec.layout,
        spec.perHourPartition,
        spec.destination,
      ],
      ['subnet-0a1', 'REJECT', 60, 'parquet', 'aws-hive', true, 's3://flowlog-sdk-bucket/tenant-a'],
    )
    const local = await ec2.send(
      new CreateFlowLogsCommand({
        ResourceType: 'NetworkInterface',
        ResourceIds: ['eni-db1'],
        TrafficType: 'ACCEPT',
        LogDestinationType: 's3',
        LogDestination: 'file:///var/lib/flowlog/logs',
        MaxAggregationInterval: 5,
      }),
    )
    const localSpec = (await control.service.getFlowLog(local.FlowLogIds?.[0] ?? '')).spec
    assert.equal(localSpec.destination, 'file:///var/lib/flowlog/logs')
    assert.equal(localSpec.aggregationInterval, 5)
  })

  test('CreateFlowLogs: ClientToken idempotency, DryRun, and refusals by name', async () => {
    const request = {
      ResourceType: 'VPC' as const,
      ResourceIds: ['vpc-0b1'],
      TrafficType: 'ALL' as const,
      LogDestinationType: 's3' as const,
      LogDestination: 'arn:aws:s3:::flowlog-sdk-bucket',
      ClientToken: 'token-1',
    }
    const first = await ec2.send(new CreateFlowLogsCommand(request))
    const again = await ec2.send(new CreateFlowLogsCommand(request))
    assert.deepEqual(again.FlowLogIds, first.FlowLogIds)
    assert.equal(again.ClientToken, 'token-1')
    const before = await state()
    assert.equal(
      await codeOf(ec2.send(new CreateFlowLogsCommand({ ...request, TrafficType: 'REJECT' }))),
      'IdempotentParameterMismatch',
    )
    const fresh = {
      ...request,
      ClientToken: undefined,
      ResourceIds: ['vpc-0a1'],
      TrafficType: 'REJECT' as const,
    }
    assert.equal(
      await codeOf(ec2.send(new CreateFlowLogsCommand({ ...fresh, DryRun: true }))),
      'DryRunOperation',
    )
    assert.equal(
      await codeOf(
        ec2.send(new CreateFlowLogsCommand({ ...fresh, LogDestinationType: 'kinesis-data-firehose' })),
      ),
      'InvalidParameterValue',
    )
    assert.equal(
      await codeOf(ec2.send(new CreateFlowLogsCommand({ ...fresh, MaxAggregationInterval: 901 }))),
      'InvalidParameterValue',
    )
    assert.equal(
      await codeOf(ec2.send(new CreateFlowLogsCommand({ ...fresh, ResourceType: 'TransitGateway' }))),
      'InvalidParameterValue',
    )
    assert.equal(
      await codeOf(ec2.send(new CreateFlowLogsCommand({ ...fresh, TrafficType: undefined }))),
      'MissingParameter',
    )
    assert.equal(
      await codeOf(ec2.send(new CreateFlowLogsCommand({ ...fresh, LogGroupName: 'group' }))),
      'InvalidParameterCombination',
    )
    assert.equal(
      await codeOf(
        ec2.send(
          new CreateFlowLogsCommand({
            ...fresh,
            TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'a', Value: 'b' }] }],
          }),
        ),
      ),
      'InvalidParameterValue',
    )
    assert.equal(await state(), before)
  })

  test('DescribeFlowLogs: every filter of AWS, FlowLogIds, delivery status, paging', async () => {
    const all = (await ec2.send(new DescribeFlowLogsCommand({}))).FlowLogs ?? []
    assert.ok(all.length >= 4, JSON.stringify(all.map((f) => f.FlowLogId)))
    const subnetLog = all.find((f) => f.ResourceId === 'subnet-0a1')
    assert.ok(subnetLog?.FlowLogId)
    failing.set(subnetLog.FlowLogId, {
      status: 'FAILED',
      error: 'Access error: 403 from s3://flowlog-sdk-bucket',
      lastFile: null,
      lastFileAt: null,
      spooled: 3,
    })
    const ids = async (Filters: Array<{ Name: string; Values: string[] }>) =>
      ((await ec2.send(new DescribeFlowLogsCommand({ Filter: Filters }))).FlowLogs ?? [])
        .map((f) => f.FlowLogId)
        .sort()
    assert.deepEqual(await ids([{ Name: 'deliver-log-status', Values: ['FAILED'] }]), [subnetLog.FlowLogId])
    const failed = (await ec2.send(new DescribeFlowLogsCommand({ FlowLogIds: [subnetLog.FlowLogId] })))
      .FlowLogs?.[0]
    assert.equal(failed?.DeliverLogsStatus, 'FAILED')
    assert.equal(failed?.DeliverLogsErrorMessage, 'Access error: 403 from s3://flowlog-sdk-bucket')
    assert.equal(failed?.LogDestination, S3)
    assert.deepEqual(failed?.DestinationOptions, {
      FileFormat: 'parquet',
      HiveCompatiblePartitions: true,
      PerHourPartition: true,
    })
    assert.equal(failed?.MaxAggregationInterval, 60)
    assert.deepEqual(failed?.Tags, [{ Key: 'Name', Value: 'rejects' }])
    assert.deepEqual(await ids([{ Name: 'flow-log-id', Values: [subnetLog.FlowLogId] }]), [
      subnetLog.FlowLogId,
    ])
    assert.deepEqual(await ids([{ Name: 'resource-id', Values: ['subnet-*'] }]), [subnetLog.FlowLogId])
    assert.deepEqual(await ids([{ Name: 'traffic-type', Values: ['REJECT'] }]), [subnetLog.FlowLogId])
    assert.deepEqual(await ids([{ Name: 'tag:Name', Values: ['rejects'] }]), [subnetLog.FlowLogId])
    assert.deepEqual(await ids([{ Name: 'tag-key', Values: ['Name'] }]), [subnetLog.FlowLogId])
    assert.equal((await ids([{ Name: 'log-destination-type', Values: ['s3'] }])).length, all.length)
    assert.deepEqual(await ids([{ Name: 'log-group-name', Values: ['*'] }]), [])
    assert.equal(await codeOf(ids([{ Name: 'bogus', Values: ['x'] }])), 'InvalidParameterValue')

    const paged: string[] = []
    for await (const page of paginateDescribeFlowLogs({ client: ec2, pageSize: 1 }, {})) {
      assert.ok((page.FlowLogs?.length ?? 0) <= 1)
      for (const f of page.FlowLogs ?? []) paged.push(f.FlowLogId ?? '')
    }
    assert.deepEqual(paged, all.map((f) => f.FlowLogId).sort())
    assert.equal(
      await codeOf(ec2.send(new DescribeFlowLogsCommand({ NextToken: '!!' }))),
      'InvalidPaginationToken',
    )
  })

  test('CreateTags/DeleteTags on flow logs and groups; DeleteFlowLogs', async () => {
    const id = ((
      await ec2.send(new DescribeFlowLogsCommand({ Filter: [{ Name: 'resource-id', Values: ['eni-db1'] }] }))
    ).FlowLogs?.[0]?.FlowLogId ?? '') as string
    await ec2.send(
      new CreateTagsCommand({
        Resources: [id, 'sg-db'],
        Tags: [
          { Key: 'env', Value: 'prod' },
          { Key: 'team', Value: 'db' },
        ],
      }),
    )
    assert.deepEqual((await control.service.getSecurityGroup('sg-db')).tags, { env: 'prod', team: 'db' })
    await ec2.send(new DeleteTagsCommand({ Resources: ['sg-db'], Tags: [{ Key: 'env', Value: 'staging' }] }))
    assert.deepEqual(
      (await control.service.getSecurityGroup('sg-db')).tags,
      { env: 'prod', team: 'db' },
      'value must match',
    )
    await ec2.send(new DeleteTagsCommand({ Resources: ['sg-db', id] }))
    assert.deepEqual((await control.service.getSecurityGroup('sg-db')).tags, {})
    assert.deepEqual((await control.service.getFlowLog(id)).tags, {})
    assert.equal(
      await codeOf(
        ec2.send(
          new CreateTagsCommand({ Resources: ['fl-00000000000000000'], Tags: [{ Key: 'a', Value: 'b' }] }),
        ),
      ),
      'InvalidFlowLogId.NotFound',
    )
    assert.equal(
      await codeOf(
        ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'aws:x', Value: 'b' }] })),
      ),
      'InvalidParameterValue',
    )
    const deleted = await ec2.send(new DeleteFlowLogsCommand({ FlowLogIds: [id] }))
    assert.deepEqual(deleted.Unsuccessful, [])
    assert.equal(await codeOf(control.service.getFlowLog(id)), 'ControlError')
  })

  test('security groups: create, describe with filters, authorize and revoke egress, delete', async () => {
    const created = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: 'cache',
        Description: 'cache tier',
        VpcId: 'vpc-0a1',
        TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'tier', Value: 'cache' }] }],
      }),
    )
    const groupId = created.GroupId ?? ''
    assert.deepEqual(created.Tags, [{ Key: 'tier', Value: 'cache' }])
    assert.equal(
      await codeOf(
        ec2.send(new CreateSecurityGroupCommand({ GroupName: 'cache', Description: 'x', VpcId: 'vpc-0a1' })),
      ),
      'InvalidGroup.Duplicate',
    )
    const names = async (input: DescribeSecurityGroupsCommandInput) =>
      ((await ec2.send(new DescribeSecurityGroupsCommand(input))).SecurityGroups ?? [])
        .map((g) => g.GroupName)
        .sort()
    assert.deepEqual(await names({ GroupNames: ['cache'] }), ['cache'])
    assert.deepEqual(await names({ Filters: [{ Name: 'vpc-id', Values: ['vpc-0b1'] }] }), ['sg-other'])
    assert.deepEqual(await names({ Filters: [{ Name: 'tag:tier', Values: ['cache'] }] }), ['cache'])
    assert.deepEqual(await names({ Filters: [{ Name: 'group-name', Values: ['sg-*'] }] }), [
      'sg-db',
      'sg-other',
      'sg-web',
    ])
    assert.equal(await codeOf(names({ GroupIds: ['sg-nope'] })), 'InvalidGroup.NotFound')

    const authorized = await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: groupId,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 6379,
            ToPort: 6380,
            IpRanges: [{ CidrIp: '10.0.1.0/24', Description: 'web subnet' }],
            Ipv6Ranges: [{ CidrIpv6: '2001:db8:1::/64' }],
            UserIdGroupPairs: [{ GroupId: 'sg-web' }],
          },
          { IpProtocol: 'icmp', FromPort: 3, ToPort: 4, IpRanges: [{ CidrIp: '10.0.0.0/16' }] },
        ],
      }),
    )
    const rules = authorized.SecurityGroupRules ?? []
    assert.deepEqual(
      rules.map((r) => [
        r.IsEgress,
        r.IpProtocol,
        r.FromPort,
        r.ToPort,
        r.CidrIpv4 ?? r.CidrIpv6 ?? r.ReferencedGroupInfo?.GroupId,
      ]),
      [
        [true, 'tcp', 6379, 6380, '10.0.1.0/24'],
        [true, 'tcp', 6379, 6380, '2001:db8:1::/64'],
        [true, 'tcp', 6379, 6380, 'sg-web'],
        [true, 'icmp', 3, 4, '10.0.0.0/16'],
      ],
    )
    const described = await ec2.send(
      new DescribeSecurityGroupRulesCommand({
        SecurityGroupRuleIds: rules.map((r) => r.SecurityGroupRuleId ?? ''),
      }),
    )
    assert.equal(described.SecurityGroupRules?.length, 4)
    const egress = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })))
      .SecurityGroups?.[0]?.IpPermissionsEgress
    const redis = egress?.find((p) => p.FromPort === 6379)
    assert.deepEqual(redis?.IpRanges, [{ CidrIp: '10.0.1.0/24', Description: 'web subnet' }])
    assert.deepEqual(
      redis?.UserIdGroupPairs?.map((g) => g.GroupId),
      ['sg-web'],
    )

    await ec2.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId: groupId,
        IpPermissions: [
          { IpProtocol: 'icmp', FromPort: 3, ToPort: 4, IpRanges: [{ CidrIp: '10.0.0.0/16' }] },
        ],
      }),
    )
    assert.equal(
      await codeOf(
        ec2.send(
          new RevokeSecurityGroupEgressCommand({
            GroupId: groupId,
            IpPermissions: [
              { IpProtocol: 'icmp', FromPort: 3, ToPort: 4, IpRanges: [{ CidrIp: '10.0.0.0/16' }] },
            ],
          }),
        ),
      ),
      'InvalidPermission.NotFound',
    )
    assert.equal(
      await codeOf(
        ec2.send(
          new RevokeSecurityGroupEgressCommand({ GroupId: groupId, SecurityGroupRuleIds: ['sgr-nope'] }),
        ),
      ),
      'InvalidSecurityGroupRuleId.NotFound',
    )
    const left = (await control.service.getSecurityGroup(groupId)).group.outbound
    assert.equal(left.filter((r) => r.protocol === 'icmp').length, 0)
    assert.equal(
      await codeOf(ec2.send(new DeleteSecurityGroupCommand({ GroupId: 'sg-web' }))),
      'DependencyViolation',
    )
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId }))
    assert.equal(await codeOf(control.service.getSecurityGroup(groupId)), 'ControlError')
  })

  test('topology: DescribeVpcs, DescribeSubnets, DescribeNetworkInterfaces; ModifyNetworkInterfaceAttribute', async () => {
    const vpcs = (await ec2.send(new DescribeVpcsCommand({ VpcIds: ['vpc-0a1'] }))).Vpcs ?? []
    assert.deepEqual(
      vpcs.map((v) => [v.VpcId, v.CidrBlock, v.Ipv6CidrBlockAssociationSet?.[0]?.Ipv6CidrBlock, v.OwnerId]),
      [['vpc-0a1', '10.0.0.0/16', '2001:db8:1::/56', '123456789012']],
    )
    const subnets = (
      await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'cidr-block', Values: ['172.16.*'] }] }))
    ).Subnets
    assert.deepEqual(
      subnets?.map((s) => [s.SubnetId, s.VpcId]),
      [['subnet-0b1', 'vpc-0b1']],
    )
    assert.equal(
      await codeOf(ec2.send(new DescribeSubnetsCommand({ SubnetIds: ['subnet-nope'] }))),
      'InvalidSubnetID.NotFound',
    )
    const enis = (
      await ec2.send(
        new DescribeNetworkInterfacesCommand({
          Filters: [{ Name: 'attachment.instance-id', Values: ['i-web1'] }],
        }),
      )
    ).NetworkInterfaces
    assert.deepEqual(
      enis?.map((e) => [
        e.NetworkInterfaceId,
        e.PrivateIpAddress,
        e.VpcId,
        e.Attachment?.InstanceId,
        e.Status,
      ]),
      [['eni-web1', '10.0.1.10', 'vpc-0a1', 'i-web1', 'in-use']],
    )
    await ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: 'eni-db1',
        Groups: ['sg-db', 'sg-web'],
      }),
    )
    const db = (await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ['eni-db1'] })))
      .NetworkInterfaces?.[0]
    assert.deepEqual(
      db?.Groups?.map((g) => g.GroupId),
      ['sg-db', 'sg-web'],
    )
    assert.equal(
      await codeOf(
        ec2.send(
          new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: 'eni-db1', Groups: ['sg-other'] }),
        ),
      ),
      'InvalidGroup.NotFound',
    )
    assert.equal(
      await codeOf(
        ec2.send(
          new ModifyNetworkInterfaceAttributeCommand({
            NetworkInterfaceId: 'eni-db1',
            SourceDestCheck: { Value: false },
          }),
        ),
      ),
      'InvalidParameterValue',
    )
    assert.equal(
      await codeOf(
        ec2.send(
          new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: 'eni-nope', Groups: ['sg-db'] }),
        ),
      ),
      'InvalidNetworkInterfaceID.NotFound',
    )
  })

  test('hand-signed calls: stale date, unknown or missing action, malformed and unknown parameters are 4xx and change nothing', async () => {
    const before = await state()
    const post = (body: string, signingDate?: Date) =>
      signedPost(url, body, { ...KEY, ...(signingDate !== undefined ? { signingDate } : {}) })
    const create =
      'Action=CreateSecurityGroup&Version=2016-11-15&GroupName=x&GroupDescription=x&VpcId=vpc-0a1'
    const cases: Array<[string, Promise<{ status: number; text: string }>, number, string]> = [
      ['stale date', post(create, new Date(Date.now() - 20 * 60_000)), 400, 'RequestExpired'],
      ['future date', post(create, new Date(Date.now() + 20 * 60_000)), 400, 'RequestExpired'],
      ['unknown action', post('Action=RunInstances&Version=2016-11-15'), 400, 'InvalidAction'],
      ['no action', post('Version=2016-11-15&GroupName=x'), 400, 'MissingAction'],
      [
        'not an integer',
        post(
          `${create.replace('CreateSecurityGroup', 'DescribeVpcs').split('&GroupName')[0]}&MaxResults=ten`,
        ),
        400,
        'InvalidParameterValue',
      ],
      ['unknown parameter', post(`${create}&Colour=blue`), 400, 'UnknownParameter'],
      [
        'bad list index',
        post('Action=DeleteFlowLogs&Version=2016-11-15&FlowLogId.x=fl-1'),
        400,
        'UnknownParameter',
      ],
      ['missing required', post('Action=DeleteFlowLogs&Version=2016-11-15'), 400, 'MissingParameter'],
      ['binary body', post('\u0000\u00ff%%%=&&==\u0001'), 400, 'MissingAction'],
      [
        'bad enum',
        post('Action=CreateFlowLogs&Version=2016-11-15&ResourceId.1=vpc-0a1&ResourceType=Bucket'),
        400,
        'InvalidParameterValue',
      ],
    ]
    for (const [what, response, status, code] of cases) {
      const { status: got, text } = await response
      assert.equal(got, status, `${what}: ${text}`)
      assert.equal(errorCode(text), code, `${what}: ${text}`)
      assert.match(
        text,
        /<Response><Errors><Error><Code>[^<]+<\/Code><Message>[^<]+<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>/,
      )
    }
    const unsigned = await fetch(`${url}/`, {
      method: 'POST',
      body: create,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    assert.equal(unsigned.status, 401)
    assert.equal(errorCode(await unsigned.text()), 'MissingAuthenticationToken')
    assert.equal(await state(), before)
  })

  test("a client with a skewed clock is refused with RequestExpired, then signs right with the server's Date", async () => {
    const skewed = new EC2Client({
      endpoint: url,
      region: 'kr1',
      credentials: KEY,
      systemClockOffset: -30 * 60_000,
      maxAttempts: 1,
    })
    try {
      assert.equal(await codeOf(skewed.send(new DescribeVpcsCommand({}))), 'RequestExpired')
      // The SDK reads the Date header of the refusal and corrects its offset, as against AWS.
      assert.ok(Math.abs(skewed.config.systemClockOffset) < 5 * 60_000)
      const vpcs = await skewed.send(new DescribeVpcsCommand({}))
      assert.equal(vpcs.Vpcs?.length, 2)
    } finally {
      skewed.destroy()
    }
  })
})
