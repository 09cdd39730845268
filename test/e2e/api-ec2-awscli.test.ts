import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { loadApiCredentials } from '../../src/api/ec2/api-credentials.js'
import { createEc2Adapter } from '../../src/api/ec2/ec2-adapter.js'
import { openTestControl, type TestControl } from '../../src/control/test-kit.js'
import { startAdapterServer } from '../support/api-test-server.js'
import { type AwsCliResult, awsCli, DEBIAN_AWS } from '../support/aws-cli.js'
import { requireBuilt } from '../support/requirements.js'

/**
 * Debian's unmodified awscli against the EC2 adapter, with the real ControlService on a real
 * SQLite store: the commands, their answers, and the state they leave; refused calls
 * (bad secret, unknown key, unsupported destination) change nothing.
 */
const KEY = { accessKeyId: 'AKIDTENANTA00001', secretAccessKey: 'tenant-a-secret/+=' }
// The seed's --log-format, verbatim.
const SEED_FORMAT =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: AWS's ${field} syntax
  '${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${account-id} ${type} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${protocol} ${bytes} ${packets} ${start} ${end} ${action} ${tcp-flags} ${log-status}'

describe('awscli (Debian /usr/bin/aws) against the EC2 API', { concurrency: false }, () => {
  let control: TestControl
  let server: Server
  let endpoint = ''
  let dir = ''
  const present = existsSync(DEBIAN_AWS)

  before(async () => {
    control = await openTestControl()
    dir = mkdtempSync(join(tmpdir(), 'flowlog-ec2-cli-'))
    const credentialsFile = join(dir, 'credentials')
    writeFileSync(
      credentialsFile,
      `[tenant-a]\naws_access_key_id = ${KEY.accessKeyId}\naws_secret_access_key = ${KEY.secretAccessKey}\n`,
    )
    const adapter = createEc2Adapter({
      control: control.service,
      credentials: loadApiCredentials(credentialsFile),
    })
    const started = await startAdapterServer([adapter])
    server = started.server
    endpoint = started.url
  })

  after(async () => {
    server?.close()
    await control?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const aws = (args: string[], key = KEY): Promise<AwsCliResult> =>
    awsCli(['ec2', ...args, '--endpoint-url', endpoint], key)
  const state = async () =>
    JSON.stringify([await control.service.listFlowLogs(), await control.service.listSecurityGroups()])
  const errorOf = (r: AwsCliResult) => /An error occurred \(([^)]+)\)/.exec(r.stderr)?.[1]

  test("the seed's create-flow-logs, verbatim but for endpoint and bucket, then describe-flow-logs", async (t) => {
    if (!requireBuilt(t, present, 'Debian awscli at /usr/bin/aws', 'apt-get install awscli')) return
    const created = await aws([
      'create-flow-logs',
      '--resource-type',
      'VPC',
      '--region',
      'eu-west-1',
      '--resource-ids',
      'vpc-0a1',
      '--traffic-type',
      'ALL',
      '--log-destination-type',
      's3',
      '--log-destination',
      'arn:aws:s3:::flowlog-e2e-bucket',
      '--log-format',
      SEED_FORMAT,
    ])
    assert.equal(created.code, 0, created.stderr)
    const answer = created.json as { ClientToken: string; FlowLogIds: string[]; Unsuccessful: unknown[] }
    assert.deepEqual(Object.keys(answer).sort(), ['ClientToken', 'FlowLogIds', 'Unsuccessful'])
    assert.equal(answer.FlowLogIds.length, 1)
    assert.match(answer.FlowLogIds[0] ?? '', /^fl-[0-9a-f]{17}$/)
    assert.deepEqual(answer.Unsuccessful, [])
    const id = answer.FlowLogIds[0] as string
    // The state holds what the pipeline will run.
    const stored = await control.service.getFlowLog(id)
    assert.equal(stored.spec.destination, 's3://flowlog-e2e-bucket')
    assert.equal(stored.spec.fields.length, 21)
    assert.equal(stored.spec.aggregationInterval, 600)

    const described = await aws(['describe-flow-logs', '--filter', 'Name=resource-id,Values=vpc-0a1'])
    assert.equal(described.code, 0, described.stderr)
    const flowLogs = (described.json as { FlowLogs: Array<Record<string, unknown>> }).FlowLogs
    const mine = flowLogs.find((f) => f.FlowLogId === id)
    assert.ok(mine, JSON.stringify(flowLogs))
    assert.equal(mine.LogFormat, SEED_FORMAT)
    assert.equal(mine.LogDestination, 'arn:aws:s3:::flowlog-e2e-bucket')
    assert.equal(mine.LogDestinationType, 's3')
    assert.equal(mine.TrafficType, 'ALL')
    assert.equal(mine.DeliverLogsStatus, 'SUCCESS')
    assert.deepEqual(mine.DestinationOptions, {
      FileFormat: 'plain-text',
      HiveCompatiblePartitions: false,
      PerHourPartition: false,
    })
    assert.equal(new Date(String(mine.CreationTime)).toISOString(), stored.createdAt)
  })

  test('authorize-security-group-ingress --protocol tcp --port 8080 --cidr, then describe and revoke', async (t) => {
    if (!requireBuilt(t, present, 'Debian awscli at /usr/bin/aws', 'apt-get install awscli')) return
    const args = ['--group-id', 'sg-web', '--protocol', 'tcp', '--port', '8080', '--cidr', '203.0.113.0/24']
    const authorized = await aws(['authorize-security-group-ingress', ...args])
    assert.equal(authorized.code, 0, authorized.stderr)
    const rule = (authorized.json as { Return: boolean; SecurityGroupRules: Array<Record<string, unknown>> })
      .SecurityGroupRules[0]
    assert.ok(rule)
    assert.match(String(rule.SecurityGroupRuleId), /^sgr-/)
    assert.deepEqual(
      [rule.GroupId, rule.IsEgress, rule.IpProtocol, rule.FromPort, rule.ToPort, rule.CidrIpv4],
      ['sg-web', false, 'tcp', 8080, 8080, '203.0.113.0/24'],
    )
    const stored = (await control.service.getSecurityGroup('sg-web')).group.inbound
    assert.ok(stored.some((r) => r.id === rule.SecurityGroupRuleId && r.ports === '8080'))

    const again = await aws(['authorize-security-group-ingress', ...args])
    assert.equal(again.code, 254)
    assert.equal(errorOf(again), 'InvalidPermission.Duplicate')

    const rules = await aws(['describe-security-group-rules', '--filters', 'Name=group-id,Values=sg-web'])
    const ids = (
      rules.json as { SecurityGroupRules: Array<{ SecurityGroupRuleId: string }> }
    ).SecurityGroupRules.map((r) => r.SecurityGroupRuleId)
    assert.ok(ids.includes(String(rule.SecurityGroupRuleId)))
    assert.ok(ids.includes('sgr-web-ssh'))

    const groups = await aws(['describe-security-groups', '--group-ids', 'sg-web'])
    const permissions = (
      groups.json as { SecurityGroups: Array<{ IpPermissions: Array<Record<string, unknown>> }> }
    ).SecurityGroups[0]?.IpPermissions
    assert.ok(
      permissions?.some((p) => p.FromPort === 8080 && JSON.stringify(p.IpRanges).includes('203.0.113.0/24')),
    )

    const revoked = await aws([
      'revoke-security-group-ingress',
      '--group-id',
      'sg-web',
      '--security-group-rule-ids',
      String(rule.SecurityGroupRuleId),
    ])
    assert.equal(revoked.code, 0, revoked.stderr)
    assert.ok(
      !(await control.service.getSecurityGroup('sg-web')).group.inbound.some((r) => r.ports === '8080'),
    )
  })

  test('modify-network-interface-attribute --groups, then describe-network-interfaces', async (t) => {
    if (!requireBuilt(t, present, 'Debian awscli at /usr/bin/aws', 'apt-get install awscli')) return
    const modified = await aws([
      'modify-network-interface-attribute',
      '--network-interface-id',
      'eni-web1',
      '--groups',
      'sg-db',
      'sg-web',
    ])
    assert.equal(modified.code, 0, modified.stderr)
    assert.deepEqual(
      (await control.service.topology()).interfaces.find((i) => i.id === 'eni-web1')?.securityGroups,
      ['sg-db', 'sg-web'],
    )
    const enis = await aws(['describe-network-interfaces', '--filters', 'Name=group-id,Values=sg-db'])
    const found = (
      enis.json as {
        NetworkInterfaces: Array<{ NetworkInterfaceId: string; Groups: Array<{ GroupId: string }> }>
      }
    ).NetworkInterfaces
    assert.deepEqual(found.map((i) => i.NetworkInterfaceId).sort(), ['eni-db1', 'eni-web1'])
  })

  test('refused: a bad secret, an unknown key, CloudWatch Logs, a bad field, an action flowlog lacks; nothing changes', async (t) => {
    if (!requireBuilt(t, present, 'Debian awscli at /usr/bin/aws', 'apt-get install awscli')) return
    const before = await state()
    const create = ['create-security-group', '--group-name', 'x', '--description', 'x', '--vpc-id', 'vpc-0a1']
    const [badSecret, unknown, cloudWatch, badFormat, notHere] = await Promise.all([
      aws(create, { ...KEY, secretAccessKey: 'wrong' }),
      aws(create, { accessKeyId: 'AKIDSTRANGER0000', secretAccessKey: 'x' }),
      aws([
        'create-flow-logs',
        '--resource-type',
        'VPC',
        '--resource-ids',
        'vpc-0a1',
        '--traffic-type',
        'ALL',
      ]),
      aws([
        'create-flow-logs',
        '--resource-type',
        'VPC',
        '--resource-ids',
        'vpc-0a1',
        '--traffic-type',
        'ALL',
        '--log-destination-type',
        's3',
        '--log-destination',
        'arn:aws:s3:::flowlog-e2e-bucket',
        '--log-format',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: AWS's ${field} syntax
        '${srcaddr} ${dstadr}',
      ]),
      aws(['describe-instances']),
    ])
    assert.equal(badSecret.code, 254)
    assert.equal(errorOf(badSecret), 'SignatureDoesNotMatch')
    assert.equal(errorOf(unknown), 'AuthFailure')
    assert.equal(errorOf(cloudWatch), 'InvalidParameterValue')
    assert.match(
      cloudWatch.stderr,
      /cloud-watch-logs \(the default when LogDestinationType is absent\) is not supported/,
    )
    assert.equal(errorOf(badFormat), 'InvalidParameterValue')
    assert.equal(errorOf(notHere), 'InvalidAction')
    assert.match(badFormat.stderr, /dstadr is not a field.*did you mean "dstaddr"/)
    assert.equal(await state(), before)
  })
})
