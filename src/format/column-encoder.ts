import { Buffer } from 'node:buffer'
import type { Cidr } from '../core/address.js'
import { isV4Mapped } from '../core/address.js'
import type { FlowRecord, RecordBatch } from '../core/flow-record.js'
import type { BatchFormatContext } from '../core/stages.js'
import { ACTION, DIRECTION, LOG_STATUS } from '../core/verdict.js'
import { MAX_ADDRESS_BYTES, MAX_NUMBER_BYTES, putAddress, putBytes, putNumber } from './ascii-bytes.js'
import { type ColumnField, KIND } from './column-fields.js'
import { AddressNames, recordAt } from './expand-batch.js'
import { planFields } from './field-plan.js'
import type { FieldValue, ValueOf } from './field-values.js'
import { insideAny } from './interface-directory.js'

/** How a text format writes values; everything else about a line is the same in all of them. */
export interface Spelling {
  /** The format's name in error messages: "text (AWS)". */
  readonly formatName: string
  /** The header line without its line break, or null for none. */
  header(names: readonly string[]): string | null
  /** What precedes field `f`'s value on a line: a separator, a JSON key. */
  before(name: string, f: number): string
  /** What ends a line of `n` fields, line break included. */
  lineEnd(n: number): string
  /** A value that does not apply. */
  readonly missing: string
  /** A string value as written. Numbers are `String(n)` in every format. */
  text(value: string): string
  /** Written before and after an address, which no format needs to escape. */
  readonly addressQuote: '' | '"'
}

const {
  CONSTANT,
  PER_INTERFACE,
  SRC_ADDR,
  DST_ADDR,
  PKT_SRC_ADDR,
  PKT_DST_ADDR,
  SRC_PORT,
  DST_PORT,
  PROTOCOL,
  AWS_TCP_FLAGS,
  NHN_TCP_FLAGS,
  PACKETS,
  BYTES,
  SKIPPED_PACKETS,
  SKIPPED_BYTES,
  START,
  END,
  START_MS,
  END_MS,
  IP_TYPE,
  ACTION: ACTION_NAME,
  LOG_STATUS: LOG_STATUS_NAME,
  DIRECTION: DIRECTION_NAME,
  RULE_ID,
  REJECT_DETAIL,
  AWS_TRAFFIC_PATH,
  NHN_TRAFFIC_PATH,
  FALLBACK,
} = KIND
const { OK, NODATA, SKIPDATA } = LOG_STATUS
const { INGRESS, EGRESS, UNKNOWN } = DIRECTION

const bytesOf = (text: string): Uint8Array => Buffer.from(text, 'utf8')

/** A file's fields resolved against the columns, with every string it can write spelled once. */
interface ColumnPlan {
  /** One operation per field, except that adjacent per-file and per-interface fields are one. */
  kinds: Int32Array
  /** Table kinds: the values, each with its separator in front. */
  tables: Uint8Array[][]
  /** Kinds written value by value: the separator. */
  before: Uint8Array[]
  /** Separator and "not applicable". */
  absent: Uint8Array[]
  /** FALLBACK: the field's value function. */
  values: (ValueOf | null)[]
  lineEnd: Uint8Array
  /** The most bytes a line can take, fallback values aside (they reserve their own room). */
  lineBound: number
  header: Uint8Array | null
}

/**
 * One file's bytes straight from the batch's columns: the same bytes the format's `encode` writes
 * for the records `expandBatch` makes, without a FlowRecord or a string per record. Strings that
 * depend on the file or the interface (account, ids, primary addresses, names) are spelled once
 * per file; numbers and packet addresses are written digit by digit into one buffer.
 */
export function encodeColumns(
  batch: RecordBatch,
  selection: Uint32Array | null,
  context: BatchFormatContext,
  valueTable: ReadonlyMap<string, ValueOf>,
  columnFields: ReadonlyMap<string, ColumnField>,
  spelling: Spelling,
): Uint8Array {
  const { names, values: valueOfs, scope } = planFields(context, valueTable, spelling.formatName)
  const { ruleIds } = context
  const { interfaces, vpcCidrs } = scope.directory
  const interfaceCount = interfaces.length
  const spell = (value: FieldValue | undefined): Uint8Array =>
    bytesOf(
      value == null ? spelling.missing : typeof value === 'number' ? String(value) : spelling.text(value),
    )
  const missing = spell(null)
  const quote = spelling.addressQuote === '' ? 0 : spelling.addressQuote.charCodeAt(0)

  // Per interface, one more slot for an index the config does not know: primaries and VPC.
  const primaryV4: (Uint8Array | null)[] = []
  const primaryV6: (Uint8Array | null)[] = []
  const vpcOf = new Int32Array(interfaceCount + 1).fill(-1)
  let longestPrimary = 0
  interfaces.forEach((entry, slot) => {
    const v4 = entry.primaryV4 === null ? null : spell(entry.primaryV4)
    const v6 = entry.primaryV6 === null ? null : spell(entry.primaryV6)
    primaryV4.push(v4)
    primaryV6.push(v6)
    longestPrimary = Math.max(longestPrimary, v4?.length ?? 0, v6?.length ?? 0)
    vpcOf[slot] = entry.vpcIndex
  })
  primaryV4.push(null)
  primaryV6.push(null)
  const cidrsOf: readonly (readonly Cidr[])[] = vpcCidrs
  const inVpc = (slot: number, words: Uint32Array, offset: number): boolean => {
    const cidrs = cidrsOf[vpcOf[slot]!]
    return cidrs !== undefined && insideAny(cidrs, words, offset)
  }

  const plan = planColumns(names, valueOfs, columnFields, spelling, (field) => {
    const table = (field.table?.(scope, ruleIds) ?? []).map(spell)
    if (field.kind === CONSTANT) return new Array<Uint8Array>(interfaceCount + 1).fill(table[0] ?? missing)
    if (field.kind === PER_INTERFACE) table.push(missing)
    return table
  })
  const { kinds, tables, before, absent, values, lineEnd, header } = plan
  const n = kinds.length
  const addressBytes = Math.max(MAX_ADDRESS_BYTES + 2 * spelling.addressQuote.length, longestPrimary)
  // The plan counts separators and tables; each other value is at most an address or a number.
  const lineBound = plan.lineBound + n * Math.max(addressBytes, MAX_NUMBER_BYTES)

  const count = selection === null ? batch.count : selection.length
  // A first guess; after some records the buffer grows to the size their average projects.
  let out: Buffer = Buffer.allocUnsafe((header?.length ?? 0) + Math.min(count, 1024) * lineBound + 64)
  let pos = header === null ? 0 : putBytes(out, 0, header)

  const { windowStart, windowEnd } = batch
  const { status: statuses, iface: ifaces, direction: directions, action: actions, cause: causes } = batch
  const { src, dst, srcPort, dstPort, protocol, packets, bytes, first, last, awsTcpFlags, nhnTcpFlags } =
    batch
  const addressNames = new AddressNames()
  for (let k = 0; k < count; k++) {
    const i = selection === null ? k : selection[k]!
    if (pos + lineBound > out.length) out = grow(out, pos, lineBound, k, count)
    const status = statuses[i]!
    const ok = status === OK
    const iface = ifaces[i]!
    const slot = iface >= 0 && iface < interfaceCount ? iface : interfaceCount
    const o = 4 * i
    const v4 = isV4Mapped(src, o)
    let record: FlowRecord | null = null
    for (let f = 0; f < n; f++) {
      const kind = kinds[f]!
      const table = tables[f]!
      switch (kind) {
        case PER_INTERFACE:
          pos = putBytes(out, pos, table[slot]!)
          continue
        case IP_TYPE:
          pos = putBytes(out, pos, ok ? table[v4 ? 0 : 1]! : absent[f]!)
          continue
        case ACTION_NAME:
          pos = putBytes(out, pos, ok ? table[actions[i] === ACTION.ACCEPT ? 0 : 1]! : absent[f]!)
          continue
        case LOG_STATUS_NAME:
          pos = putBytes(out, pos, table[status] ?? absent[f]!)
          continue
        case DIRECTION_NAME:
          pos = putBytes(out, pos, ok ? (table[directions[i]!] ?? absent[f]!) : absent[f]!)
          continue
        case RULE_ID: {
          const cause = causes[i]!
          pos = putBytes(out, pos, ok && cause >= 0 ? (table[cause] ?? absent[f]!) : absent[f]!)
          continue
        }
        case REJECT_DETAIL: {
          const cause = causes[i]!
          pos = putBytes(out, pos, ok && cause < 0 ? (table[-cause - 1] ?? absent[f]!) : absent[f]!)
          continue
        }
        case AWS_TRAFFIC_PATH: {
          const local = ok && directions[i] === EGRESS && inVpc(slot, dst, o)
          pos = putBytes(out, pos, local ? table[0]! : absent[f]!)
          continue
        }
        case NHN_TRAFFIC_PATH: {
          const direction = directions[i]!
          const local = ok && direction !== UNKNOWN && inVpc(slot, direction === EGRESS ? dst : src, o)
          pos = putBytes(out, pos, local ? table[0]! : absent[f]!)
          continue
        }
      }
      // Written value by value: not applicable (flow fields of status records, NODATA's counts),
      // else the separator, then the value.
      if ((!ok && kind <= NHN_TCP_FLAGS) || (status === NODATA && (kind === PACKETS || kind === BYTES))) {
        pos = putBytes(out, pos, absent[f]!)
        continue
      }
      pos = putBytes(out, pos, before[f]!)
      switch (kind) {
        case SRC_ADDR:
        case DST_ADDR: {
          // AWS's interface view: the interface's own side shows its primary address of the family.
          const primary =
            directions[i] === (kind === SRC_ADDR ? EGRESS : INGRESS)
              ? v4
                ? primaryV4[slot]!
                : primaryV6[slot]!
              : null
          if (primary !== null) {
            pos = putBytes(out, pos, primary)
            break
          }
          if (quote !== 0) out[pos++] = quote
          pos = putAddress(out, pos, kind === SRC_ADDR ? src : dst, o)
          if (quote !== 0) out[pos++] = quote
          break
        }
        case PKT_SRC_ADDR:
        case PKT_DST_ADDR:
          if (quote !== 0) out[pos++] = quote
          pos = putAddress(out, pos, kind === PKT_SRC_ADDR ? src : dst, o)
          if (quote !== 0) out[pos++] = quote
          break
        case SRC_PORT:
          pos = putNumber(out, pos, srcPort[i]!)
          break
        case DST_PORT:
          pos = putNumber(out, pos, dstPort[i]!)
          break
        case PROTOCOL:
          pos = putNumber(out, pos, protocol[i]!)
          break
        case AWS_TCP_FLAGS:
          pos = putNumber(out, pos, awsTcpFlags[i]!)
          break
        case NHN_TCP_FLAGS:
          pos = putNumber(out, pos, nhnTcpFlags[i]!)
          break
        // SKIPDATA carries what it could not track.
        case PACKETS:
          pos = putNumber(out, pos, packets[i]!)
          break
        case BYTES:
          pos = putNumber(out, pos, bytes[i]!)
          break
        case SKIPPED_PACKETS:
          pos = putNumber(out, pos, status === SKIPDATA ? packets[i]! : 0)
          break
        case SKIPPED_BYTES:
          pos = putNumber(out, pos, status === SKIPDATA ? bytes[i]! : 0)
          break
        // field-values.ts `seconds` and `milliseconds`; status records span the window.
        case START:
          pos = putNumber(out, pos, seconds(ok ? first[i]! : windowStart, windowStart, windowEnd))
          break
        case END:
          pos = putNumber(out, pos, seconds(ok ? last[i]! : windowEnd, windowStart, windowEnd))
          break
        case START_MS:
          pos = putNumber(out, pos, milliseconds(ok ? first[i]! : windowStart, windowStart, windowEnd))
          break
        case END_MS:
          pos = putNumber(out, pos, milliseconds(ok ? last[i]! : windowEnd, windowStart, windowEnd))
          break
        default: {
          record ??= recordAt(batch, i, interfaces, ruleIds, addressNames)
          const value = values[f]!(record, scope)
          if (value == null) {
            pos = putBytes(out, pos, missing)
          } else if (typeof value === 'number') {
            pos = putNumber(out, pos, value)
          } else {
            const text = spelling.text(value)
            // UTF-8 takes at most 3 bytes per UTF-16 code unit.
            const need = 3 * text.length + lineBound
            if (pos + need > out.length) out = grow(out, pos, need, k, count)
            pos += out.write(text, pos, 'utf8')
          }
        }
      }
    }
    pos = putBytes(out, pos, lineEnd)
  }
  return out.subarray(0, pos)
}

/**
 * The operations of a file's line. Separators go into the spelled tables, and adjacent per-file
 * and per-interface fields (version, account, interface id, ...: most of a line) become one
 * per-interface string: fewer, longer copies per record.
 */
function planColumns(
  names: readonly string[],
  valueOfs: readonly ValueOf[],
  columnFields: ReadonlyMap<string, ColumnField>,
  spelling: Spelling,
  spelledTable: (field: ColumnField) => Uint8Array[],
): ColumnPlan {
  const kinds: number[] = []
  const tables: Uint8Array[][] = []
  const before: Uint8Array[] = []
  const absent: Uint8Array[] = []
  const values: (ValueOf | null)[] = []
  const missing = bytesOf(spelling.missing)
  let lineBound = 0
  names.forEach((name, f) => {
    const field = columnFields.get(name) ?? { kind: FALLBACK }
    const separator = bytesOf(spelling.before(name, f))
    const prefixed = spelledTable(field).map((value) => Buffer.concat([separator, value]))
    const kind = field.kind === CONSTANT ? PER_INTERFACE : field.kind
    const last = kinds.length - 1
    if (kind === PER_INTERFACE && kinds[last] === PER_INTERFACE) {
      tables[last] = tables[last]!.map((head, slot) => Buffer.concat([head, prefixed[slot]!]))
    } else {
      kinds.push(kind)
      tables.push(prefixed)
      before.push(separator)
      absent.push(Buffer.concat([separator, missing]))
      values.push(kind === FALLBACK ? (valueOfs[f] ?? null) : null)
    }
    let widest = separator.length + missing.length
    for (const value of prefixed) widest = Math.max(widest, value.length)
    lineBound += widest
  })
  const header = spelling.header(names)
  const lineEnd = bytesOf(spelling.lineEnd(names.length))
  return {
    kinds: Int32Array.from(kinds),
    tables,
    before,
    absent,
    values,
    lineEnd,
    lineBound: lineBound + lineEnd.length,
    header: header === null ? null : bytesOf(`${header}\n`),
  }
}

function seconds(time: number, windowStart: number, windowEnd: number): number {
  return Math.min(Math.max(Math.floor(time), windowStart), windowEnd - 1)
}

function milliseconds(time: number, windowStart: number, windowEnd: number): number {
  return Math.min(Math.max(Math.floor(time * 1000 + 0.0005), windowStart * 1000), windowEnd * 1000 - 1)
}

/**
 * A larger buffer holding the first `pos` bytes: the size the average line so far projects for
 * the whole file (one grow for most files), at least 1.25 times the old one. Pages never written
 * cost no memory, so the projection's margin is cheap; a copy of a whole file would not be.
 */
function grow(out: Buffer, pos: number, need: number, done: number, count: number): Buffer {
  const projected = done === 0 ? 0 : Math.ceil((pos / done) * count * 1.1)
  const size = Math.max(projected, Math.ceil(out.length * 1.25), pos + need) + need
  const larger = Buffer.allocUnsafe(size)
  out.copy(larger, 0, 0, pos)
  return larger
}
