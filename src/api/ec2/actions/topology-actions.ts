import { ControlError } from '../../../control/control-error.js'
import type { Topology } from '../../../control/control-plane.js'
import type { NetworkInterface, Subnet, Vpc } from '../../../core/network.js'
import type { Action } from '../action.js'
import { dryRunSucceeded } from '../dry-run.js'
import { compileFilters } from '../filters.js'
import { paginate } from '../paging.js'
import { invalidValue, missingParameter, type Params } from '../query-params.js'
import type { OutputStruct } from '../xml-response.js'

/**
 * DescribeVpcs, DescribeSubnets, DescribeNetworkInterfaces (the config's topology, read-only) and
 * ModifyNetworkInterfaceAttribute for an interface's security groups, the one thing it changes.
 * The topology has no tags, so `tag:` filters match nothing, as on an untagged AWS resource.
 */
const isV6 = (cidr: string): boolean => cidr.includes(':')
const noTags = () => ({})

function checkIds(wanted: readonly string[], known: readonly string[], code: string, noun: string): void {
  for (const id of wanted)
    if (!known.includes(id)) throw new ControlError(code, `The ${noun} ID '${id}' does not exist`)
}

function select<T>(
  items: readonly T[],
  ids: readonly string[],
  idOf: (t: T) => string,
  match: (t: T) => boolean,
): T[] {
  return items.filter((t) => (ids.length === 0 || ids.includes(idOf(t))) && match(t))
}

function pageOf<T>(params: Params, items: readonly T[], idOf: (t: T) => string) {
  return paginate(items, idOf, params.integer('MaxResults'), params.string('NextToken'))
}

export const describeVpcs: Action = async ({ control }, params) => {
  const topology = await control.topology()
  const ids = params.strings('VpcIds')
  checkIds(
    ids,
    topology.vpcs.map((v) => v.id),
    'InvalidVpcID.NotFound',
    'vpc',
  )
  const matches = compileFilters<Vpc>(
    params.structs('Filters'),
    {
      'vpc-id': (v) => [v.id],
      cidr: (v) => v.cidrs.filter((c) => !isV6(c)).slice(0, 1),
      'cidr-block-association.cidr-block': (v) => v.cidrs.filter((c) => !isV6(c)),
      'ipv6-cidr-block-association.ipv6-cidr-block': (v) => v.cidrs.filter(isV6),
      state: () => ['available'],
      'is-default': () => ['false'],
      'owner-id': () => [topology.account],
    },
    noTags,
  )
  const page = pageOf(
    params,
    select(topology.vpcs, ids, (v) => v.id, matches),
    (v) => v.id,
  )
  return {
    Vpcs: page.items.map((v) => {
      const v4 = v.cidrs.filter((c) => !isV6(c))
      return {
        VpcId: v.id,
        CidrBlock: v4[0],
        State: 'available',
        OwnerId: topology.account,
        InstanceTenancy: 'default',
        DhcpOptionsId: 'default',
        IsDefault: false,
        CidrBlockAssociationSet: v4.map((CidrBlock, i) => ({
          AssociationId: `${v.id}-cidr-${i + 1}`,
          CidrBlock,
          CidrBlockState: { State: 'associated' },
        })),
        Ipv6CidrBlockAssociationSet: v.cidrs.filter(isV6).map((Ipv6CidrBlock, i) => ({
          AssociationId: `${v.id}-ipv6-cidr-${i + 1}`,
          Ipv6CidrBlock,
          Ipv6CidrBlockState: { State: 'associated' },
        })),
        Tags: [],
      }
    }),
    NextToken: page.nextToken,
  }
}

interface SubnetOfVpc {
  subnet: Subnet
  vpc: Vpc
}

const subnetsOf = (topology: Topology): SubnetOfVpc[] =>
  topology.vpcs.flatMap((vpc) => vpc.subnets.map((subnet) => ({ subnet, vpc })))

export const describeSubnets: Action = async ({ control }, params) => {
  const topology = await control.topology()
  const subnets = subnetsOf(topology)
  const ids = params.strings('SubnetIds')
  checkIds(
    ids,
    subnets.map((s) => s.subnet.id),
    'InvalidSubnetID.NotFound',
    'subnet',
  )
  const matches = compileFilters<SubnetOfVpc>(
    params.structs('Filters'),
    {
      'subnet-id': (s) => [s.subnet.id],
      'vpc-id': (s) => [s.vpc.id],
      'availability-zone': (s) => [s.subnet.az],
      'cidr-block': (s) => s.subnet.cidrs.filter((c) => !isV6(c)),
      'ipv6-cidr-block-association.ipv6-cidr-block': (s) => s.subnet.cidrs.filter(isV6),
      state: () => ['available'],
      'default-for-az': () => ['false'],
      'owner-id': () => [topology.account],
    },
    noTags,
  )
  const page = pageOf(
    params,
    select(subnets, ids, (s) => s.subnet.id, matches),
    (s) => s.subnet.id,
  )
  return {
    Subnets: page.items.map(({ subnet, vpc }) => ({
      SubnetId: subnet.id,
      VpcId: vpc.id,
      CidrBlock: subnet.cidrs.find((c) => !isV6(c)),
      AvailabilityZone: subnet.az ?? undefined,
      State: 'available',
      OwnerId: topology.account,
      DefaultForAz: false,
      MapPublicIpOnLaunch: false,
      AssignIpv6AddressOnCreation: false,
      Ipv6CidrBlockAssociationSet: subnet.cidrs.filter(isV6).map((Ipv6CidrBlock, i) => ({
        AssociationId: `${subnet.id}-ipv6-cidr-${i + 1}`,
        Ipv6CidrBlock,
        Ipv6CidrBlockState: { State: 'associated' },
      })),
      SubnetArn: `arn:aws:ec2:${topology.region}:${topology.account}:subnet/${subnet.id}`,
      Tags: [],
    })),
    NextToken: page.nextToken,
  }
}

interface InterfaceInTopology {
  eni: NetworkInterface
  subnet: SubnetOfVpc | undefined
}

export const describeNetworkInterfaces: Action = async ({ control }, params) => {
  const topology = await control.topology()
  const subnets = subnetsOf(topology)
  const groupNames = new Map((await control.listSecurityGroups()).map((g) => [g.group.id, g.name]))
  const interfaces: InterfaceInTopology[] = topology.interfaces.map((eni) => ({
    eni,
    subnet: subnets.find((s) => s.subnet.id === eni.subnet),
  }))
  const ids = params.strings('NetworkInterfaceIds')
  checkIds(
    ids,
    interfaces.map((i) => i.eni.id),
    'InvalidNetworkInterfaceID.NotFound',
    'network interface',
  )
  const v4 = (eni: NetworkInterface) => eni.addresses.filter((a) => !isV6(a))
  const v6 = (eni: NetworkInterface) => eni.addresses.filter(isV6)
  const matches = compileFilters<InterfaceInTopology>(
    params.structs('Filters'),
    {
      'network-interface-id': (i) => [i.eni.id],
      'subnet-id': (i) => [i.eni.subnet],
      'vpc-id': (i) => [i.subnet?.vpc.id],
      'availability-zone': (i) => [i.subnet?.subnet.az],
      'group-id': (i) => i.eni.securityGroups,
      'group-name': (i) => i.eni.securityGroups.map((g) => groupNames.get(g)),
      'attachment.instance-id': (i) => [i.eni.instance],
      'private-ip-address': (i) => v4(i.eni),
      'addresses.private-ip-address': (i) => v4(i.eni),
      'ipv6-addresses.ipv6-address': (i) => v6(i.eni),
      'mac-address': (i) => [i.eni.mac],
      status: (i) => [i.eni.instance === null ? 'available' : 'in-use'],
      'owner-id': () => [topology.account],
    },
    noTags,
  )
  const page = pageOf(
    params,
    select(interfaces, ids, (i) => i.eni.id, matches),
    (i) => i.eni.id,
  )
  return {
    NetworkInterfaces: page.items.map(
      ({ eni, subnet }): OutputStruct => ({
        NetworkInterfaceId: eni.id,
        SubnetId: eni.subnet,
        VpcId: subnet?.vpc.id,
        AvailabilityZone: subnet?.subnet.az ?? undefined,
        Description: '',
        MacAddress: eni.mac ?? undefined,
        PrivateIpAddress: v4(eni)[0],
        PrivateIpAddresses: v4(eni).map((PrivateIpAddress, i) => ({ PrivateIpAddress, Primary: i === 0 })),
        Ipv6Addresses: v6(eni).map((Ipv6Address) => ({ Ipv6Address })),
        Groups: eni.securityGroups.map((GroupId) => ({ GroupId, GroupName: groupNames.get(GroupId) })),
        Attachment:
          eni.instance === null
            ? undefined
            : {
                InstanceId: eni.instance,
                InstanceOwnerId: topology.account,
                DeviceIndex: 0,
                Status: 'attached',
              },
        Status: eni.instance === null ? 'available' : 'in-use',
        InterfaceType: 'interface',
        OwnerId: topology.account,
        RequesterManaged: false,
        SourceDestCheck: true,
        TagSet: [],
      }),
    ),
    NextToken: page.nextToken,
  }
}

export const modifyNetworkInterfaceAttribute: Action = async ({ control }, params) => {
  const id = params.requiredString('NetworkInterfaceId')
  for (const other of ['Attachment', 'Description', 'SourceDestCheck', 'EnaSrdSpecification'])
    if (params.has(other))
      throw invalidValue(
        params.nameOf(other),
        other,
        'flowlog changes only the Groups (SecurityGroupId.N) of an interface.',
      )
  const groups = params.strings('Groups')
  if (groups.length === 0) throw missingParameter('SecurityGroupId.1')
  if (params.boolean('DryRun') === true) {
    const topology = await control.topology()
    checkIds(
      [id],
      topology.interfaces.map((i) => i.id),
      'InvalidNetworkInterfaceID.NotFound',
      'network interface',
    )
    throw dryRunSucceeded()
  }
  await control.setInterfaceGroups(id, groups)
  return {}
}
