import type { PacketView } from '../core/packet-view.js'
import { ACTION } from '../core/verdict.js'
import type { FlowTable } from './flow-table.js'
import { AWS_TCP_FLAGS, NHN_TCP_FLAGS } from './tcp-flags.js'
import { KEY_WORDS, recordMeta, TIME_BITS, TIME_MASK } from './window-records.js'

/**
 * A tracked connection's flow records of its current window, kept in its connection entry (the
 * words after the key, see policy/connection-tracker.ts), so a packet of a tracked connection costs
 * one hash lookup, not one in the tracker and another in the flow table.
 *
 * An entry counts for one window and one flow table (the pipeline's first interval) at a time, a
 * side per packet direction: from the local side (src = local) and from the remote side. A side
 * holds what a flow record holds: its key's first word (interface, protocol, direction, action)
 * and ports, packets, bytes, first/last time and both clouds' TCP flags, laid out as in
 * window-records.ts, and the record's cause is the entry's. The side's record goes into the flow
 * table (flush) when a packet of a later window arrives, when the entry ends or is re-judged, and
 * for every entry when the window closes (flushBelow): a record is thus made once per connection
 * and window instead of touched per packet.
 *
 * A packet that does not fit (an older, still open window; a side whose record differs: another
 * direction, an ICMP type; no room left in the flow table) is not counted here: the caller adds
 * it to the flow table as before, which keeps every record's semantics (late packets, SKIPDATA,
 * several records per connection and window).
 */

/** Offsets in an entry (from its base). Words 14-15: the window counted and a spare. */
const WINDOW = 14
/** The side of packets from the local address, then the side of packets to it. */
const FROM_LOCAL = 16
const FROM_REMOTE = 24
/** Offsets within a side: the record's first key word (0 = not counting), ports, packets, times. */
const META = 0
const PORTS = 1
const PACKETS = 2
const FIRST = 3
const LAST = 4
/** Bytes as a float64: words 6-7 of the side (float64 index 3 of the side's 4). */
const BYTES_F64 = 3

/** Where a tracker entry keeps its key (connection-tracker.ts): iface << 8 | protocol, ports, local ×4, remote ×4. */
const KEY = 4
const CAUSE = 1

/** The connection table whose entries hold the counters (ConnectionTracker). */
export interface CountingEntries {
  /** One tag per slot; a live entry's has state LIVE_TAG in its low bits (TAG_STATE_MASK). */
  readonly entryTags: Uint32Array
  /** The entries' records, RECORD_WORDS words per slot, and the same as float64. */
  readonly entryWords: Uint32Array
  readonly entryNumbers: Float64Array
}

/** Slot tags of the connection table (connection-tracker.ts): the state bits, and LIVE. */
const TAG_STATE_MASK = 3
const LIVE_TAG = 1
const RECORD_WORDS = 32

export class ConnectionWindows {
  /** Packets counted in entries (for tests and the summary's curiosity). */
  counted = 0
  private readonly probe = new Uint32Array(KEY_WORDS)
  private readonly interval: number

  constructor(
    readonly table: FlowTable,
    private readonly entries: CountingEntries,
  ) {
    this.interval = table.interval
  }

  /**
   * Moves every entry's records of windows below `window` into the flow table: the table calls
   * it before it closes them (FlowTable.setBeforeClose). Infinity: every record.
   */
  flushBelow(window: number): void {
    // One tight loop over the compact tags (no callback per entry): it runs once per window over
    // the whole table, and soon enough to be optimized.
    const tags = this.entries.entryTags
    const words = this.entries.entryWords
    const numbers = this.entries.entryNumbers
    for (let slot = 0, base = 0; slot < tags.length; slot++, base += RECORD_WORDS) {
      if ((tags[slot]! & TAG_STATE_MASK) !== LIVE_TAG) continue
      if (words[base + FROM_LOCAL + META] === 0 && words[base + FROM_REMOTE + META] === 0) continue
      if (words[base + WINDOW]! < window) this.flush(words, numbers, base)
    }
  }

  /**
   * Counts one accepted packet of the entry at `base` into its side's record of `window` (which
   * the table admitted: not closed). Returns false when the packet does not fit the entry's
   * counters: the caller adds it to the flow table.
   */
  count(
    words: Uint32Array,
    numbers: Float64Array,
    base: number,
    fromLocal: boolean,
    iface: number,
    direction: number,
    view: PacketView,
    time: number,
    window: number,
  ): boolean {
    const other = base + (fromLocal ? FROM_REMOTE : FROM_LOCAL)
    const side = base + (fromLocal ? FROM_LOCAL : FROM_REMOTE)
    if (words[side + META] !== 0 || words[other + META] !== 0) {
      const counting = words[base + WINDOW]!
      if (window !== counting) {
        // An older window still open: its packet goes to the flow table directly.
        if (window < counting) return false
        this.flush(words, numbers, base)
      }
    }
    const meta = recordMeta(iface, view.protocol, direction, ACTION.ACCEPT)
    const ports = ((view.srcPort << 16) | view.dstPort) >>> 0
    const ms = Math.floor(time * 1000 + 0.0005) - window * this.interval * 1000
    let first: number
    let last: number
    const have = words[side + META]!
    if (have === 0) {
      if (!this.table.reserve()) return false
      words[base + WINDOW] = window
      words[side + META] = meta
      words[side + PORTS] = ports
      words[side + PACKETS] = 1
      numbers[(side >>> 1) + BYTES_F64] = view.ipLength
      first = ms
      last = ms
    } else {
      if (have !== meta || words[side + PORTS] !== ports) return false
      words[side + PACKETS]!++
      numbers[(side >>> 1) + BYTES_F64]! += view.ipLength
      first = words[side + FIRST]!
      last = words[side + LAST]!
      if (ms < (first & TIME_MASK)) first = (first & ~TIME_MASK) | ms
      if (ms > (last & TIME_MASK)) last = (last & ~TIME_MASK) | ms
    }
    const flags = view.tcpFlags
    if (flags !== 0) {
      first |= AWS_TCP_FLAGS[flags]! << TIME_BITS
      last |= NHN_TCP_FLAGS[flags]! << TIME_BITS
    }
    words[side + FIRST] = first >>> 0
    words[side + LAST] = last >>> 0
    this.counted++
    return true
  }

  /** Moves the entry's counted records (both sides) into the flow table's window, and clears them. */
  flush(words: Uint32Array, numbers: Float64Array, base: number): void {
    if (words[base + FROM_LOCAL + META] !== 0) this.flushSide(words, numbers, base, FROM_LOCAL)
    if (words[base + FROM_REMOTE + META] !== 0) this.flushSide(words, numbers, base, FROM_REMOTE)
  }

  private flushSide(words: Uint32Array, numbers: Float64Array, base: number, at: number): void {
    const side = base + at
    const k = this.probe
    k[0] = words[side + META]!
    // The record's src is the sender: the local address for the local side's packets.
    const src = base + KEY + (at === FROM_LOCAL ? 2 : 6)
    const dst = base + KEY + (at === FROM_LOCAL ? 6 : 2)
    for (let w = 0; w < 4; w++) {
      k[1 + w] = words[src + w]!
      k[5 + w] = words[dst + w]!
    }
    k[9] = words[side + PORTS]!
    this.table.addCounted(
      words[base + WINDOW]!,
      k,
      words[side + PACKETS]!,
      numbers[(side >>> 1) + BYTES_F64]!,
      words[side + FIRST]!,
      words[side + LAST]!,
      words[base + CAUSE]! | 0,
    )
    words[side + META] = 0
  }
}
