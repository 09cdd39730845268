import {
  type DuckDBConnection,
  type DuckDBDataChunk,
  DuckDBScalarFunction,
  type DuckDBVector,
  INTEGER,
  VARCHAR,
} from '@duckdb/node-api'
import { communityIdOfRow } from '../community-id/community-id.js'

/**
 * `community_id(protocol, srcaddr, dstaddr, srcport, dstport)` inside DuckDB, computed by flowlog's own
 * Community ID code, so SQL and `flowlog query` give a record the same id (ICMP and records without
 * addresses: NULL, see communityIdOfRow). The `flows` view calls it only when a query reads the column.
 */
export function registerCommunityId(connection: DuckDBConnection): void {
  connection.registerScalarFunction(
    DuckDBScalarFunction.create({
      name: 'community_id',
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
          const id = communityIdOfRow({
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
