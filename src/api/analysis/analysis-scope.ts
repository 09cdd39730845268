import { InputError } from '../../core/errors.js'
import type { NetworkConfig } from '../../core/network.js'
import { parseFilter } from '../../query/parse-filter.js'
import { parseTime } from '../../query/time-value.js'
import { sqlString } from '../../read/duckdb-connection.js'
import { flowsWhere } from './flows-where.js'

/**
 * What every analysis request narrows the records by: a time range (`since`, `until`, as
 * `flowlog query` takes them), a filter in `flowlog query`'s language (`filter`), and a place in the
 * topology (`vpc`, `subnet`, `instance`, `interface`). A place is matched by the record's own
 * column when its format has it (vpc-id, subnet-id, instance-id) and, with a network (config or
 * control-plane topology), by the interfaces inside it, so AWS's default format works too.
 */
export interface AnalysisScope {
  since: number | null
  until: number | null
  filter: string | null
  place: Partial<Record<PlaceKind, string>>
  /** The SQL condition on `flows` for all of the above ("TRUE" for none). */
  where: string
}

export type PlaceKind = 'vpc' | 'subnet' | 'instance' | 'interface'
export const PLACE_KINDS: readonly PlaceKind[] = ['vpc', 'subnet', 'instance', 'interface']
const PLACE_COLUMN: Record<PlaceKind, string> = {
  vpc: 'vpc_id',
  subnet: 'subnet_id',
  instance: 'instance_id',
  interface: 'interface_id',
}
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/

export function parseScope(query: URLSearchParams, network: NetworkConfig | null): AnalysisScope {
  const time = (name: 'since' | 'until') => {
    const text = query.get(name)
    return text === null || text.trim() === '' ? null : parseTime(text, name)
  }
  const since = time('since')
  const until = time('until')
  if (since !== null && until !== null && since >= until) {
    throw new InputError(`since ${query.get('since')} is not before until ${query.get('until')}`)
  }
  const conditions: string[] = []
  // Records that end at or after since and start before until, as the reader takes them.
  if (since !== null) conditions.push(`coalesce("end", start) >= ${since}`)
  if (until !== null) conditions.push(`coalesce(start, "end") < ${until}`)
  const text = query.get('filter')
  const filter = text === null || text.trim() === '' ? null : text
  if (filter !== null) conditions.push(`(${flowsWhere(parseFilter(filter, { what: 'filter' }), filter)})`)
  const place: AnalysisScope['place'] = {}
  for (const kind of PLACE_KINDS) {
    const id = query.get(kind)
    if (id === null || id === '') continue
    if (!ID.test(id)) throw new InputError(`${kind} "${id}" is not an id (letters, digits, . _ : -)`)
    place[kind] = id
    const interfaces = interfacesIn(network, kind, id)
    const own = `${PLACE_COLUMN[kind]} = ${sqlString(id)}`
    conditions.push(
      interfaces.length === 0 ? own : `(${own} OR interface_id IN (${interfaces.map(sqlString).join(', ')}))`,
    )
  }
  return { since, until, filter, place, where: conditions.length === 0 ? 'TRUE' : conditions.join(' AND ') }
}

/** The network's interfaces inside a VPC, subnet or instance. */
function interfacesIn(network: NetworkConfig | null, kind: PlaceKind, id: string): string[] {
  if (network === null || kind === 'interface') return []
  const vpcOfSubnet = new Map(network.vpcs.flatMap((v) => v.subnets.map((s) => [s.id, v.id] as const)))
  return network.interfaces
    .filter((n) =>
      kind === 'instance'
        ? n.instance === id
        : kind === 'subnet'
          ? n.subnet === id
          : vpcOfSubnet.get(n.subnet) === id,
    )
    .map((n) => n.id)
}

/**
 * A record's VPC, subnet, instance or interface as SQL: the record's own column when its format
 * has it, else what the network says of its interface (so AWS's default format can be split by VPC).
 */
export function placeSql(kind: PlaceKind, network: NetworkConfig | null): string {
  const own = PLACE_COLUMN[kind]
  if (network === null || kind === 'interface') return own
  const vpcOfSubnet = new Map(network.vpcs.flatMap((v) => v.subnets.map((s) => [s.id, v.id] as const)))
  const pairs = network.interfaces.flatMap((n) => {
    const place = kind === 'instance' ? n.instance : kind === 'subnet' ? n.subnet : vpcOfSubnet.get(n.subnet)
    return place === null || place === undefined ? [] : [`WHEN ${sqlString(n.id)} THEN ${sqlString(place)}`]
  })
  return pairs.length === 0 ? own : `coalesce(${own}, CASE interface_id ${pairs.join(' ')} END)`
}
