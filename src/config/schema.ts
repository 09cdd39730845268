import * as z from 'zod'
import type {
  DeliverySettings,
  FileFormat,
  FlowLogSpec,
  Limits,
  NetworkConfig,
  NetworkInterface,
  Protocol,
  SecurityGroup,
  SecurityGroupRule,
  Subnet,
  Vpc,
} from '../core/network.js'
import { checkEndpoint, checkS3Region, checkSpoolDir } from './delivery-rules.js'
import { resolveFields } from './flow-log-fields.js'
import { strictObject } from './problems.js'
import {
  type Checked,
  checkAddress,
  checkCidr,
  checkDestination,
  checkDevice,
  checkFileNameTemplate,
  checkHostName,
  checkId,
  checkMac,
  checkPeer,
  checkProtocol,
  DEFAULT_FILE_NAME_TEMPLATE,
} from './rules.js'
import { defaultRuleId, normaliseRule, type RuleInput } from './security-group-rule.js'

/**
 * The shape of the config file (DESIGN 4) and its value rules, producing NetworkConfig with every
 * default filled. Cross-references between parts (does this subnet exist?) are checked in
 * cross-references.ts, which also runs when this schema fails, so one run lists every problem.
 */

type Ctx = z.core.$RefinementCtx<unknown>

function report(ctx: Ctx, input: unknown, rule: string, path: PropertyKey[] = []): void {
  ctx.issues.push({ code: 'custom', message: rule, input, path })
}

/** A string that must pass `check`; the output is the checked (normalised) value. */
function checkedString<T>(check: (text: string) => Checked<T>) {
  return z.string().transform((text, ctx): T => {
    const result = check(text)
    if (result.ok) return result.value
    report(ctx, text, result.rule)
    return z.NEVER
  })
}

/** A whole number in [min, max]; anything else (also a string) reads as `rule`. */
function wholeNumber(min: number, max: number, rule: string) {
  return z.unknown().transform((value, ctx): number => {
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value
    report(ctx, value, rule)
    return z.NEVER
  })
}

/** An optional key whose absence (or YAML `~`) becomes null, as NetworkConfig has it. */
function orNull<T extends z.ZodType>(schema: T) {
  return schema.nullish().transform((v) => (v ?? null) as z.output<T> | null)
}

const id = checkedString(checkId)
const description = orNull(z.string().max(255))

const vpcCidr = checkedString((t) => checkCidr(t, false))

const subnet = strictObject({
  id,
  cidrs: z.array(vpcCidr).min(1, { error: 'needs at least one CIDR' }),
  az: orNull(id),
}).transform((s): Subnet => ({ id: s.id, cidrs: s.cidrs, az: s.az }))

const vpc = strictObject({
  id,
  cidrs: z.array(vpcCidr).min(1, { error: 'needs at least one CIDR' }),
  subnets: z.array(subnet).default([]),
}).transform((v): Vpc => ({ id: v.id, cidrs: v.cidrs, subnets: v.subnets }))

const icmpNumber = wholeNumber(-1, 255, 'is not an ICMP type or code -1..255')

const ruleShape = {
  id: id.optional(),
  protocol: z.union([z.string(), z.number()]).transform((value, ctx): Protocol => {
    const result = checkProtocol(value)
    if (result.ok) return result.value
    report(ctx, value, result.rule)
    return z.NEVER
  }),
  ports: z.union([z.string(), z.number()]).optional(),
  icmpType: icmpNumber.optional(),
  icmpCode: icmpNumber.optional(),
  description,
}
const peer = checkedString(checkPeer)

interface ParsedRule extends RuleInput {
  id?: string | undefined
  description: string | null
}

/** The id is filled in by the group, which knows the group id. */
function finishRule(
  r: ParsedRule,
  peerValue: string,
  ctx: Ctx,
): Omit<SecurityGroupRule, 'id'> & { id: string | null } {
  const { value, problems } = normaliseRule(r)
  for (const p of problems) report(ctx, p.value, p.rule, [p.key])
  return { id: r.id ?? null, protocol: r.protocol, ...value, peer: peerValue, description: r.description }
}

const inboundRule = strictObject(
  { ...ruleShape, source: peer },
  { destination: 'inbound rules take "source"' },
).transform((r, ctx) => finishRule(r, r.source, ctx))
const outboundRule = strictObject(
  { ...ruleShape, destination: peer },
  { source: 'outbound rules take "destination"' },
).transform((r, ctx) => finishRule(r, r.destination, ctx))

const securityGroup = strictObject({
  id,
  vpc: orNull(id),
  description,
  inbound: z.array(inboundRule).default([]),
  outbound: z.array(outboundRule).default([]),
}).transform(
  (g): SecurityGroup => ({
    id: g.id,
    vpc: g.vpc,
    description: g.description,
    inbound: g.inbound.map((r, i) => ({ ...r, id: r.id ?? defaultRuleId(g.id, 'in', i) })),
    outbound: g.outbound.map((r, i) => ({ ...r, id: r.id ?? defaultRuleId(g.id, 'out', i) })),
  }),
)

const networkInterface = strictObject({
  id,
  instance: orNull(id),
  subnet: id,
  mac: orNull(checkedString(checkMac)),
  addresses: z.array(checkedString(checkAddress)).min(1, { error: 'needs at least one address' }),
  device: orNull(checkedString(checkDevice)),
  host: orNull(checkedString(checkHostName)),
  securityGroups: z
    .array(id)
    .min(1, { error: 'needs at least one security group (AWS gives every interface one)' }),
}).transform(
  (n): NetworkInterface => ({
    id: n.id,
    instance: n.instance,
    subnet: n.subnet,
    mac: n.mac,
    addresses: n.addresses,
    device: n.device,
    // Absent on a single host: only a fleet's interfaces say where they are.
    ...(n.host === null ? {} : { host: n.host }),
    securityGroups: n.securityGroups,
  }),
)

function fields(
  format: FileFormat,
  logFormat: string | undefined,
  list: string[] | undefined,
  ctx: Ctx,
): string[] {
  const resolved = resolveFields(format, logFormat, list)
  for (const p of resolved.problems) report(ctx, p.value, p.rule, p.path)
  return resolved.fields
}

const flowLog = strictObject({
  id,
  resource: id,
  trafficType: z.enum(['ALL', 'ACCEPT', 'REJECT']).default('ALL'),
  // AWS's default maximum aggregation interval is 600 s.
  aggregationInterval: wholeNumber(1, 900, 'is not a whole number of seconds from 1 to 900').default(600),
  logFormat: z.string().optional(),
  fields: z.array(z.string()).optional(),
  fileFormat: z.enum(['text', 'nhn-csv', 'jsonl', 'parquet']).default('text'),
  destination: checkedString(checkDestination),
  layout: z.enum(['aws', 'aws-hive', 'nhn']).default('aws'),
  perHourPartition: z.boolean().default(false),
  compression: z.enum(['gzip', 'none']).default('gzip'),
  fileNameTemplate: checkedString(checkFileNameTemplate).optional(),
  platformTraffic: z.enum(['include', 'exclude']).default('include'),
}).transform((f, ctx): FlowLogSpec => {
  if (f.fileNameTemplate !== undefined && f.layout !== 'nhn') {
    report(ctx, f.fileNameTemplate, `applies only to layout nhn (this flow log has layout ${f.layout})`, [
      'fileNameTemplate',
    ])
  }
  return {
    id: f.id,
    resource: f.resource,
    trafficType: f.trafficType,
    aggregationInterval: f.aggregationInterval,
    fields: fields(f.fileFormat, f.logFormat, f.fields, ctx),
    fileFormat: f.fileFormat,
    destination: f.destination,
    layout: f.layout,
    perHourPartition: f.perHourPartition,
    compression: f.compression,
    fileNameTemplate: f.fileNameTemplate ?? DEFAULT_FILE_NAME_TEMPLATE,
    platformTraffic: f.platformTraffic,
  }
})

export const DEFAULT_LIMITS: Readonly<Limits> = {
  flowTableCapacity: 1_000_000,
  connectionTableCapacity: 1_000_000,
}

const capacity = wholeNumber(1, 100_000_000, 'is not a whole number from 1 to 100000000')

const limits = strictObject({
  flowTableCapacity: capacity.default(DEFAULT_LIMITS.flowTableCapacity),
  connectionTableCapacity: capacity.default(DEFAULT_LIMITS.connectionTableCapacity),
})

/** Replay keeps retrying for a minute before it leaves files in the spool (exit 2). */
export const DEFAULT_DELIVERY_TIMEOUT = 60

const s3 = strictObject({
  endpoint: orNull(checkedString(checkEndpoint)),
  region: orNull(checkedString(checkS3Region)),
  forcePathStyle: z.boolean().default(false),
})

export const configSchema = strictObject({
  account: id,
  region: id,
  vpcs: z.array(vpc).min(1, { error: 'needs at least one VPC' }),
  securityGroups: z.array(securityGroup).default([]),
  interfaces: z.array(networkInterface).default([]),
  flowLogs: z.array(flowLog).default([]),
  limits: limits.default({ ...DEFAULT_LIMITS }),
  spoolDir: orNull(checkedString(checkSpoolDir)),
  deliveryTimeout: wholeNumber(0, 86_400, 'is not a whole number of seconds from 0 to 86400').default(
    DEFAULT_DELIVERY_TIMEOUT,
  ),
  s3: s3.default({ endpoint: null, region: null, forcePathStyle: false }),
}).transform(
  (c): NetworkConfig => ({
    account: c.account,
    region: c.region,
    vpcs: c.vpcs,
    securityGroups: c.securityGroups,
    interfaces: c.interfaces,
    flowLogs: c.flowLogs,
    limits: {
      flowTableCapacity: c.limits.flowTableCapacity,
      connectionTableCapacity: c.limits.connectionTableCapacity,
    },
    delivery: {
      spoolDir: c.spoolDir,
      timeout: c.deliveryTimeout,
      s3: { endpoint: c.s3.endpoint, region: c.s3.region, forcePathStyle: c.s3.forcePathStyle },
    } satisfies DeliverySettings,
  }),
)
