import {
  type DuckDBConnection,
  type DuckDBDataChunk,
  DuckDBScalarFunction,
  type DuckDBVector,
  INTEGER,
  VARCHAR,
} from '@duckdb/node-api'
import { communityIdOfRow, elasticCommunityIdOfRow } from '../community-id/community-id.js'

/**
 * `community_id(protocol, srcaddr, dstaddr, srcport, dstport)` and `community_id_elastic(...)` inside
 * DuckDB, computed by flowlog's own Community ID code, so SQL and `flowlog query` give a record the
 * same ids (see communityIdOfRow and elasticCommunityIdOfRow: the view passes the packet addresses to
 * the first, srcaddr/dstaddr to the second). The `flows` view calls them only when a query reads the
 * column.
 */
export function registerCommunityId(connection: DuckDBConnection): void {
  register(connection, 'community_id', communityIdOfRow)
  register(connection, 'community_id_elastic', elasticCommunityIdOfRow)
}

function register(connection: DuckDBConnection, name: string, idOf: typeof communityIdOfRow): void {
  connection.registerScalarFunction(
    DuckDBScalarFunction.create({
      name,
      returnType: VARCHAR,
      parameterTypes: [INTEGER, VARCHAR, VARCHAR, INTEGER, INTEGER],
      specialHandling: true,
      mainFunction: (_info, input: DuckDBDataChunk, output: DuckDBVector) => {
        const protocol = input.getColumnVector(0)
        const src = input.getColumnVector(1)
        const dst = input.getColumnVector(2)
        const sport = input.getColumnVector(3)
        const dport = input.getColumnVector(4)
        for (let i = 0; i < input.rowCount; i++) {
          const id = idOf({
            protocol: protocol.getItem(i) as number | null,
            srcaddr: src.getItem(i) as string | null,
            dstaddr: dst.getItem(i) as string | null,
            srcport: sport.getItem(i) as number | null,
            dstport: dport.getItem(i) as number | null,
          })
          ;(output as DuckDBVector<string>).setItem(i, id)
        }
        output.flush()
      },
    }),
  )
}
