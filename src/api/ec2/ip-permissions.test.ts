import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ControlError } from '../../control/control-error.js'
import type { SecurityGroupRule } from '../../core/network.js'
import { EC2_MODEL } from './ec2-model.generated.js'
import { ipPermissionsOf, rulesOfRequest, securityGroupRuleOf } from './ip-permissions.js'
import { parseParams } from './query-params.js'

const groups = { groupIdByName: (name: string) => (name === 'web' ? 'sg-web' : undefined) }
const rules = (form: Record<string, string>) =>
  rulesOfRequest(
    parseParams(EC2_MODEL, 'AuthorizeSecurityGroupIngressRequest', new URLSearchParams(form)),
    groups,
  )
const refused = (code: string, pattern: RegExp) => (e: unknown) =>
  e instanceof ControlError && e.code === code && pattern.test(e.message)

describe('IpPermissions → rules', () => {
  test('one rule per peer; ports, ICMP type/code and protocol numbers map as on AWS', () => {
    assert.deepEqual(
      rules({
        'IpPermissions.1.IpProtocol': '6',
        'IpPermissions.1.FromPort': '80',
        'IpPermissions.1.ToPort': '443',
        'IpPermissions.1.IpRanges.1.CidrIp': '10.0.0.7/8',
        'IpPermissions.1.IpRanges.1.Description': 'lan',
        'IpPermissions.1.Ipv6Ranges.1.CidrIpv6': '2001:db8::/32',
        'IpPermissions.1.Groups.1.GroupName': 'web',
        'IpPermissions.2.IpProtocol': 'icmp',
        'IpPermissions.2.FromPort': '8',
        'IpPermissions.2.ToPort': '-1',
        'IpPermissions.2.IpRanges.1.CidrIp': '0.0.0.0/0',
        'IpPermissions.3.IpProtocol': '-1',
        'IpPermissions.3.Groups.1.GroupId': 'sg-db',
        'IpPermissions.4.IpProtocol': 'udp',
        'IpPermissions.4.FromPort': '0',
        'IpPermissions.4.ToPort': '65535',
        'IpPermissions.4.IpRanges.1.CidrIp': '10.0.0.2/32',
      }),
      [
        {
          protocol: 'tcp',
          ports: '80-443',
          icmpType: -1,
          icmpCode: -1,
          peer: '10.0.0.0/8',
          description: 'lan',
        },
        {
          protocol: 'tcp',
          ports: '80-443',
          icmpType: -1,
          icmpCode: -1,
          peer: '2001:db8::/32',
          description: null,
        },
        { protocol: 'tcp', ports: '80-443', icmpType: -1, icmpCode: -1, peer: 'sg-web', description: null },
        { protocol: 'icmp', ports: null, icmpType: 8, icmpCode: -1, peer: '0.0.0.0/0', description: null },
        { protocol: 'all', ports: null, icmpType: -1, icmpCode: -1, peer: 'sg-db', description: null },
        { protocol: 'udp', ports: null, icmpType: -1, icmpCode: -1, peer: '10.0.0.2/32', description: null },
      ],
    )
  })

  test('the legacy top-level form (IpProtocol, FromPort, ToPort, CidrIp) is one rule', () => {
    assert.deepEqual(
      rules({
        GroupId: 'sg-x',
        IpProtocol: 'tcp',
        FromPort: '8080',
        ToPort: '8080',
        CidrIp: '203.0.113.0/24',
      }),
      [
        {
          protocol: 'tcp',
          ports: '8080',
          icmpType: -1,
          icmpCode: -1,
          peer: '203.0.113.0/24',
          description: null,
        },
      ],
    )
  })

  test('bad permissions name the parameter', () => {
    const base = { 'IpPermissions.1.IpRanges.1.CidrIp': '10.0.0.0/8' }
    assert.throws(
      () => rules({ ...base, 'IpPermissions.1.IpProtocol': 'gre' }),
      refused('InvalidParameterValue', /IpPermissions.1.IpProtocol/),
    )
    assert.throws(
      () => rules({ ...base, 'IpPermissions.1.IpProtocol': 'tcp', 'IpPermissions.1.FromPort': '22' }),
      refused('MissingParameter', /IpPermissions.1.ToPort/),
    )
    assert.throws(
      () =>
        rules({
          ...base,
          'IpPermissions.1.IpProtocol': 'tcp',
          'IpPermissions.1.FromPort': '90',
          'IpPermissions.1.ToPort': '80',
        }),
      refused('InvalidParameterValue', /port range/),
    )
    assert.throws(
      () =>
        rules({
          'IpPermissions.1.IpProtocol': 'tcp',
          'IpPermissions.1.FromPort': '1',
          'IpPermissions.1.ToPort': '1',
          'IpPermissions.1.IpRanges.1.CidrIp': '::/0',
        }),
      refused('InvalidParameterValue', /IpRanges.1.CidrIp.*IPv4/),
    )
    assert.throws(
      () => rules({ 'IpPermissions.1.IpProtocol': '-1' }),
      refused('MissingParameter', /IpRanges/),
    )
    assert.throws(
      () => rules({ 'IpPermissions.1.IpProtocol': '-1', 'IpPermissions.1.Groups.1.GroupName': 'nope' }),
      refused('InvalidGroup.NotFound', /nope/),
    )
    assert.throws(
      () => rules({ ...base, 'IpPermissions.1.IpProtocol': '-1', CidrIp: '10.0.0.0/8' }),
      refused('InvalidParameterCombination', /CidrIp/),
    )
  })
})

test('rules → IpPermissions (grouped by protocol and ports) and SecurityGroupRules', () => {
  const rule = (id: string, peer: string, extra: Partial<SecurityGroupRule> = {}): SecurityGroupRule => ({
    id,
    protocol: 'tcp',
    ports: '22',
    icmpType: -1,
    icmpCode: -1,
    peer,
    description: null,
    ...extra,
  })
  const perms = ipPermissionsOf(
    [
      rule('a', '10.0.0.0/8', { description: 'office' }),
      rule('b', '::/0'),
      rule('c', 'sg-web'),
      rule('d', '0.0.0.0/0', { protocol: 'all', ports: null }),
    ],
    '123',
  )
  assert.deepEqual(perms, [
    {
      IpProtocol: 'tcp',
      FromPort: 22,
      ToPort: 22,
      IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'office' }],
      Ipv6Ranges: [{ CidrIpv6: '::/0', Description: undefined }],
      UserIdGroupPairs: [{ GroupId: 'sg-web', UserId: '123', Description: undefined }],
      PrefixListIds: [],
    },
    {
      IpProtocol: '-1',
      IpRanges: [{ CidrIp: '0.0.0.0/0', Description: undefined }],
      Ipv6Ranges: [],
      UserIdGroupPairs: [],
      PrefixListIds: [],
    },
  ])
  const icmp = securityGroupRuleOf(
    rule('sgr-1', 'sg-web', { protocol: 'icmpv6', ports: null, icmpType: 128, icmpCode: 0 }),
    'sg-x',
    true,
    '123',
  )
  assert.equal(icmp.IpProtocol, 'icmpv6')
  assert.equal(icmp.FromPort, 128)
  assert.equal(icmp.ToPort, 0)
  assert.deepEqual(icmp.ReferencedGroupInfo, { GroupId: 'sg-web', UserId: '123' })
  assert.equal(icmp.IsEgress, true)
  const numbered = securityGroupRuleOf(
    rule('sgr-2', '10.0.0.0/8', { protocol: 47, ports: null }),
    'sg-x',
    false,
    '123',
  )
  assert.equal(numbered.IpProtocol, '47')
  assert.equal(numbered.FromPort, undefined)
})
