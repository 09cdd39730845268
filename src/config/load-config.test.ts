// biome-ignore-all lint/suspicious/noTemplateCurlyInString: AWS's ${field} format syntax appears in configs
// biome-ignore-all lint/suspicious/noExplicitAny: tests edit loosely-typed config documents
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { stringify } from 'yaml'
import { repoPath } from '../../test/support/paths.js'
import { InputError } from '../core/errors.js'
import type { NetworkConfig } from '../core/network.js'
import { DEFAULT_JSONL_FIELDS, DEFAULT_NHN_FIELDS } from './fields.js'
import { loadConfig, parseConfig } from './load-config.js'

/** A valid config in the DESIGN 4 shape, as a user would write it (defaults left out). */
function base(): Record<string, any> {
  return {
    account: '123456789012',
    region: 'kr1',
    vpcs: [
      {
        id: 'vpc-0a1',
        cidrs: ['10.0.0.0/16', '2001:db8:1::/56'],
        subnets: [
          { id: 'subnet-web', cidrs: ['10.0.1.0/24', '2001:db8:1:1::/64'], az: 'kr1-az1' },
          { id: 'subnet-db', cidrs: ['10.0.2.0/24'] },
        ],
      },
    ],
    securityGroups: [
      {
        id: 'sg-web',
        vpc: 'vpc-0a1',
        inbound: [
          { id: 'sgr-ssh', protocol: 'tcp', ports: '22', source: '203.0.113.0/24' },
          { protocol: 'tcp', ports: '80-443', source: '0.0.0.0/0' },
          { protocol: 'icmp', icmpType: 8, source: '10.0.0.0/8' },
          { protocol: 'all', source: 'sg-web' },
        ],
        outbound: [{ protocol: 'all', destination: '0.0.0.0/0' }],
      },
      {
        id: 'sg-db',
        inbound: [{ protocol: 'tcp', ports: 5432, source: 'sg-web', description: 'postgres from web' }],
      },
    ],
    interfaces: [
      {
        id: 'eni-web1',
        instance: 'i-web1',
        subnet: 'subnet-web',
        mac: '02:00:0A:00:01:0A',
        addresses: ['10.0.1.10', '2001:DB8:1:1::10'],
        device: 'tap-web1',
        securityGroups: ['sg-web'],
      },
      { id: 'eni-web2', subnet: 'subnet-web', addresses: ['10.0.1.11'], securityGroups: ['sg-web'] },
      { id: 'eni-db', subnet: 'subnet-db', addresses: ['10.0.2.20'], securityGroups: ['sg-db'] },
    ],
    flowLogs: [{ id: 'fl-0001', resource: 'vpc-0a1', destination: 'file:///var/lib/flowlog/logs' }],
  }
}

/** The problems of a config changed by `edit`, read as JSON. */
function problemsOf(edit: (c: Record<string, any>) => void): readonly string[] {
  const config = base()
  edit(config)
  try {
    parseConfig(JSON.stringify(config), 'test.json')
  } catch (error) {
    assert.ok(error instanceof InputError, String(error))
    return error.problems
  }
  assert.fail('the config was accepted')
}

function valid(edit: (c: Record<string, any>) => void = () => {}): NetworkConfig {
  const config = base()
  edit(config)
  return parseConfig(JSON.stringify(config), 'test.json')
}

describe('a valid config', () => {
  test('YAML and JSON give the same config, with every default filled', () => {
    const fromYaml = parseConfig(stringify(base()), 'network.yaml')
    const fromJson = parseConfig(JSON.stringify(base(), null, 2), 'network.json')
    assert.deepEqual(fromYaml, fromJson)
    const c = fromJson
    assert.deepEqual(c.limits, { flowTableCapacity: 1_000_000, connectionTableCapacity: 1_000_000 })
    assert.deepEqual(c.vpcs[0]?.subnets[1], { id: 'subnet-db', cidrs: ['10.0.2.0/24'], az: null })
    assert.deepEqual(c.securityGroups[0]?.inbound[1], {
      id: 'sg-web-in-2',
      protocol: 'tcp',
      ports: '80-443',
      icmpType: -1,
      icmpCode: -1,
      peer: '0.0.0.0/0',
      description: null,
    })
    assert.deepEqual(c.securityGroups[0]?.inbound[2]?.icmpType, 8)
    assert.equal(c.securityGroups[0]?.outbound[0]?.id, 'sg-web-out-1')
    assert.deepEqual(c.securityGroups[1]?.inbound[0]?.ports, '5432')
    assert.equal(c.securityGroups[1]?.vpc, null)
    assert.deepEqual(c.interfaces[0], {
      id: 'eni-web1',
      instance: 'i-web1',
      subnet: 'subnet-web',
      mac: '02:00:0a:00:01:0a',
      addresses: ['10.0.1.10', '2001:db8:1:1::10'],
      device: 'tap-web1',
      securityGroups: ['sg-web'],
    })
    assert.deepEqual(c.interfaces[1], {
      id: 'eni-web2',
      instance: null,
      subnet: 'subnet-web',
      mac: null,
      addresses: ['10.0.1.11'],
      device: null,
      securityGroups: ['sg-web'],
    })
    assert.deepEqual(c.flowLogs[0], {
      id: 'fl-0001',
      resource: 'vpc-0a1',
      trafficType: 'ALL',
      aggregationInterval: 600,
      fields: [
        'version',
        'account-id',
        'interface-id',
        'srcaddr',
        'dstaddr',
        'srcport',
        'dstport',
        'protocol',
        'packets',
        'bytes',
        'start',
        'end',
        'action',
        'log-status',
      ],
      fileFormat: 'text',
      destination: 'file:///var/lib/flowlog/logs',
      layout: 'aws',
      perHourPartition: false,
      compression: 'gzip',
      fileNameTemplate: '#{logger_id}_#{year}-#{month}-#{day}T#{hour}:#{minute}:#{second}Z',
      platformTraffic: 'include',
    })
  })

  test('the DESIGN 4 example, comments and all, is valid YAML config', () => {
    const text = `
account: "123456789012"
region: kr1
vpcs:
  - id: vpc-0a1
    cidrs: [10.0.0.0/16]
    subnets:
      - { id: subnet-0a1, cidrs: [10.0.1.0/24], az: kr1-az1 }
securityGroups:
  - id: sg-web
    vpc: vpc-0a1
    inbound:
      - { id: sgr-ssh, protocol: tcp, ports: "22", source: 203.0.113.0/24 }
      - { protocol: icmp, icmpType: 8, source: 10.0.0.0/8 }   # icmpType/icmpCode: -1 or absent = any
      - { protocol: all, source: sg-web }                      # members of sg-web
    outbound:
      - { protocol: all, destination: 0.0.0.0/0 }
interfaces:
  - id: eni-web1
    subnet: subnet-0a1
    addresses: [10.0.1.10]        # IPv4 and IPv6
    securityGroups: [sg-web]
flowLogs:
  - id: fl-0001
    resource: vpc-0a1             # a VPC, subnet or interface id
    aggregationInterval: 60       # seconds, 1..900
    destination: s3://flow-logs/prod/
`
    const c = parseConfig(text, 'design.yaml')
    assert.equal(c.flowLogs[0]?.aggregationInterval, 60)
    assert.equal(c.flowLogs[0]?.destination, 's3://flow-logs/prod')
  })

  test('protocols normalise to names where AWS has them; ports only stay for tcp and udp', () => {
    const c = valid((c) => {
      c.securityGroups[1].inbound = [
        { protocol: 6, ports: '0022-22', source: '10.0.0.0/8' },
        { protocol: '17', source: '10.0.0.0/8' },
        { protocol: -1, ports: '80', source: '10.0.0.0/8' },
        { protocol: 'ICMPv6', icmpType: 128, icmpCode: 0, source: '::/0' },
        { protocol: 47, ports: '1-2', source: '10.0.0.0/8' },
        { protocol: 'icmp', ports: '99999', source: '10.0.0.0/8' },
      ]
    })
    assert.deepEqual(
      c.securityGroups[1]?.inbound.map((r) => [r.protocol, r.ports, r.icmpType, r.icmpCode]),
      [
        ['tcp', '22', -1, -1],
        ['udp', null, -1, -1],
        ['all', null, -1, -1],
        ['icmpv6', null, 128, 0],
        [47, null, -1, -1],
        ['icmp', null, -1, -1],
      ],
    )
  })

  test('CIDRs are canonical and a bare address in a rule is a host route', () => {
    const c = valid((c) => {
      c.vpcs[0].subnets[0].cidrs = ['10.0.1.7/24', '2001:db8:1:1:0:0:0:1/64']
      c.securityGroups[1].inbound[0].source = '198.51.100.7'
      c.securityGroups[1].inbound.push({ protocol: 'tcp', source: '2001:DB8::1' })
    })
    assert.deepEqual(c.vpcs[0]?.subnets[0]?.cidrs, ['10.0.1.0/24', '2001:db8:1:1::/64'])
    assert.equal(c.securityGroups[1]?.inbound[0]?.peer, '198.51.100.7/32')
    assert.equal(c.securityGroups[1]?.inbound[1]?.peer, '2001:db8::1/128')
  })

  test('field lists: nhn-csv and jsonl defaults, logFormat order kept', () => {
    const c = valid((c) => {
      c.flowLogs.push(
        {
          id: 'fl-nhn',
          resource: 'subnet-web',
          fileFormat: 'nhn-csv',
          layout: 'nhn',
          destination: 's3://logs',
        },
        { id: 'fl-json', resource: 'eni-db', fileFormat: 'jsonl', destination: 'file:///tmp/x/' },
        {
          id: 'fl-custom',
          resource: 'eni-web1',
          logFormat: '${interface-id}  ${srcaddr} ${rule-id} ${reject-reason-detail} ${flow-direction}',
          destination: 'file:///tmp/y',
        },
        {
          id: 'fl-pick',
          resource: 'eni-web1',
          fileFormat: 'nhn-csv',
          fields: ['src_addr', 'filter', 'rule-id'],
          destination: 's3://logs',
        },
      )
    })
    assert.deepEqual(c.flowLogs[1]?.fields, DEFAULT_NHN_FIELDS)
    assert.equal(c.flowLogs[1]?.fields.length, 18)
    assert.deepEqual(c.flowLogs[2]?.fields, DEFAULT_JSONL_FIELDS)
    assert.equal(c.flowLogs[2]?.destination, 'file:///tmp/x')
    assert.deepEqual(c.flowLogs[3]?.fields, [
      'interface-id',
      'srcaddr',
      'rule-id',
      'reject-reason-detail',
      'flow-direction',
    ])
    assert.deepEqual(c.flowLogs[4]?.fields, ['src_addr', 'filter', 'rule-id'])
  })

  test("an interface's host is kept when given and left out when not (this host)", () => {
    const c = valid((config) => {
      config.interfaces[0].host = 'hv-01.dc1'
      config.interfaces[1].host = null
    })
    assert.equal(c.interfaces[0]?.host, 'hv-01.dc1')
    assert.equal('host' in (c.interfaces[1] ?? {}), false)
    assert.equal('host' in (c.interfaces[2] ?? {}), false)
  })

  test('examples/two-tier.yaml is valid', () => {
    const c = loadConfig(repoPath('examples/two-tier.yaml'))
    assert.ok(c.interfaces.length >= 3)
    assert.ok(c.flowLogs.length >= 2)
  })
})

describe('every rule names path, value and rule', () => {
  const cases: [string, (c: Record<string, any>) => void, string[]][] = [
    [
      'port range',
      (c) => {
        c.securityGroups[1].inbound[0].ports = '99999'
      },
      ['securityGroups[1].inbound[0].ports: "99999" is not a port range 0-65535'],
    ],
    [
      'reversed port range',
      (c) => {
        c.securityGroups[0].inbound[1].ports = '443-80'
      },
      ['securityGroups[0].inbound[1].ports: "443-80" is not a port range 0-65535'],
    ],
    [
      'aggregation interval',
      (c) => {
        c.flowLogs[0].aggregationInterval = 1000
      },
      ['flowLogs[0].aggregationInterval: 1000 is not a whole number of seconds from 1 to 900'],
    ],
    [
      'aggregation interval, fraction and string',
      (c) => {
        c.flowLogs[0].aggregationInterval = 1.5
        c.flowLogs.push({
          id: 'fl-2',
          resource: 'vpc-0a1',
          aggregationInterval: '60',
          destination: 's3://logs',
        })
      },
      [
        'flowLogs[0].aggregationInterval: 1.5 is not a whole number of seconds from 1 to 900',
        'flowLogs[1].aggregationInterval: "60" is not a whole number of seconds from 1 to 900',
      ],
    ],
    [
      'group of an interface',
      (c) => {
        c.interfaces[2].securityGroups = ['sg-x']
      },
      ['interfaces[2].securityGroups[0]: "sg-x" is not a security group defined in securityGroups'],
    ],
    [
      'group listed twice',
      (c) => {
        c.interfaces[2].securityGroups = ['sg-db', 'sg-db']
      },
      ['interfaces[2].securityGroups[1]: "sg-db" is listed twice'],
    ],
    [
      'group reference in a rule',
      (c) => {
        c.securityGroups[1].inbound[0].source = 'sg-nope'
      },
      ['securityGroups[1].inbound[0].source: "sg-nope" is not a security group defined in securityGroups'],
    ],
    [
      'unknown key, with the closest known one',
      (c) => {
        c.vpcs[0].subnet = []
        c.flowLogs[0].intervall = 60
      },
      [
        'vpcs[0].subnet: unknown key (did you mean "subnets"?)',
        'flowLogs[0].intervall: unknown key (known keys: id, resource, trafficType, aggregationInterval, logFormat, fields, fileFormat, destination, layout, perHourPartition, compression, fileNameTemplate, platformTraffic)',
      ],
    ],
    [
      'source in an outbound rule',
      (c) => {
        c.securityGroups[0].outbound[0] = { protocol: 'all', source: '0.0.0.0/0' }
      },
      [
        'securityGroups[0].outbound[0].destination: is required',
        'securityGroups[0].outbound[0].source: unknown key (outbound rules take "destination")',
      ],
    ],
    [
      'missing required keys',
      (c) => {
        delete c.region
        delete c.flowLogs[0].destination
      },
      ['region: is required', 'flowLogs[0].destination: is required'],
    ],
    [
      'account written as a YAML number',
      (c) => {
        c.account = 12345
      },
      ['account: 12345 is not a string (quote it)'],
    ],
    [
      'unsafe ids',
      (c) => {
        c.flowLogs[0].id = '../../etc'
        c.region = 'kr 1'
      },
      [
        'region: "kr 1" is not a valid id (1-128 letters, digits, ".", "_" or "-", starting with a letter or digit)',
        'flowLogs[0].id: "../../etc" is not a valid id (1-128 letters, digits, ".", "_" or "-", starting with a letter or digit)',
      ],
    ],
    [
      'duplicate ids of each kind',
      (c) => {
        c.vpcs.push({ id: 'vpc-0a1', cidrs: ['10.1.0.0/16'] })
        c.interfaces[1].id = 'subnet-db'
        c.securityGroups[1].id = 'sg-web'
        c.flowLogs.push({ ...c.flowLogs[0] })
      },
      [
        'vpcs[1].id: "vpc-0a1" is already the id of vpcs[0]',
        'securityGroups[1].id: "sg-web" is already the id of securityGroups[0]',
        'interfaces[1].id: "subnet-db" is already the id of vpcs[0].subnets[1]',
        // sg-db is gone: its group was renamed.
        'interfaces[2].securityGroups[0]: "sg-db" is not a security group defined in securityGroups',
        'flowLogs[1].id: "fl-0001" is already the id of flowLogs[0]',
      ],
    ],
    [
      'a rule id that collides with a default one',
      (c) => {
        c.securityGroups[1].inbound[0].id = 'sg-web-in-2'
      },
      ['securityGroups[1].inbound[0].id: "sg-web-in-2" is already the id of securityGroups[0].inbound[1]'],
    ],
    [
      'subnet of an interface',
      (c) => {
        c.interfaces[0].subnet = 'subnet-x'
      },
      ['interfaces[0].subnet: "subnet-x" is not a subnet defined in vpcs[].subnets'],
    ],
    [
      'addresses: valid, inside the subnet, unique',
      (c) => {
        c.interfaces[0].addresses = ['10.0.1.10', '10.0.2.5', '2001:db8:1:2::1', '10.0.1.300']
        c.interfaces[1].addresses = ['10.0.1.10']
        c.interfaces[2].addresses = []
      },
      [
        'interfaces[0].addresses[3]: "10.0.1.300" is not an IPv4 or IPv6 address',
        'interfaces[0].addresses[1]: "10.0.2.5" is not inside subnet subnet-web (10.0.1.0/24)',
        'interfaces[0].addresses[2]: "2001:db8:1:2::1" is not inside subnet subnet-web (2001:db8:1:1::/64)',
        'interfaces[1].addresses[0]: "10.0.1.10" is already an address of interfaces[0]',
        'interfaces[2].addresses: [] needs at least one address',
      ],
    ],
    [
      'an IPv4 address in a subnet without IPv4 CIDRs',
      (c) => {
        c.vpcs[0].subnets[1].cidrs = ['2001:db8:1:2::/64']
      },
      ['interfaces[2].addresses[0]: "10.0.2.20" is not inside subnet subnet-db (no IPv4 CIDR)'],
    ],
    [
      'MAC addresses',
      (c) => {
        c.interfaces[1].mac = '02:00:0a:00:01'
        c.interfaces[2].mac = '02-00-0a-00-01-0a'
      },
      [
        'interfaces[1].mac: "02:00:0a:00:01" is not a MAC address (six hex pairs like 02:00:0a:00:01:0a)',
        'interfaces[2].mac: "02-00-0a-00-01-0a" is already the MAC of interfaces[0]',
      ],
    ],
    [
      'device names',
      (c) => {
        c.interfaces[0].device = 'a/b'
      },
      ['interfaces[0].device: "a/b" is not a network device name (1-15 characters, no "/" or spaces)'],
    ],
    [
      'host names',
      (c) => {
        c.interfaces[0].host = 'hv 01'
        c.interfaces[1].host = 'hv-01..lan'
      },
      [
        'interfaces[0].host: "hv 01" is not a host name (1-253 characters: letters, digits, "-" and "_" in dot-separated labels of 1-63)',
        'interfaces[1].host: "hv-01..lan" is not a host name (1-253 characters: letters, digits, "-" and "_" in dot-separated labels of 1-63)',
      ],
    ],
    [
      'flow-log resource',
      (c) => {
        c.flowLogs[0].resource = 'vpc-x'
      },
      ['flowLogs[0].resource: "vpc-x" is not a VPC, subnet or interface defined in this config'],
    ],
    [
      'protocol',
      (c) => {
        c.securityGroups[0].inbound[0].protocol = 'tcpp'
        c.securityGroups[0].inbound[1].protocol = 256
      },
      [
        'securityGroups[0].inbound[0].protocol: "tcpp" is not a protocol (tcp, udp, icmp, icmpv6, all, -1 or a number 0-255)',
        'securityGroups[0].inbound[1].protocol: 256 is not a protocol (tcp, udp, icmp, icmpv6, all, -1 or a number 0-255)',
      ],
    ],
    [
      'ICMP type and code',
      (c) => {
        c.securityGroups[0].inbound[2].icmpType = 256
        c.securityGroups[1].inbound = [
          { protocol: 'icmp', icmpCode: 4, source: '0.0.0.0/0' },
          { protocol: 'icmp', icmpType: -1, icmpCode: 0, source: '0.0.0.0/0' },
          { protocol: 'tcp', icmpType: 3, source: '0.0.0.0/0' },
        ]
      },
      [
        'securityGroups[0].inbound[2].icmpType: 256 is not an ICMP type or code -1..255',
        'securityGroups[1].inbound[0].icmpCode: 4 requires an icmpType',
        'securityGroups[1].inbound[1].icmpCode: 0 requires an icmpType',
        'securityGroups[1].inbound[2].icmpType: 3 applies only to protocol icmp or icmpv6',
      ],
    ],
    [
      'CIDRs',
      (c) => {
        c.vpcs[0].cidrs[0] = '10.0.0.0'
        c.vpcs[0].subnets[1].cidrs = ['10.0.2.0/33']
        c.securityGroups[0].inbound[0].source = '203.0.113.0/24/1'
      },
      [
        'vpcs[0].cidrs[0]: "10.0.0.0" is not a CIDR (address/prefix-length)',
        'vpcs[0].subnets[1].cidrs[0]: "10.0.2.0/33" is not an IPv4 or IPv6 CIDR (prefix length "33" is not 0-32)',
        'securityGroups[0].inbound[0].source: "203.0.113.0/24/1" is not an IPv4 or IPv6 CIDR (prefix length "24/1" is not 0-32)',
      ],
    ],
    [
      'subnets inside their VPC and not overlapping',
      (c) => {
        c.vpcs[0].subnets[1].cidrs = ['10.0.1.128/25', '10.9.0.0/24', '2001:db8:2::/64']
      },
      [
        'vpcs[0].subnets[1].cidrs[0]: "10.0.1.128/25" overlaps vpcs[0].subnets[0].cidrs[0] (10.0.1.0/24)',
        'vpcs[0].subnets[1].cidrs[1]: "10.9.0.0/24" is not inside the VPC\'s CIDRs (10.0.0.0/16)',
        'vpcs[0].subnets[1].cidrs[2]: "2001:db8:2::/64" is not inside the VPC\'s CIDRs (2001:db8:1::/56)',
        'interfaces[2].addresses[0]: "10.0.2.20" is not inside subnet subnet-db (10.0.1.128/25, 10.9.0.0/24)',
      ],
    ],
    [
      'the VPC of a security group',
      (c) => {
        c.vpcs.push({ id: 'vpc-b', cidrs: ['10.1.0.0/16'] })
        c.securityGroups[1].vpc = 'vpc-b'
        c.securityGroups[0].vpc = 'vpc-x'
      },
      [
        'securityGroups[0].vpc: "vpc-x" is not a VPC defined in vpcs',
        'interfaces[2].securityGroups[0]: "sg-db" belongs to vpc-b, but the interface is in vpc-0a1',
      ],
    ],
    [
      'enumerations',
      (c) => {
        Object.assign(c.flowLogs[0], {
          trafficType: 'all',
          fileFormat: 'csv',
          layout: 'hive',
          compression: 'zstd',
        })
        c.flowLogs[0].perHourPartition = 'yes'
      },
      [
        'flowLogs[0].trafficType: "all" is not one of ALL, ACCEPT, REJECT',
        'flowLogs[0].fileFormat: "csv" is not one of text, nhn-csv, jsonl, parquet',
        'flowLogs[0].layout: "hive" is not one of aws, aws-hive, nhn',
        'flowLogs[0].perHourPartition: "yes" is not true or false',
        'flowLogs[0].compression: "zstd" is not one of gzip, none',
      ],
    ],
    [
      'destinations',
      (c) => {
        c.flowLogs[0].destination = 'file://var/log'
        c.flowLogs.push(
          { id: 'fl-2', resource: 'vpc-0a1', destination: 's3://My_Bucket/x' },
          { id: 'fl-3', resource: 'vpc-0a1', destination: 's3://logs/a/../b' },
          { id: 'fl-4', resource: 'vpc-0a1', destination: 'http://example.com/' },
        )
      },
      [
        'flowLogs[0].destination: "file://var/log" is not a destination (file:///absolute/dir or s3://bucket[/prefix]): file:// needs an absolute path',
        'flowLogs[1].destination: "s3://My_Bucket/x" is not a destination (file:///absolute/dir or s3://bucket[/prefix]): bucket names are lower-case letters, digits, "." and "-", starting and ending with a letter or digit',
        'flowLogs[2].destination: "s3://logs/a/../b" is not a destination (file:///absolute/dir or s3://bucket[/prefix]): the prefix has an empty, "." or ".." segment',
        'flowLogs[3].destination: "http://example.com/" is not a destination (file:///absolute/dir or s3://bucket[/prefix])',
      ],
    ],
    [
      'field names, with the closest known one',
      (c) => {
        c.flowLogs[0].logFormat = '${version} ${acount-id} srcaddr ${src_addr} ${version}'
        c.flowLogs.push({
          id: 'fl-2',
          resource: 'vpc-0a1',
          fileFormat: 'nhn-csv',
          fields: ['src_adr', 'filter'],
          destination: 's3://logs',
        })
      },
      [
        'flowLogs[0].logFormat: "acount-id" is not a field of fileFormat text (aws and flowlog fields); did you mean "account-id"?',
        'flowLogs[0].logFormat: "srcaddr" is not a ${field} token',
        'flowLogs[0].logFormat: "src_addr" is not a field of fileFormat text (aws and flowlog fields); did you mean "srcaddr"?',
        'flowLogs[0].logFormat: "version" appears twice',
        'flowLogs[1].fields[0]: "src_adr" is not a field of fileFormat nhn-csv (nhn and flowlog fields); did you mean "src_addr"?',
      ],
    ],
    [
      'logFormat and fields belong to their formats',
      (c) => {
        c.flowLogs[0].fields = ['srcaddr']
        c.flowLogs.push({
          id: 'fl-2',
          resource: 'vpc-0a1',
          fileFormat: 'jsonl',
          logFormat: '${srcaddr}',
          destination: 's3://logs',
        })
        c.flowLogs.push({
          id: 'fl-3',
          resource: 'vpc-0a1',
          fileFormat: 'jsonl',
          fields: [],
          destination: 's3://logs',
        })
      },
      [
        'flowLogs[0].fields: ["srcaddr"] applies to fileFormat nhn-csv and jsonl; fileFormat text takes logFormat',
        'flowLogs[1].logFormat: "${srcaddr}" applies to fileFormat text and parquet; fileFormat jsonl takes fields',
        'flowLogs[2].fields: [] needs at least one field',
      ],
    ],
    [
      'file name template',
      (c) => {
        c.flowLogs[0].fileNameTemplate = '#{logger_id}_#{year}'
        c.flowLogs.push({
          id: 'fl-2',
          resource: 'vpc-0a1',
          layout: 'nhn',
          fileNameTemplate: '#{logger_id}/#{year}#{month}#{day}#{hour}#{minute}#{second}',
          destination: 's3://logs',
        })
      },
      [
        'flowLogs[0].fileNameTemplate: "#{logger_id}_#{year}" is not a file name template (each of #{logger_id} #{year} #{month} #{day} #{hour} #{minute} #{second} exactly once, other characters from A-Z a-z 0-9 . _ - : =)',
        'flowLogs[0].fileNameTemplate: "#{logger_id}_#{year}" applies only to layout nhn (this flow log has layout aws)',
        'flowLogs[1].fileNameTemplate: "#{logger_id}/#{year}#{month}#{day}#{hour}#{minute}#{second}" is not a file name template (each of #{logger_id} #{year} #{month} #{day} #{hour} #{minute} #{second} exactly once, other characters from A-Z a-z 0-9 . _ - : =)',
      ],
    ],
    [
      'limits',
      (c) => {
        c.limits = { flowTableCapacity: 0, connectionTables: 5 }
      },
      [
        'limits.flowTableCapacity: 0 is not a whole number from 1 to 100000000',
        'limits.connectionTables: unknown key (did you mean "connectionTableCapacity"?)',
      ],
    ],
    [
      'lists and objects of the wrong type',
      (c) => {
        c.vpcs = {}
        c.interfaces[0] = 'eni-web1'
      },
      ['vpcs: {} is not a list', 'interfaces[0]: "eni-web1" is not an object (key: value)'],
    ],
  ]
  for (const [name, edit, expected] of cases) {
    test(name, () => assert.deepEqual(problemsOf(edit), expected))
  }

  test('the error message lists every problem; the config is not half-applied', () => {
    const problems = problemsOf((c) => {
      c.securityGroups[1].inbound[0].ports = '99999'
      c.flowLogs[0].aggregationInterval = 1000
      c.interfaces[2].securityGroups = ['sg-x']
    })
    assert.equal(problems.length, 3)
    try {
      parseConfig(JSON.stringify({ ...base(), region: '' }), 'x.json')
    } catch (error) {
      assert.ok(error instanceof InputError)
      assert.equal(error.code, 'ERR_INVALID_INPUT')
      assert.match(
        error.message,
        /^x\.json is not a valid flowlog config \(1 problem\):\n {2}region: "" is not a valid id/,
      )
    }
  })
})

describe('syntax errors name line and column', () => {
  test('YAML', () => {
    assert.throws(
      () => parseConfig('account: "1"\nvpcs: [a,\nregion: x\n', 'net.yaml'),
      (error: InputError) => {
        assert.match(error.message, /^net\.yaml is not valid YAML/)
        assert.match(error.problems[0] ?? '', /^net\.yaml:3:1: /)
        return true
      },
    )
  })

  test('JSON, including duplicate keys and non-JSON words', () => {
    assert.throws(
      () => parseConfig('{\n  "account": "1",\n  "account": yes\n}', 'net.json'),
      (error: InputError) => {
        assert.deepEqual(error.problems, [
          'net.json:3:3: Map keys must be unique',
          'net.json:3:14: Unresolved plain scalar "yes"',
        ])
        return true
      },
    )
  })
})

describe('loadConfig', () => {
  test('an empty file says so', () => {
    assert.throws(
      () => parseConfig('# nothing yet\n', 'empty.yaml'),
      (error: InputError) => {
        assert.deepEqual(error.problems, ['config: the file is empty'])
        return true
      },
    )
  })

  test('reads YAML and JSON files by extension', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-config-'))
    writeFileSync(join(dir, 'a.yml'), stringify(base()))
    writeFileSync(join(dir, 'b.json'), JSON.stringify(base()))
    assert.deepEqual(loadConfig(join(dir, 'a.yml')), loadConfig(join(dir, 'b.json')))
  })

  test('a missing file is bad input', () => {
    assert.throws(
      () => loadConfig('/nonexistent/flowlog.yaml'),
      /cannot read config \/nonexistent\/flowlog\.yaml: no such file \(ENOENT\)/,
    )
  })

  test('a directory given as the config says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-config-'))
    assert.throws(
      () => loadConfig(dir),
      (e: Error & { code?: string }) =>
        e.code === 'ERR_INVALID_INPUT' && /it is a directory, not a config file \(EISDIR\)/.test(e.message),
    )
  })
})
