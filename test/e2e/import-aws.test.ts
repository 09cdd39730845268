import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { AWS_CLI, awsCliPrints } from '../support/aws-cli-ec2.js'
import { runFlowlog } from '../support/cli.js'
import { requireCommands } from '../support/requirements.js'

/**
 * `flowlog import aws` on what awscli itself prints (test/support/aws-cli-ec2.ts: Debian's awscli
 * against a loopback endpoint, botocore's model for the shapes), then audit, what-if and detect on
 * AWS flow logs of the default (v2) format that name the imported interfaces.
 */
const ACCOUNT = '111122223333'
const SECURITY_GROUPS = {
  SecurityGroups: [
    {
      GroupId: 'sg-0web',
      GroupName: 'web',
      Description: 'public web tier',
      OwnerId: ACCOUNT,
      VpcId: 'vpc-0main',
      IpPermissions: [
        {
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'public HTTPS' }],
          Ipv6Ranges: [{ CidrIpv6: '::/0' }],
          PrefixListIds: [],
          UserIdGroupPairs: [],
        },
        {
          IpProtocol: 'tcp',
          FromPort: 22,
          ToPort: 22,
          IpRanges: [{ CidrIp: '192.0.2.0/24', Description: 'office' }],
          Ipv6Ranges: [],
          PrefixListIds: [{ PrefixListId: 'pl-0office', Description: 'vpn' }],
          UserIdGroupPairs: [],
        },
        {
          IpProtocol: 'icmp',
          FromPort: 8,
          ToPort: -1,
          IpRanges: [{ CidrIp: '192.0.2.0/24' }],
          Ipv6Ranges: [],
          PrefixListIds: [],
          UserIdGroupPairs: [],
        },
      ],
      IpPermissionsEgress: [
        {
          IpProtocol: '-1',
          IpRanges: [{ CidrIp: '0.0.0.0/0' }],
          Ipv6Ranges: [],
          PrefixListIds: [],
          UserIdGroupPairs: [],
        },
      ],
      Tags: [{ Key: 'Name', Value: 'web' }],
    },
    {
      GroupId: 'sg-0db',
      GroupName: 'db',
      Description: 'database',
      OwnerId: ACCOUNT,
      VpcId: 'vpc-0main',
      IpPermissions: [
        {
          IpProtocol: 'tcp',
          FromPort: 5432,
          ToPort: 5432,
          IpRanges: [],
          Ipv6Ranges: [],
          PrefixListIds: [],
          UserIdGroupPairs: [{ GroupId: 'sg-0web', UserId: ACCOUNT, Description: 'from web' }],
        },
        {
          IpProtocol: '6',
          FromPort: 0,
          ToPort: 65535,
          IpRanges: [],
          Ipv6Ranges: [],
          PrefixListIds: [],
          UserIdGroupPairs: [
            { GroupId: 'sg-0peer', UserId: '444455556666', VpcPeeringConnectionId: 'pcx-1' },
          ],
        },
      ],
      IpPermissionsEgress: [
        {
          IpProtocol: '-1',
          IpRanges: [{ CidrIp: '10.0.0.0/16' }],
          Ipv6Ranges: [],
          PrefixListIds: [],
          UserIdGroupPairs: [],
        },
      ],
    },
  ],
}

const eni = (
  id: string,
  ip: string,
  subnet: string,
  groups: string[],
  extra: Record<string, unknown> = {},
) => ({
  AvailabilityZone: subnet === 'subnet-0pub' ? 'us-east-1a' : 'us-east-1b',
  Description: '',
  Groups: groups.map((g) => ({ GroupName: g.slice(4), GroupId: g })),
  InterfaceType: 'interface',
  Ipv6Addresses: [],
  MacAddress: '02:00:00:00:00:01',
  NetworkInterfaceId: id,
  OwnerId: ACCOUNT,
  PrivateDnsName: `ip-${ip.replaceAll('.', '-')}.ec2.internal`,
  PrivateIpAddress: ip,
  PrivateIpAddresses: [{ Primary: true, PrivateDnsName: 'x.ec2.internal', PrivateIpAddress: ip }],
  RequesterManaged: false,
  SourceDestCheck: true,
  Status: 'in-use',
  SubnetId: subnet,
  TagSet: [],
  VpcId: 'vpc-0main',
  ...extra,
})

const INTERFACES = {
  NetworkInterfaces: [
    eni('eni-0web', '10.0.1.10', 'subnet-0pub', ['sg-0web'], {
      Attachment: {
        AttachTime: '2024-05-01T10:00:00+00:00',
        AttachmentId: 'eni-attach-1',
        DeleteOnTermination: true,
        DeviceIndex: 0,
        NetworkCardIndex: 0,
        InstanceId: 'i-0web',
        InstanceOwnerId: ACCOUNT,
        Status: 'attached',
      },
      PrivateIpAddresses: [
        {
          Primary: true,
          PrivateIpAddress: '10.0.1.10',
          Association: { PublicIp: '54.0.0.10', IpOwnerId: 'amazon' },
        },
        { Primary: false, PrivateIpAddress: '10.0.1.11' },
      ],
    }),
    eni('eni-0db', '10.0.2.20', 'subnet-0priv', ['sg-0db'], { MacAddress: '02:00:00:00:00:02' }),
    eni('eni-0nat', '10.0.1.99', 'subnet-0pub', [], {
      InterfaceType: 'natGateway',
      MacAddress: '02:00:00:00:00:03',
      RequesterManaged: true,
    }),
  ],
}

const VPCS = {
  Vpcs: [
    {
      CidrBlock: '10.0.0.0/16',
      DhcpOptionsId: 'dopt-1',
      State: 'available',
      VpcId: 'vpc-0main',
      OwnerId: ACCOUNT,
      InstanceTenancy: 'default',
      CidrBlockAssociationSet: [
        {
          AssociationId: 'vpc-cidr-assoc-1',
          CidrBlock: '10.0.0.0/16',
          CidrBlockState: { State: 'associated' },
        },
      ],
      IsDefault: false,
    },
  ],
}

const SUBNETS = {
  Subnets: [
    ['subnet-0pub', '10.0.1.0/24', 'us-east-1a', 'use1-az1'],
    ['subnet-0priv', '10.0.2.0/24', 'us-east-1b', 'use1-az2'],
  ].map(([id, cidr, zone, zoneId]) => ({
    AvailabilityZone: zone,
    AvailabilityZoneId: zoneId,
    AvailableIpAddressCount: 250,
    CidrBlock: cidr,
    DefaultForAz: false,
    MapPublicIpOnLaunch: false,
    State: 'available',
    SubnetId: id,
    VpcId: 'vpc-0main',
    OwnerId: ACCOUNT,
    AssignIpv6AddressOnCreation: false,
    Ipv6CidrBlockAssociationSet: [],
    SubnetArn: `arn:aws:ec2:us-east-1:${ACCOUNT}:subnet/${id}`,
  })),
}

/** AWS's default format (v2), as a real flow log names the interfaces. */
const T = 1717232400
const line = (eni: string, src: string, dst: string, sp: number, dp: number, action: string, at: number) =>
  `2 ${ACCOUNT} ${eni} ${src} ${dst} ${sp} ${dp} 6 3 180 ${T + at} ${T + at + 30} ${action} OK`
const FLOW_LOG = [
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
  line('eni-0web', '203.0.113.5', '10.0.1.10', 50000, 443, 'ACCEPT', 0),
  line('eni-0web', '10.0.1.10', '203.0.113.5', 443, 50000, 'ACCEPT', 0),
  line('eni-0web', '192.0.2.9', '10.0.1.10', 50001, 22, 'ACCEPT', 5),
  line('eni-0web', '10.0.1.10', '192.0.2.9', 22, 50001, 'ACCEPT', 5),
  line('eni-0web', '10.0.1.10', '10.0.2.20', 40000, 5432, 'ACCEPT', 10),
  line('eni-0db', '10.0.1.10', '10.0.2.20', 40000, 5432, 'ACCEPT', 10),
  line('eni-0db', '10.0.2.20', '10.0.1.10', 5432, 40000, 'ACCEPT', 10),
  ...Array.from({ length: 30 }, (_, i) =>
    line('eni-0web', '198.51.100.66', '10.0.1.10', 41000 + i, 22, 'REJECT', 20 + i),
  ),
].join('\n')

const dir = mkdtempSync(join(tmpdir(), 'flowlog-e2e-import-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

describe('flowlog import aws', () => {
  test('from awscli output to a config that audit, what-if and detect use on AWS flow logs', async (t) => {
    if (!requireCommands(t, 'apt-get install awscli', AWS_CLI)) return
    const sg = file(
      'sg.json',
      await awsCliPrints('describe-security-groups', 'DescribeSecurityGroups', SECURITY_GROUPS),
    )
    const enis = file(
      'eni.json',
      await awsCliPrints('describe-network-interfaces', 'DescribeNetworkInterfaces', INTERFACES),
    )
    const vpcs = file('vpcs.json', await awsCliPrints('describe-vpcs', 'DescribeVpcs', VPCS))
    const subnets = file('subnets.json', await awsCliPrints('describe-subnets', 'DescribeSubnets', SUBNETS))
    const net = join(dir, 'net.yaml')
    const run = runFlowlog([
      'import',
      'aws',
      '--security-groups',
      sg,
      '--network-interfaces',
      enis,
      '--vpcs',
      vpcs,
      '--subnets',
      subnets,
      '-o',
      net,
    ])
    assert.equal(run.code, 0, run.stderr)
    // What a config cannot hold is said, not dropped silently.
    assert.match(run.stderr, /prefix list pl-0office is left out/)
    assert.match(run.stderr, /eni-0nat \(natGateway\) has no security groups/)
    assert.match(run.stderr, /sg-0peer .* is added without rules or members/)

    const validate = runFlowlog(['validate', '--config', net])
    assert.equal(validate.code, 0, validate.stderr)
    assert.match(validate.stdout, /1 VPC\(s\), 2 interface\(s\), 3 security group\(s\) with 8 rule\(s\)/)
    const yaml = readFileSync(net, 'utf8')
    assert.match(yaml, /account: "?111122223333"?/)
    assert.match(yaml, /region: us-east-1/)
    assert.match(yaml, /addresses: \[ 10\.0\.1\.10, 10\.0\.1\.11 \]/)
    assert.match(yaml, /az: use1-az1/)

    const logs = file('flows.log', `${FLOW_LOG}\n`)
    const audit = runFlowlog(['audit', '--config', net, '--format', 'json', '--no-summary', logs])
    assert.equal(audit.code, 0, audit.stderr)
    const rules = (
      JSON.parse(audit.stdout) as {
        rules: { id: string; status: string; usage: { records: number } | null }[]
      }
    ).rules
    const status = Object.fromEntries(rules.map((r) => [r.id, r.status]))
    assert.equal(status['sg-0web-in-1'], 'used', '443 from anywhere carried the visitor')
    assert.equal(status['sg-0web-in-3'], 'used', 'ssh from the office')
    assert.equal(status['sg-0db-in-1'], 'used', '5432 from sg-0web carried the web tier')
    assert.equal(status['sg-0web-in-2'], 'unused', '443 over IPv6 carried nothing')

    // Without the ssh rule, the office session would be rejected.
    const proposed = file(
      'proposed.yaml',
      `securityGroups:\n  - id: sg-0web\n    vpc: vpc-0main\n    inbound:\n      - { id: sg-0web-in-1, protocol: tcp, ports: "443", source: 0.0.0.0/0 }\n    outbound:\n      - { protocol: all, destination: 0.0.0.0/0 }\n`,
    )
    const whatIf = runFlowlog([
      'what-if',
      '--config',
      net,
      '--groups',
      proposed,
      '--format',
      'json',
      '--no-summary',
      logs,
    ])
    assert.equal(whatIf.code, 0, whatIf.stderr)
    const changed = JSON.parse(whatIf.stdout) as { changedRecords: number }
    assert.ok(changed.changedRecords >= 1, whatIf.stdout)

    const detect = runFlowlog(['detect', '--config', net, '--format', 'json', '--no-summary', logs])
    assert.equal(detect.code, 0, detect.stderr)
    const findings = (JSON.parse(detect.stdout) as { findings: { detection: string; source: string }[] })
      .findings
    assert.ok(
      findings.some((f) => f.detection === 'ssh-brute-force' && f.source === '198.51.100.66'),
      detect.stdout,
    )
  })

  test('without --vpcs and --subnets the interfaces stand in, and it says so', () => {
    const sg = file('sg2.json', JSON.stringify(SECURITY_GROUPS))
    const enis = file('eni2.json', JSON.stringify(INTERFACES))
    const run = runFlowlog(['import', 'aws', '--security-groups', sg, '--network-interfaces', enis])
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stderr, /not described \(--subnets\)/)
    const net = file('net2.yaml', run.stdout)
    assert.equal(runFlowlog(['validate', '--config', net]).code, 0)
  })

  test('input that is not awscli output names the file, the path and the rule', () => {
    const sg = file(
      'bad-sg.json',
      JSON.stringify({ SecurityGroups: [{ GroupId: 'sg-1', IpPermissions: [{ IpProtocol: 'tcpp' }] }] }),
    )
    const enis = file('eni3.json', JSON.stringify(INTERFACES))
    const run = runFlowlog(['import', 'aws', '--security-groups', sg, '--network-interfaces', enis])
    assert.equal(run.code, 1)
    assert.match(
      run.stderr,
      /bad-sg\.json: SecurityGroups\[0\]\.IpPermissions\[0\]\.IpProtocol: "tcpp" is not a protocol/,
    )
    const wrong = runFlowlog(['import', 'aws', '--security-groups', enis, '--network-interfaces', enis])
    assert.equal(wrong.code, 1)
    assert.match(wrong.stderr, /SecurityGroups: .* is not there/)
  })
})
