/** The EC2 actions flowlog answers (docs/api.md lists them with their filters). */
export const SUPPORTED_ACTIONS = [
  'AuthorizeSecurityGroupEgress',
  'AuthorizeSecurityGroupIngress',
  'CreateFlowLogs',
  'CreateSecurityGroup',
  'CreateTags',
  'DeleteFlowLogs',
  'DeleteSecurityGroup',
  'DeleteTags',
  'DescribeFlowLogs',
  'DescribeNetworkInterfaces',
  'DescribeSecurityGroupRules',
  'DescribeSecurityGroups',
  'DescribeSubnets',
  'DescribeVpcs',
  'ModifyNetworkInterfaceAttribute',
  'RevokeSecurityGroupEgress',
  'RevokeSecurityGroupIngress',
] as const

export type SupportedAction = (typeof SUPPORTED_ACTIONS)[number]
