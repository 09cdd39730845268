import assert from 'node:assert/strict'
import { test } from 'node:test'
import { XMLParser } from 'fast-xml-parser'
import { EC2_MODEL } from './ec2-model.generated.js'
import { errorXml, successXml } from './xml-response.js'

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false })

test('a response uses the output shape locationNames, <item> lists, requestId and the namespace', () => {
  const xml = successXml(
    EC2_MODEL,
    'CreateFlowLogs',
    'CreateFlowLogsResult',
    {
      ClientToken: 'tok<&>',
      FlowLogIds: ['fl-1', 'fl-2'],
      Unsuccessful: [{ ResourceId: 'vpc-x', Error: { Code: 'InvalidVpcID.NotFound', Message: 'no' } }],
    },
    'req-1',
  )
  const doc = parser.parse(xml).CreateFlowLogsResponse
  assert.equal(doc['@_xmlns'], 'http://ec2.amazonaws.com/doc/2016-11-15/')
  assert.equal(doc.requestId, 'req-1')
  assert.equal(doc.clientToken, 'tok<&>')
  assert.deepEqual(doc.flowLogIdSet.item, ['fl-1', 'fl-2'])
  assert.equal(doc.unsuccessful.item.error.code, 'InvalidVpcID.NotFound')
  assert.match(xml, /tok&lt;&amp;&gt;/)
})

test('empty lists are empty elements; booleans and timestamps in EC2 form', () => {
  const xml = successXml(
    EC2_MODEL,
    'DescribeFlowLogs',
    'DescribeFlowLogsResult',
    {
      FlowLogs: [
        {
          FlowLogId: 'fl-1',
          CreationTime: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)),
          Tags: [],
          DestinationOptions: { HiveCompatiblePartitions: true },
        },
      ],
    },
    'r',
  )
  assert.match(xml, /<creationTime>2026-01-02T03:04:05.678Z<\/creationTime>/)
  assert.match(xml, /<tagSet><\/tagSet>/)
  assert.match(xml, /<hiveCompatiblePartitions>true<\/hiveCompatiblePartitions>/)
})

test('a member the shape lacks is a bug, not a silent drop', () => {
  assert.throws(
    () => successXml(EC2_MODEL, 'DescribeVpcs', 'DescribeVpcsResult', { Vpcz: [] }, 'r'),
    /no member Vpcz/,
  )
})

test('actions without output answer return true; errors use the Response/Errors envelope', () => {
  assert.match(
    successXml(EC2_MODEL, 'CreateTags', null, {}, 'r'),
    /<CreateTagsResponse xmlns="[^"]+"><requestId>r<\/requestId><return>true<\/return>/,
  )
  const error = parser.parse(errorXml('InvalidAction', 'The action X is not valid', 'r2'))
  assert.deepEqual(error, {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    Response: {
      Errors: { Error: { Code: 'InvalidAction', Message: 'The action X is not valid' } },
      RequestID: 'r2',
    },
  })
})
