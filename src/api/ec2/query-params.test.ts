import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ControlError } from '../../control/control-error.js'
import { EC2_MODEL } from './ec2-model.generated.js'
import { parseParams } from './query-params.js'

const parse = (action: string, form: Record<string, string>) =>
  parseParams(
    EC2_MODEL,
    EC2_MODEL.operations[action]?.input ?? null,
    new URLSearchParams({ Action: action, Version: '2016-11-15', ...form }),
  )

const fails = (code: string, pattern: RegExp) => (error: unknown) =>
  error instanceof ControlError && error.code === code && pattern.test(error.message)

describe('parseParams (botocore ec2 protocol)', () => {
  test('lists of scalars are Name.N in index order; locationName renames members', () => {
    const p = parse('CreateFlowLogs', {
      'ResourceId.2': 'vpc-b',
      'ResourceId.1': 'vpc-a',
      ResourceType: 'VPC',
      MaxAggregationInterval: '60',
      DryRun: 'true',
      'DestinationOptions.FileFormat': 'parquet',
      'DestinationOptions.PerHourPartition': 'false',
      'TagSpecification.1.ResourceType': 'vpc-flow-log',
      'TagSpecification.1.Tag.1.Key': 'team',
      'TagSpecification.1.Tag.1.Value': 'net',
    })
    assert.deepEqual(p.strings('ResourceIds'), ['vpc-a', 'vpc-b'])
    assert.equal(p.integer('MaxAggregationInterval'), 60)
    assert.equal(p.boolean('DryRun'), true)
    assert.equal(p.struct('DestinationOptions')?.string('FileFormat'), 'parquet')
    assert.equal(p.struct('DestinationOptions')?.boolean('PerHourPartition'), false)
    const tag = p.structs('TagSpecifications')[0]?.structs('Tags')[0]
    assert.equal(tag?.string('Key'), 'team')
    assert.equal(tag?.nameOf('Value'), 'TagSpecification.1.Tag.1.Value')
  })

  test('nested structures: IpPermissions.N.IpRanges.M.CidrIp and Groups.M.GroupId; Filter.N.Value.M', () => {
    const p = parse('AuthorizeSecurityGroupIngress', {
      GroupId: 'sg-1',
      'IpPermissions.1.IpProtocol': 'tcp',
      'IpPermissions.1.FromPort': '22',
      'IpPermissions.1.ToPort': '22',
      'IpPermissions.1.IpRanges.1.CidrIp': '10.0.0.0/8',
      'IpPermissions.1.IpRanges.1.Description': 'ssh',
      'IpPermissions.1.Groups.1.GroupId': 'sg-2',
      'IpPermissions.1.Ipv6Ranges.1.CidrIpv6': '::/0',
    })
    const perm = p.structs('IpPermissions')[0]
    assert.equal(perm?.integer('FromPort'), 22)
    assert.equal(perm?.structs('IpRanges')[0]?.string('Description'), 'ssh')
    assert.equal(perm?.structs('UserIdGroupPairs')[0]?.string('GroupId'), 'sg-2')
    assert.equal(perm?.structs('Ipv6Ranges')[0]?.string('CidrIpv6'), '::/0')
    const d = parse('DescribeFlowLogs', {
      'Filter.1.Name': 'resource-id',
      'Filter.1.Value.1': 'vpc-a',
      'Filter.1.Value.2': 'vpc-b',
    })
    assert.deepEqual(d.structs('Filter')[0]?.strings('Values'), ['vpc-a', 'vpc-b'])
  })

  test('a missing required member is MissingParameter naming it', () => {
    assert.throws(
      () => parse('CreateFlowLogs', { ResourceType: 'VPC' }),
      fails('MissingParameter', /ResourceId/),
    )
    assert.throws(() => parse('DeleteFlowLogs', {}), fails('MissingParameter', /FlowLogId/))
  })

  test('wrong types, enums and bounds are InvalidParameterValue naming parameter and value', () => {
    assert.throws(
      () =>
        parse('CreateFlowLogs', { 'ResourceId.1': 'v', ResourceType: 'VPC', MaxAggregationInterval: 'ten' }),
      fails('InvalidParameterValue', /ten.*MaxAggregationInterval.*integer/),
    )
    assert.throws(
      () => parse('CreateFlowLogs', { 'ResourceId.1': 'v', ResourceType: 'Instance' }),
      fails('InvalidParameterValue', /Instance.*ResourceType.*VPC, Subnet/),
    )
    assert.throws(
      () => parse('DescribeVpcs', { MaxResults: '2' }),
      fails('InvalidParameterValue', /minimum is 5/),
    )
    assert.throws(
      () => parse('DescribeVpcs', { DryRun: 'yes' }),
      fails('InvalidParameterValue', /true or false/),
    )
  })

  test('a parameter the shape does not name is UnknownParameter; a repeated one is refused', () => {
    assert.throws(() => parse('DescribeVpcs', { VpcIds: 'vpc-a' }), fails('UnknownParameter', /VpcIds/))
    assert.throws(() => parse('DescribeVpcs', { 'VpcId.x': 'vpc-a' }), fails('UnknownParameter', /VpcId\.x/))
    assert.throws(
      () => parseParams(EC2_MODEL, 'DescribeVpcsRequest', new URLSearchParams('VpcId.1=a&VpcId.1=b')),
      fails('InvalidParameterValue', /more than once/),
    )
  })
})
