import { sqlString } from '../read/duckdb-connection.js'
import type { InterfaceIndex } from './flow-view.js'

/**
 * placeFlow (flow-view.ts) as SQL over the columns of `flows` (detections/flow-table.ts), for the
 * records whose placement SQL can tell exactly: interface-view addresses written without ':' (an
 * IPv6 text is also looked up by its words, which SQL does not parse). The others are left to
 * JavaScript. In steps, each reading the one before's columns:
 * 1. `owner_dst`, `owner_src`: the interface that owns each interface-view address (NULL: none),
 *    `owner` of a text (once per distinct address: it is a long CASE);
 * 2. `iface`: by interface id when the record has one (`interfaceIds`, a table to join), else the
 *    owner of an address; -1 when the config does not know it;
 * 3. `place_direction`: DIRECTION's number (0 ingress, 1 egress, 2 unknown): the record's own
 *    flow-direction, else the side the interface's address is on.
 */
export interface PlacementSql {
  /** Whether SQL places the record as placeFlow would (over `flows`' columns). */
  decidable: string
  /** The interface that owns an address written as `text` (INTEGER, NULL: none). */
  owner(text: string): string
  /** VALUES of (id, iface), or null when the config has no interface. */
  interfaceIds: string | null
  /** Over `interface_id`, `id_iface` (the id's, joined), `owner_dst`, `owner_src`. */
  iface: string
  /** Over `direction`, `owner_dst`, `owner_src`, `iface`. */
  direction: string
}

export function placementSql(index: InterfaceIndex): PlacementSql {
  const ids = [...index.byId]
  // The exact texts the index holds, as its Map finds them (the last interface to claim an
  // address wins, as the index was built).
  const addresses = [...index.byAddress]
  const owner = (column: string) =>
    addresses.length === 0
      ? 'CAST(NULL AS INTEGER)'
      : `CASE ${column} ${addresses.map(([a, i]) => `WHEN ${sqlString(a)} THEN ${i}`).join(' ')} END`
  return {
    decidable: `(coalesce(NOT contains(if_srcaddr, ':'), true) AND coalesce(NOT contains(if_dstaddr, ':'), true))`,
    owner,
    interfaceIds:
      ids.length === 0 ? null : `VALUES ${ids.map(([id, i]) => `(${sqlString(id)}, ${i})`).join(', ')}`,
    iface: `CASE WHEN interface_id IS NOT NULL THEN coalesce(id_iface, -1) ELSE coalesce(owner_dst, owner_src, -1) END`,
    direction: `CASE direction WHEN 'ingress' THEN 0 WHEN 'egress' THEN 1 WHEN 'unknown' THEN 2
      ELSE CASE WHEN owner_dst = iface THEN 0 WHEN owner_src = iface THEN 1 ELSE 2 END END`,
  }
}
