// The analyses' half of bench:query: the config of the generated records, and the SQL DuckDB runs
// as each analysis command's equivalent. "Equivalent" means the same answer from the same records,
// written the way a DuckDB user would write it: the security groups as CASE expressions over each
// record, connections as windows over each conversation, the groupings the command reports. It
// leaves out what SQL cannot say simply (timeouts, TCP state, a full connection table), which do
// not change the generated records' verdicts (each of their conversations is one record; bench-query
// checks that what-if and its equivalent list as many changed flows). The bare sort the replays
// need is timed too, as the floor no replay can go under (sortSql).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The 64 interfaces of the generated records: eni-0a0000XX0bench at 10.0.X.Y. */
const INTERFACES = Array.from({ length: 64 }, (_, eni) => ({
  id: `eni-${(0x0a000000 + eni).toString(16)}0bench`,
  address: `10.0.${eni >> 4}.${(eni & 15) + 10}`,
}))

const CLIENTS = '198.18.0.0/15'
const INBOUND = [
  { id: 'bench-https', protocol: 'tcp', port: 443, cidr: '0.0.0.0/0' },
  { id: 'bench-http', protocol: 'tcp', port: 80, cidr: '0.0.0.0/0' },
  { id: 'bench-alt', protocol: 'tcp', port: 8080, cidr: CLIENTS },
  { id: 'bench-pg', protocol: 'tcp', port: 5432, cidr: CLIENTS },
  { id: 'bench-dns', protocol: 'udp', port: 53, cidr: CLIENTS },
  { id: 'bench-ntp', protocol: 'udp', port: 123, cidr: CLIENTS },
]
/** The rule the proposal drops. */
const RDP = { id: 'bench-rdp', protocol: 'tcp', port: 3389, cidr: CLIENTS }
const OUTBOUND = [{ id: 'bench-out', protocol: 'all', port: null, cidr: '0.0.0.0/0' }]

const CURRENT = { inbound: [...INBOUND, RDP], outbound: OUTBOUND }
const PROPOSED = { inbound: INBOUND, outbound: OUTBOUND }

/**
 * Writes network.yaml (one VPC, the 64 interfaces, one group allowing what the generator sends)
 * and proposed.yaml (the same group without its RDP rule) into `data`.
 */
export function writeBenchConfig(data) {
  const rule = (r, peer) =>
    `      - { id: ${r.id}, protocol: ${r.protocol}, ${r.port === null ? '' : `ports: "${r.port}", `}${peer}: ${r.cidr} }`
  const group = (groups) => `securityGroups:
  - id: sg-bench
    vpc: vpc-bench
    inbound:
${groups.inbound.map((r) => rule(r, 'source')).join('\n')}
    outbound:
${groups.outbound.map((r) => rule(r, 'destination')).join('\n')}
`
  const network = join(data, 'network.yaml')
  const proposed = join(data, 'proposed.yaml')
  writeFileSync(
    network,
    `account: "123456789012"
region: us-east-1
vpcs:
  - id: vpc-bench
    cidrs: [10.0.0.0/16]
    subnets:
      - { id: subnet-bench, cidrs: [10.0.0.0/20] }
${group(CURRENT)}interfaces:
${INTERFACES.map((nic) => `  - { id: ${nic.id}, subnet: subnet-bench, addresses: [${nic.address}], securityGroups: [sg-bench] }`).join('\n')}
`,
  )
  writeFileSync(proposed, group(PROPOSED))
  return { network, proposed }
}

/** An IPv4 address column as a number, in SQL. */
const ipv4 = (column) =>
  `(split_part(${column}, '.', 1)::UBIGINT * 16777216 + split_part(${column}, '.', 2)::UBIGINT * 65536 + ` +
  `split_part(${column}, '.', 3)::UBIGINT * 256 + split_part(${column}, '.', 4)::UBIGINT)`

const PROTOCOLS = { tcp: 6, udp: 17, icmp: 1 }

function inCidr(cidr) {
  const [address, bits] = cidr.split('/')
  const length = Number(bits)
  if (length === 0) return 'true'
  const value = address.split('.').reduce((v, octet) => v * 256 + Number(octet), 0)
  const size = 2 ** (32 - length)
  return `remote_int BETWEEN ${value} AND ${value + size - 1}`
}

/**
 * Whether a record belongs to a connection the rule allows, in SQL over `placed` (below): an
 * inbound rule allows connections the remote side opens to a local port, an outbound one those the
 * local side opens to a remote port.
 */
function matches(rule, direction) {
  const port = direction === 'inbound' ? 'local_port' : 'remote_port'
  const terms = [inCidr(rule.cidr)]
  if (rule.protocol !== 'all') terms.push(`protocol = ${PROTOCOLS[rule.protocol]}`)
  if (rule.port !== null) terms.push(`${port} = ${rule.port}`)
  return terms.join(' AND ')
}

/**
 * The rule that allows each record as new traffic of its direction under `groups` (the first), or
 * NULL. A record no rule allows is still accepted when it belongs to a connection an earlier
 * record opened (whatIfSql).
 */
function acceptingRule(groups) {
  const cases = (rules, direction, recordDirection) =>
    rules.map((r) => `WHEN dir = '${recordDirection}' AND ${matches(r, direction)} THEN '${r.id}'`)
  return `CASE ${[...cases(groups.inbound, 'inbound', 'ingress'), ...cases(groups.outbound, 'outbound', 'egress')].join(' ')} END`
}

/**
 * Every record on its interface, with its direction there and its local and remote ends (the
 * interface's address tells: AWS's default format has no flow-direction).
 */
function placed(from, iface) {
  const nics = INTERFACES.map((nic) => `('${nic.id}', '${nic.address}')`).join(', ')
  return `nic(nic_id, nic_address) AS (VALUES ${nics}),
    sided AS (SELECT f.*, dstaddr = nic_address AS inbound FROM ${from} f JOIN nic ON f.${iface} = nic.nic_id
      WHERE dstaddr = nic_address OR srcaddr = nic_address),
    placed AS (SELECT *, CASE WHEN inbound THEN 'ingress' ELSE 'egress' END AS dir,
      CASE WHEN inbound THEN srcaddr ELSE dstaddr END AS remote,
      ${ipv4('CASE WHEN inbound THEN srcaddr ELSE dstaddr END')} AS remote_int,
      CASE WHEN inbound THEN dstport ELSE srcport END AS local_port,
      CASE WHEN inbound THEN srcport ELSE dstport END AS remote_port FROM sided)`
}

const RULES = [...CURRENT.inbound.map((r) => [r, 'inbound']), ...CURRENT.outbound.map((r) => [r, 'outbound'])]

/** audit: per rule of the config, what it carried (records, volume, time, peers, ports) and what earlier rules took of its traffic. */
function auditSql(from, iface) {
  const own = (r, direction) =>
    `dir = '${direction === 'inbound' ? 'ingress' : 'egress'}' AND ${matches(r, direction)}`
  const shadowed = RULES.map(
    ([r, direction]) =>
      `count(*) FILTER (WHERE ${own(r, direction)} AND rule <> '${r.id}') AS "shadowed ${r.id}"`,
  )
  return `WITH ${placed(from, iface)},
    credited AS (SELECT *, ${acceptingRule(CURRENT)} AS rule FROM placed),
    shadows AS (SELECT ${shadowed.join(', ')} FROM credited),
    usage AS (SELECT rule, count(*) AS records, sum(packets) AS packets, sum(bytes) AS bytes, min(start) AS first,
      max("end") AS last, count(DISTINCT remote) AS peers, count(DISTINCT remote_int // 256) AS peer_24s,
      count(DISTINCT local_port) AS local_ports, count(DISTINCT remote_port) AS remote_ports
      FROM credited WHERE rule IS NOT NULL GROUP BY rule),
    rules(id) AS (VALUES ${RULES.map(([r]) => `('${r.id}')`).join(', ')})
    SELECT rules.id, usage.* EXCLUDE (rule), shadows.* FROM rules LEFT JOIN usage ON usage.rule = rules.id, shadows`
}

/**
 * what-if: the flows whose verdict differs between the current and the proposed groups, first seen
 * first. A record is accepted by the rule that opened its connection: the first record of its
 * conversation (interface, protocol, remote address, both ports) that a rule allows as new.
 */
function whatIfSql(from, iface) {
  const conversation = `(PARTITION BY ${iface}, protocol, remote, local_port, remote_port ORDER BY start
    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`
  return `WITH ${placed(from, iface)},
    judged AS (SELECT *, ${acceptingRule(CURRENT)} AS now_new, ${acceptingRule(PROPOSED)} AS proposed_new FROM placed),
    connected AS (SELECT *, first_value(now_new IGNORE NULLS) OVER conversation AS now,
      first_value(proposed_new IGNORE NULLS) OVER conversation AS proposed FROM judged WINDOW conversation AS ${conversation})
    SELECT ${iface}, dir, protocol, srcaddr, srcport, dstaddr, dstport, now, proposed, count(*) AS records,
      sum(packets) AS packets, sum(bytes) AS bytes, min(start) AS first, max("end") AS last
    FROM connected WHERE (now IS NULL) <> (proposed IS NULL) GROUP BY ALL ORDER BY first`
}

/**
 * detect, its default thresholds: port scans (ports per source and host), sweeps (hosts per
 * source and port), brute force (client ports per source, host and SSH/RDP port), in their
 * windows, and reject bursts (rejected packets per minute against the median minute) and egress
 * volume (bytes per hour out of the network, against the host's median hour).
 */
function detectSql(from) {
  const isReply = `coalesce(srcport, 0) > 0 AND coalesce(dstport, 0) > 0 AND srcport < dstport AND action <> 'REJECT'`
  const port = 'CASE WHEN protocol IN (6, 17, 132) THEN coalesce(dstport, 0) ELSE -1 END'
  // The files are read once: every grouping below reads the columns it needs from memory.
  return `WITH records AS MATERIALIZED (SELECT srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes,
        start, action FROM ${from}),
    contacts AS MATERIALIZED (SELECT srcaddr AS source, dstaddr AS host, protocol, ${port} AS port,
        start // 3600 AS hour, count(*) AS records, bool_or(action = 'REJECT') AS rejected
      FROM records WHERE NOT (${isReply}) GROUP BY ALL),
    scans AS (SELECT source, hour, count(DISTINCT (protocol, port)) AS ports, count(DISTINCT host) AS hosts
        FROM contacts WHERE rejected GROUP BY ALL HAVING ports >= 10),
    sweeps AS (SELECT source, protocol, port, hour, count(DISTINCT host) AS hosts, avg(rejected::INT) AS rejected_share
        FROM contacts GROUP BY ALL HAVING hosts >= 10 AND rejected_share >= 0.5),
    brute AS (SELECT srcaddr AS source, dstaddr AS host, dstport AS port, start // 600 AS ten_minutes,
        count(DISTINCT srcport) AS attempts FROM records
        WHERE protocol = 6 AND dstport IN (22, 3389) AND (packets <= 40 OR action = 'REJECT') GROUP BY ALL HAVING attempts >= 20),
    minutes AS (SELECT start // 60 AS minute, sum(packets) AS packets FROM records WHERE action = 'REJECT' GROUP BY ALL),
    bursts AS (SELECT minute, packets FROM minutes WHERE packets >= 100
        AND packets >= 10 * (SELECT median(packets) FROM minutes)),
    hours AS (SELECT srcaddr AS host, start // 3600 AS hour, sum(bytes) AS bytes FROM records
        WHERE srcaddr LIKE '10.%' AND dstaddr NOT LIKE '10.%' GROUP BY ALL),
    egress AS (SELECT host, hour, bytes FROM (SELECT *, median(bytes) OVER (PARTITION BY host) AS usual,
        count(*) OVER (PARTITION BY host) AS buckets FROM hours) WHERE bytes >= 1073741824 AND bytes >= 10 * usual AND buckets > 3)
    SELECT 'port-scan' AS finding, source, NULL AS host, NULL AS port, ports AS n FROM scans
    UNION ALL SELECT 'sweep', source, NULL, port, hosts FROM sweeps
    UNION ALL SELECT 'brute-force', source, host, port, attempts FROM brute
    UNION ALL SELECT 'reject-burst', NULL, NULL, minute, packets FROM bursts
    UNION ALL SELECT 'egress-volume', host, NULL, hour, bytes FROM egress`
}

/** The sort every replay needs (audit, what-if): every record by start time, numbered. */
export function sortSql(from, iface) {
  return `SELECT ${iface}, dstport, action, count(*) AS records, max(n) AS replayed FROM (SELECT *, row_number() OVER (ORDER BY start, "end") AS n FROM ${from}) GROUP BY ALL`
}

/** The equivalent SQL of an analysis command on `from` (a read_csv or read_parquet), or undefined. */
export function equivalentSql(name, from, iface) {
  switch (name) {
    case 'report':
      return `SELECT srcaddr, dstaddr, dstport, action, start // 60 AS minute, count(*) AS records, sum(bytes) AS bytes FROM ${from} GROUP BY GROUPING SETS ((srcaddr, dstaddr), (srcaddr), (dstaddr), (dstport, action), (action), (start // 60)) ORDER BY bytes DESC LIMIT 50`
    case 'detect':
      return detectSql(from)
    case 'audit':
      return auditSql(from, iface)
    case 'what-if':
      return whatIfSql(from, iface)
    default:
      return undefined
  }
}
