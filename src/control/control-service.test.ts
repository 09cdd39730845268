import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ControlError } from './control-error.js'
import type { RuleDraft } from './control-plane.js'
import { openTestControl, type TestControl, testDraft } from './test-kit.js'

// biome-ignore lint/suspicious/noTemplateCurlyInString: AWS LogFormat
const TYPO_FORMAT = '${srcaddr} ${srcadr}'
const AWS_ID = (prefix: string) => new RegExp(`^${prefix}-[0-9a-f]{17}$`)

/** Asserts fn rejects with a ControlError of `code` whose message matches `message`. */
async function rejectsWith(fn: () => Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(fn, (error: unknown) => {
    assert.ok(error instanceof ControlError, `not a ControlError: ${String(error)}`)
    assert.equal(error.code, code, error.message)
    if (message !== undefined) assert.match(error.message, message)
    return true
  })
}

function rule(overrides: Partial<RuleDraft> = {}): RuleDraft {
  return {
    protocol: 'tcp',
    ports: '8080',
    icmpType: -1,
    icmpCode: -1,
    peer: '203.0.113.0/24',
    description: null,
    ...overrides,
  }
}

async function withControl(fn: (c: TestControl) => Promise<void>): Promise<void> {
  const control = await openTestControl()
  try {
    await fn(control)
  } finally {
    await control.close()
  }
}

describe('ControlService: flow logs', () => {
  test('creates one flow log per resource, with AWS ids, and the daemon runs it', () =>
    withControl(async ({ service }) => {
      const result = await service.createFlowLogs({
        resourceIds: ['subnet-0a1', 'eni-db1'],
        draft: testDraft({
          resourceType: 'Subnet',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: AWS LogFormat
          logFormat: '${version} ${interface-id} ${srcaddr} ${action}',
          tags: { Name: 'web' },
        }),
        clientToken: null,
        dryRun: false,
      })
      // eni-db1 is an interface, not a subnet: AWS answers per resource.
      assert.equal(result.flowLogs.length, 1)
      assert.deepEqual(
        result.unsuccessful.map((u) => [u.resourceId, u.code]),
        [['eni-db1', 'InvalidSubnetID.NotFound']],
      )
      const created = result.flowLogs[0]
      assert.ok(created !== undefined)
      assert.match(created.spec.id, AWS_ID('fl'))
      assert.deepEqual(created.spec.fields, ['version', 'interface-id', 'srcaddr', 'action'])
      assert.equal(created.spec.destination, 's3://flowlog-test-bucket/logs')
      assert.deepEqual(created.tags, { Name: 'web' })
      const network = await service.effectiveNetwork()
      assert.deepEqual(
        network.flowLogs.map((f) => f.id),
        ['fl-config', created.spec.id].sort(),
      )
      assert.deepEqual(
        (await service.coveredInterfaces(created.spec.id)).map((i) => i.id),
        ['eni-web1'],
      )
      assert.deepEqual(
        (await service.coveredInterfaces('fl-config')).map((i) => i.id),
        ['eni-web1', 'eni-db1'],
      )
    }))

  test('an unknown resource of each type fails alone with its NotFound code', () =>
    withControl(async ({ service }) => {
      for (const [resourceType, code] of [
        ['VPC', 'InvalidVpcID.NotFound'],
        ['Subnet', 'InvalidSubnetID.NotFound'],
        ['NetworkInterface', 'InvalidNetworkInterfaceID.NotFound'],
      ] as const) {
        const result = await service.createFlowLogs({
          resourceIds: ['nowhere-1'],
          draft: testDraft({ resourceType }),
          clientToken: null,
          dryRun: false,
        })
        assert.deepEqual(result.flowLogs, [])
        assert.equal(result.unsuccessful[0]?.code, code)
      }
    }))

  test('a second flow log with the same traffic type and destination is FlowLogAlreadyExists', () =>
    withControl(async ({ service }) => {
      const request = { resourceIds: ['vpc-0b1'], draft: testDraft(), clientToken: null, dryRun: false }
      const first = await service.createFlowLogs(request)
      assert.equal(first.flowLogs.length, 1)
      const again = await service.createFlowLogs(request)
      assert.deepEqual(again.flowLogs, [])
      assert.equal(again.unsuccessful[0]?.code, 'FlowLogAlreadyExists')
      assert.match(again.unsuccessful[0]?.message ?? '', new RegExp(first.flowLogs[0]?.spec.id ?? 'x'))
      // Another traffic type is another flow log.
      const reject = await service.createFlowLogs({ ...request, draft: testDraft({ trafficType: 'REJECT' }) })
      assert.equal(reject.flowLogs.length, 1)
    }))

  test('the config rules judge the draft; the message names the parameter, the value and the rule', () =>
    withControl(async ({ service }) => {
      const create = (overrides: Parameters<typeof testDraft>[0]) =>
        service.createFlowLogs({
          resourceIds: ['vpc-0a1'],
          draft: testDraft(overrides),
          clientToken: null,
          dryRun: false,
        })
      await rejectsWith(
        () => create({ logFormat: TYPO_FORMAT }),
        'InvalidParameterValue',
        /logFormat: "srcadr" is not a field of fileFormat text.*did you mean "srcaddr"/,
      )
      await rejectsWith(
        () => create({ aggregationInterval: 901 }),
        'InvalidParameterValue',
        /aggregationInterval: 901 is not a whole number of seconds from 1 to 900/,
      )
      await rejectsWith(
        () => create({ destination: 's3://UPPER' }),
        'InvalidParameterValue',
        /destination: "s3:\/\/UPPER" is not a destination/,
      )
      await rejectsWith(
        () => create({ fileNameTemplate: '#{logger_id}' }),
        'InvalidParameterValue',
        /fileNameTemplate: "#\{logger_id\}" is not a file name template/,
      )
      await rejectsWith(
        () => create({ fileFormat: 'nhn-csv', fields: ['vm_id', 'srcaddr'] }),
        'InvalidParameterValue',
        /fields\[1\]: "srcaddr" is not a field of fileFormat nhn-csv/,
      )
      await rejectsWith(
        () => create({ tags: { 'aws:x': '1' } }),
        'InvalidParameterValue',
        /"aws:x" starts with "aws:"/,
      )
      await rejectsWith(
        () =>
          service.createFlowLogs({
            resourceIds: ['../etc'],
            draft: testDraft(),
            clientToken: null,
            dryRun: false,
          }),
        'InvalidParameterValue',
        /resourceIds\[0\]: "..\/etc" is not a valid id/,
      )
      assert.equal((await service.listFlowLogs()).length, 1)
    }))

  test('DryRun checks and answers DryRunOperation, creating nothing', () =>
    withControl(async ({ service }) => {
      await rejectsWith(
        () =>
          service.createFlowLogs({
            resourceIds: ['vpc-0b1'],
            draft: testDraft(),
            clientToken: null,
            dryRun: true,
          }),
        'DryRunOperation',
      )
      await rejectsWith(
        () =>
          service.createFlowLogs({
            resourceIds: ['vpc-0b1'],
            draft: testDraft({ aggregationInterval: 0 }),
            clientToken: null,
            dryRun: true,
          }),
        'InvalidParameterValue',
      )
      assert.deepEqual(
        (await service.listFlowLogs()).map((f) => f.spec.id),
        ['fl-config'],
      )
    }))

  test('a client token returns the first answer for the same request and refuses another', () =>
    withControl(async ({ service }) => {
      const request = { resourceIds: ['vpc-0b1'], draft: testDraft(), clientToken: 'token-1', dryRun: false }
      const first = await service.createFlowLogs(request)
      const repeat = await service.createFlowLogs({ ...request, draft: { ...testDraft() } })
      assert.deepEqual(repeat, first)
      assert.equal((await service.listFlowLogs()).length, 2)
      await rejectsWith(
        () => service.createFlowLogs({ ...request, draft: testDraft({ trafficType: 'ACCEPT' }) }),
        'IdempotentParameterMismatch',
        /clientToken/,
      )
      await rejectsWith(
        () => service.createFlowLogs({ ...request, clientToken: 'x'.repeat(65) }),
        'InvalidParameterValue',
        /clientToken/,
      )
    }))

  test('a client token is forgotten after a week, and may name a new request then', async () => {
    let now = new Date('2026-01-01T00:00:00Z')
    const control = await openTestControl({ now: () => now })
    try {
      const request = { resourceIds: ['vpc-0b1'], draft: testDraft(), clientToken: 'weekly', dryRun: false }
      const first = await control.service.createFlowLogs(request)
      now = new Date('2026-01-07T23:00:00Z')
      assert.deepEqual(await control.service.createFlowLogs(request), first)
      now = new Date('2026-01-08T01:00:00Z')
      const later = await control.service.createFlowLogs({
        ...request,
        draft: testDraft({ trafficType: 'REJECT' }),
      })
      assert.equal(later.flowLogs.length, 1)
      assert.notEqual(later.flowLogs[0]?.spec.id, first.flowLogs[0]?.spec.id)
      assert.equal(later.flowLogs[0]?.createdAt, '2026-01-08T01:00:00.000Z')
      const tokens = await control.store.read((r) => r.list('client-token'))
      assert.equal(tokens.length, 1)
    } finally {
      await control.close()
    }
  })

  test('get, update (name, description, pause) and delete; unknown ids are reported', () =>
    withControl(async ({ service }) => {
      await rejectsWith(() => service.getFlowLog('fl-00000000000000000'), 'InvalidFlowLogId.NotFound')
      await rejectsWith(() => service.getFlowLog('fl/..'), 'InvalidFlowLogId.Malformed')
      const paused = await service.updateFlowLog('fl-config', { name: 'web logs', enabled: false })
      assert.equal(paused.name, 'web logs')
      assert.equal(paused.enabled, false)
      assert.deepEqual((await service.effectiveNetwork()).flowLogs, [])
      const resumed = await service.updateFlowLog('fl-config', {
        enabled: true,
        description: 'all of vpc-0a1',
      })
      assert.equal(resumed.name, 'web logs')
      assert.equal(resumed.description, 'all of vpc-0a1')
      assert.equal((await service.effectiveNetwork()).flowLogs.length, 1)
      await rejectsWith(
        () => service.updateFlowLog('fl-config', { name: 'x'.repeat(256) }),
        'InvalidParameterValue',
        /name/,
      )
      const gone = await service.deleteFlowLogs(['fl-config', 'fl-00000000000000000'])
      assert.deepEqual(gone.deleted, ['fl-config'])
      assert.deepEqual(
        gone.unsuccessful.map((u) => [u.resourceId, u.code]),
        [['fl-00000000000000000', 'InvalidFlowLogId.NotFound']],
      )
      assert.deepEqual(await service.listFlowLogs(), [])
    }))

  test('delivery status comes from the daemon, for existing flow logs only', async () => {
    const control = await openTestControl({
      deliveryStatus: (id) => ({
        status: 'FAILED',
        error: `bucket gone for ${id}`,
        lastFile: null,
        lastFileAt: null,
        spooled: 3,
      }),
    })
    try {
      assert.deepEqual(await control.service.deliveryStatus('fl-config'), {
        status: 'FAILED',
        error: 'bucket gone for fl-config',
        lastFile: null,
        lastFileAt: null,
        spooled: 3,
      })
      await rejectsWith(
        () => control.service.deliveryStatus('fl-00000000000000000'),
        'InvalidFlowLogId.NotFound',
      )
    } finally {
      await control.close()
    }
  })
})

describe('ControlService: tags', () => {
  test('tags flow logs and groups; an unknown id tags nothing', () =>
    withControl(async ({ service }) => {
      await service.createTags(['fl-config', 'sg-web'], { team: 'net', env: 'prod' })
      assert.deepEqual((await service.getFlowLog('fl-config')).tags, { team: 'net', env: 'prod' })
      assert.deepEqual((await service.getSecurityGroup('sg-web')).tags, { team: 'net', env: 'prod' })
      await rejectsWith(
        () => service.createTags(['sg-db', 'fl-00000000000000000'], { x: '1' }),
        'InvalidFlowLogId.NotFound',
      )
      await rejectsWith(
        () => service.createTags(['sg-db', 'sg-00000000000000000'], { x: '1' }),
        'InvalidGroup.NotFound',
      )
      await rejectsWith(() => service.createTags(['sg-db', 'vol-1'], { x: '1' }), 'InvalidID')
      assert.deepEqual((await service.getSecurityGroup('sg-db')).tags, {})
      await service.deleteTags(['fl-config'], [{ key: 'team', value: 'other' }, { key: 'env' }])
      assert.deepEqual((await service.getFlowLog('fl-config')).tags, { team: 'net' })
      const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']))
      await rejectsWith(() => service.createTags(['fl-config'], many), 'TagLimitExceeded')
    }))
})

describe('ControlService: security groups', () => {
  test('creates a group with an sg- id and AWS default egress; names are unique per VPC', () =>
    withControl(async ({ service }) => {
      const group = await service.createSecurityGroup({
        name: 'api',
        description: 'api tier',
        vpc: 'vpc-0a1',
        tags: {},
        dryRun: false,
      })
      assert.match(group.group.id, AWS_ID('sg'))
      assert.deepEqual(
        group.group.outbound.map((r) => [r.protocol, r.peer]),
        [
          ['all', '0.0.0.0/0'],
          ['all', '::/0'],
        ],
      )
      assert.match(group.group.outbound[0]?.id ?? '', AWS_ID('sgr'))
      await rejectsWith(
        () =>
          service.createSecurityGroup({
            name: 'api',
            description: '',
            vpc: 'vpc-0a1',
            tags: {},
            dryRun: false,
          }),
        'InvalidGroup.Duplicate',
        /"api" is already the name of/,
      )
      // Another VPC may reuse the name.
      await service.createSecurityGroup({
        name: 'api',
        description: '',
        vpc: 'vpc-0b1',
        tags: {},
        dryRun: false,
      })
      await rejectsWith(
        () =>
          service.createSecurityGroup({
            name: 'x',
            description: '',
            vpc: 'vpc-404',
            tags: {},
            dryRun: false,
          }),
        'InvalidVpcID.NotFound',
      )
      await rejectsWith(
        () => service.createSecurityGroup({ name: 'x', description: '', vpc: null, tags: {}, dryRun: false }),
        'VPCIdNotSpecified',
      )
      await rejectsWith(
        () =>
          service.createSecurityGroup({
            name: 'sg-x',
            description: '',
            vpc: 'vpc-0a1',
            tags: {},
            dryRun: false,
          }),
        'InvalidParameterValue',
        /groupName: "sg-x" starts with "sg-"/,
      )
      await rejectsWith(
        () =>
          service.createSecurityGroup({
            name: 'dry',
            description: '',
            vpc: 'vpc-0a1',
            tags: {},
            dryRun: true,
          }),
        'DryRunOperation',
      )
      assert.equal((await service.listSecurityGroups()).length, 5)
    }))

  test('authorize adds rules with sgr- ids that the daemon runs; a duplicate adds nothing', () =>
    withControl(async ({ service }) => {
      const added = await service.authorize('sg-web', 'inbound', [
        rule(),
        rule({ protocol: 'icmp', ports: null, icmpType: 8, peer: '198.51.100.0/24' }),
      ])
      assert.equal(added.length, 2)
      for (const r of added) assert.match(r.id, AWS_ID('sgr'))
      const web = (await service.effectiveNetwork()).securityGroups.find((g) => g.id === 'sg-web')
      assert.deepEqual(
        web?.inbound.map((r) => r.id),
        ['sgr-web-http', 'sgr-web-ssh', ...added.map((r) => r.id)],
      )
      // The same rule spelled otherwise (protocol number, host bits in the CIDR) is the same rule.
      await rejectsWith(
        () =>
          service.authorize('sg-web', 'inbound', [
            rule({ ports: '9090' }),
            rule({ protocol: 6, peer: '203.0.113.7/24' }),
          ]),
        'InvalidPermission.Duplicate',
        /inbound rule \(tcp ports 8080, 203.0.113.0\/24\) already exists in sg-web/,
      )
      await rejectsWith(
        () => service.authorize('sg-web', 'inbound', [rule({ ports: '1' }), rule({ ports: '1' })]),
        'InvalidPermission.Duplicate',
      )
      assert.equal((await service.getSecurityGroup('sg-web')).group.inbound.length, 4)
      await rejectsWith(
        () => service.authorize('sg-web', 'inbound', [rule({ ports: '70000' })]),
        'InvalidParameterValue',
        /ipPermissions\[0\]\.ports: "70000" is not a port range/,
      )
      await rejectsWith(
        () => service.authorize('sg-web', 'inbound', [rule({ peer: 'sg-nowhere' })]),
        'InvalidGroup.NotFound',
      )
      await rejectsWith(
        () => service.authorize('sg-00000000000000000', 'outbound', [rule()]),
        'InvalidGroup.NotFound',
      )
      await rejectsWith(
        () => service.authorize('sg-web', 'inbound', [rule({ protocol: 'icmp', ports: null, icmpCode: 3 })]),
        'InvalidParameterValue',
        /icmpCode: 3 requires an icmpType/,
      )
      const many = Array.from({ length: 57 }, (_, i) => rule({ ports: String(10000 + i) }))
      await rejectsWith(
        () => service.authorize('sg-web', 'inbound', many),
        'RulesPerSecurityGroupLimitExceeded',
      )
    }))

  test('revoke by match or by id; one missing rule removes nothing', () =>
    withControl(async ({ service }) => {
      const [added] = await service.authorize('sg-web', 'inbound', [rule()])
      assert.ok(added !== undefined)
      await rejectsWith(
        () => service.revoke('sg-web', 'inbound', { rules: [rule(), rule({ ports: '1' })] }),
        'InvalidPermission.NotFound',
      )
      await rejectsWith(
        () => service.revoke('sg-web', 'inbound', { ruleIds: [added.id, 'sgr-00000000000000000'] }),
        'InvalidSecurityGroupRuleId.NotFound',
      )
      assert.equal((await service.getSecurityGroup('sg-web')).group.inbound.length, 3)
      const removed = await service.revoke('sg-web', 'inbound', {
        rules: [rule({ protocol: '6' })],
        ruleIds: ['sgr-web-ssh'],
      })
      assert.deepEqual(removed.map((r) => r.id).sort(), [added.id, 'sgr-web-ssh'].sort())
      assert.deepEqual(
        (await service.getSecurityGroup('sg-web')).group.inbound.map((r) => r.id),
        ['sgr-web-http'],
      )
      await rejectsWith(() => service.revoke('sg-web', 'outbound', {}), 'MissingParameter')
    }))

  test('a group in use or referenced cannot be deleted (DependencyViolation) until it is free', () =>
    withControl(async ({ service }) => {
      await rejectsWith(
        () => service.deleteSecurityGroup('sg-db'),
        'DependencyViolation',
        /interface eni-db1/,
      )
      await rejectsWith(
        () => service.deleteSecurityGroup('sg-web'),
        'DependencyViolation',
        /interface eni-web1/,
      )
      const spare = await service.createSecurityGroup({
        name: 'spare',
        description: '',
        vpc: 'vpc-0a1',
        tags: {},
        dryRun: false,
      })
      await service.setInterfaceGroups('eni-web1', [spare.group.id])
      // eni-web1 no longer uses sg-web, but sg-db's rule still names it.
      await rejectsWith(
        () => service.deleteSecurityGroup('sg-web'),
        'DependencyViolation',
        /rule sgr-db-pg of sg-db/,
      )
      await service.revoke('sg-db', 'inbound', { ruleIds: ['sgr-db-pg'] })
      await service.deleteSecurityGroup('sg-web')
      await rejectsWith(() => service.getSecurityGroup('sg-web'), 'InvalidGroup.NotFound')
      await rejectsWith(() => service.deleteSecurityGroup('sg-web'), 'InvalidGroup.NotFound')
      await rejectsWith(() => service.deleteSecurityGroup('sg web'), 'InvalidGroupId.Malformed')
      const topology = await service.topology()
      assert.deepEqual(topology.interfaces.find((i) => i.id === 'eni-web1')?.securityGroups, [spare.group.id])
    }))

  test("an interface's groups: must exist, in its VPC, 1-5, each once", () =>
    withControl(async ({ service }) => {
      await rejectsWith(
        () => service.setInterfaceGroups('eni-404', ['sg-web']),
        'InvalidNetworkInterfaceID.NotFound',
      )
      await rejectsWith(() => service.setInterfaceGroups('eni-web1', ['sg-404']), 'InvalidGroup.NotFound')
      await rejectsWith(
        () => service.setInterfaceGroups('eni-web1', ['sg-other']),
        'InvalidGroup.NotFound',
        /belongs to vpc-0b1/,
      )
      await rejectsWith(() => service.setInterfaceGroups('eni-web1', []), 'MissingParameter')
      await rejectsWith(
        () => service.setInterfaceGroups('eni-web1', ['sg-web', 'sg-web']),
        'InvalidParameterValue',
      )
      await service.setInterfaceGroups('eni-web1', ['sg-web', 'sg-db'])
      const network = await service.effectiveNetwork()
      assert.deepEqual(network.interfaces.find((i) => i.id === 'eni-web1')?.securityGroups, [
        'sg-web',
        'sg-db',
      ])
    }))
})
